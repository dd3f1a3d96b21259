"""Calls from Rasa to the action server without Rasa 3.6's per-call overheads.

Every custom action, form validation (``validate_<form>``) and custom slot
mapping is one HTTP call from Rasa's process to the action server. Measured on
this project's machine (2 cores; docs/rasa_bot.md, "Custom actions"), two
costs of Rasa 3.6.21 made a turn that starts a form 40-60 ms slower than one
answered from the domain:

* **The response check re-checks its own schema.**
  ``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result,
  schema)``, which first validates the (constant) response schema against the
  JSON Schema 2020-12 meta-schema, for every response: about 30 ms of CPU per
  call (py-spy: 54 % of the Rasa server's time on a loop of form turns), while
  checking the response itself takes 0.5 ms. :func:`install_response_check`
  replaces the method with one that checks every response against the same
  schema with a validator built (and its schema checked) once: the same
  errors, the same message Rasa adds to them.
* **A new HTTP client and TCP connection per call.** ``EndpointConfig.request``
  opens an ``aiohttp.ClientSession`` for each call and closes it after.
  :class:`ActionServerSession` lends the action endpoint one session whose
  connections are kept alive, and closes it when the server stops.

The project's socket.io channel installs both when the server starts
(``fast_action_calls``, on by default; ``channels/secure_socketio.py``).
"""

from __future__ import annotations

import functools
import itertools
import logging
from types import TracebackType
from typing import Any

import aiohttp
import rasa
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

#: Seconds an idle connection to the action server stays open. Below the action server's own
#: keep-alive limit (Sanic's KEEP_ALIVE_TIMEOUT, 5 s), so Rasa never sends a call on a connection
#: the server is closing at that very moment.
KEEPALIVE_SECONDS = 2.0


# -- the response check ------------------------------------------------------------------------
_RASA_RESPONSE_CHECK = RemoteAction._validate_action_result


@functools.cache
def response_validator() -> Validator:
    """A validator for Rasa's action-server response schema, its schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # what jsonschema.validate does on every call
    return cls(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with a prebuilt validator: same checks, same errors."""
    error = best_match(response_validator().iter_errors(result))  # jsonschema.validate, less check_schema
    if error is not None:
        error.message += (  # the text Rasa 3.6.21 adds
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install_response_check() -> bool:
    """Make Rasa check action-server responses with :func:`validate_action_result`. False if already done."""
    if RemoteAction._validate_action_result is validate_action_result:
        return False
    response_validator()  # build it now, not during the first conversation's turn
    RemoteAction._validate_action_result = validate_action_result
    return True


def uninstall_response_check() -> None:
    """Give Rasa its own response check back (tests)."""
    RemoteAction._validate_action_result = _RASA_RESPONSE_CHECK


# -- one HTTP session for the action server -------------------------------------------------------
class _Lent:
    """``async with`` hands out the shared session and leaves it open (Rasa closes what it opened)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class ActionServerSession:
    """One ``aiohttp`` session, with kept-alive connections, for every call to the action server.

    Rasa 3.6's ``EndpointConfig.request`` does ``async with self.session() as
    session`` for each call. :meth:`attach` gives the action endpoint (the
    ``EndpointConfig`` instance that Rasa hands every ``RemoteAction`` and form)
    a ``session()`` that lends this object's session instead; nothing else
    changes: the same headers, basic auth, request timeout and error handling.
    The session is made on first use, inside the server's event loop, and made
    again if it was closed; :meth:`close` closes it (the channel does so when the
    server stops). No cap on connections, as before: each call in flight has one.
    """

    def __init__(self, endpoint: EndpointConfig, keepalive_seconds: float = KEEPALIVE_SECONDS) -> None:
        self.endpoint = endpoint
        self.keepalive_seconds = keepalive_seconds
        self._session: aiohttp.ClientSession | None = None
        self.opened = 0  # sessions made so far (tests, logs)

    def _new_session(self) -> aiohttp.ClientSession:
        basic = self.endpoint.basic_auth
        self.opened += 1
        return aiohttp.ClientSession(  # as EndpointConfig.session(), plus a connection pool
            headers=self.endpoint.headers,
            auth=aiohttp.BasicAuth(basic["username"], basic["password"]) if basic else None,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=self.keepalive_seconds),
        )

    def session(self) -> _Lent:
        """What ``EndpointConfig.request`` enters: the shared session, left open on exit."""
        if self._session is None or self._session.closed:
            self._session = self._new_session()
        return _Lent(self._session)

    def attach(self) -> None:
        """Make the endpoint's calls use this session."""
        self.endpoint.session = self.session  # type: ignore[method-assign]  # this instance only

    def detach(self) -> None:
        """Give the endpoint Rasa's own session-per-call back."""
        self.endpoint.__dict__.pop("session", None)

    @property
    def is_open(self) -> bool:
        return self._session is not None and not self._session.closed

    async def close(self) -> None:
        """Close the session and its connections (a later call opens a new one)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def attached_session(endpoint: EndpointConfig | None) -> ActionServerSession | None:
    """The :class:`ActionServerSession` attached to ``endpoint``, if any."""
    lent = getattr(endpoint, "__dict__", {}).get("session") if endpoint is not None else None
    owner = getattr(lent, "__self__", None)
    return owner if isinstance(owner, ActionServerSession) else None


def share_action_session(agent: Any) -> ActionServerSession | None:
    """Attach one :class:`ActionServerSession` to ``agent``'s action endpoint (None without an endpoint).

    The agent and its processor hold the same ``EndpointConfig``; a model loaded
    later through Rasa's HTTP API keeps it, so it keeps the shared session too.
    """
    endpoint = getattr(agent, "action_endpoint", None)
    if endpoint is None or not getattr(endpoint, "url", None):
        return None
    shared = attached_session(endpoint)
    if shared is None:
        shared = ActionServerSession(endpoint)
        shared.attach()
    processor = getattr(agent, "processor", None)
    if processor is not None and processor.action_endpoint is not endpoint and processor.action_endpoint is not None:
        logger.warning("the processor has its own action endpoint; its calls keep Rasa's session per call")
    return shared


# -- the recent turns, not the whole conversation ------------------------------------------------
#: How many of the latest user turns an action is sent (the events from the turn's user message on).
HISTORY_TURNS = 3
#: Actions that read the whole conversation (``tracker.events``) and are sent every event: the hand-over
#: writes the transcript a colleague reads.
FULL_HISTORY_ACTIONS = frozenset({"action_handoff"})
_WINDOW = "recent_turns"  # the attribute of an EndpointConfig that holds its window
_RASA_CALL_FORMAT = RemoteAction._action_call_format


class HistoryWindow:
    """What an endpoint's actions are sent: events of the last ``turns`` user turns, except ``full`` actions."""

    def __init__(self, turns: int = HISTORY_TURNS, full: frozenset[str] = FULL_HISTORY_ACTIONS) -> None:
        if turns < 1:
            raise ValueError(f"turns must be at least 1, not {turns}")
        self.turns = turns
        self.full = frozenset(full)


def recent_events(tracker: DialogueStateTracker, turns: int) -> list[Event]:
    """The events from the ``turns``-th latest user message on (all events when there are fewer)."""
    events = tracker.events
    start, seen = 0, 0
    for index, event in zip(range(len(events) - 1, -1, -1), reversed(events), strict=True):
        if isinstance(event, UserUttered):
            seen += 1
            if seen == turns:
                start = index
                break
    return list(itertools.islice(events, start, None))


def windowed_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """``RemoteAction._action_call_format`` (Rasa 3.6.21) sending only the recent turns' events.

    Everything else of the request is Rasa's: the tracker's slots, latest message, active loop, latest
    action, paused flag and input channel (all worked out from the whole conversation), the domain.
    """
    window = getattr(self.action_endpoint, "__dict__", {}).get(_WINDOW)
    if window is None or self.name() in window.full:
        return _RASA_CALL_FORMAT(self, tracker, domain)
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in recent_events(tracker, window.turns)]
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state, "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


def window_action_history(agent: Any, window: HistoryWindow) -> bool:
    """Send ``agent``'s custom actions only the recent turns (``window``). False without an action endpoint.

    Rasa sends every event of the conversation with every call (``EventVerbosity.ALL``): JSON that grows
    with the conversation, encoded by Rasa and decoded by the action server for each custom action and
    form validation. Actions of this project read the slots and the latest message, which are sent
    whole, and the events of the current turn (rasa-sdk's ``slots_to_validate``); only those in
    ``window.full`` read further back and get everything. The window is set on the endpoint, so it
    holds for this agent only.
    """
    endpoint = getattr(agent, "action_endpoint", None)
    if endpoint is None or not getattr(endpoint, "url", None):
        return False
    endpoint.__dict__[_WINDOW] = window
    RemoteAction._action_call_format = windowed_call_format
    return True
