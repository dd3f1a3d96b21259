"""Calls to the action server: the prebuilt response check and the shared HTTP session (issue 13)."""

from __future__ import annotations

import asyncio
import copy
from types import SimpleNamespace
from unittest import mock

import aiohttp
import pytest
from aiohttp import web
from jsonschema.exceptions import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from launcher.services import free_port
from rasa_bot.channels import action_calls
from rasa_bot.channels.secure_socketio import SecureSocketIOInput

KEY = "k" * 40
GOOD = [
    {"events": [], "responses": []},
    {},
    {
        "events": [
            {"event": "slot", "timestamp": None, "name": "order_id", "value": "12345"},
            {"event": "active_loop", "name": "cancel_order_form"},
        ],
        "responses": [{"text": "Order 12345 is shipped.", "buttons": [{"title": "Yes", "payload": "/affirm"}]}],
    },
]
BAD = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},  # a slot event without its name
    {"responses": ["not an object"]},
    {"events": [{"event": "slot", "name": "order_id", "value": "1"}], "responses": {"text": "x"}},
    [],
]


@pytest.fixture
def rasa_check():
    """Rasa's own check, whatever an earlier test installed."""
    action_calls.uninstall_response_check()
    yield
    action_calls.uninstall_response_check()


@pytest.mark.parametrize("result", GOOD)
def test_prebuilt_check_accepts_what_rasa_accepts(rasa_check, result):
    action = RemoteAction("action_x", None)
    assert action._validate_action_result(copy.deepcopy(result)) is True
    assert action_calls.validate_action_result(action, copy.deepcopy(result)) is True


@pytest.mark.parametrize("result", BAD)
def test_prebuilt_check_refuses_what_rasa_refuses_with_the_same_error(rasa_check, result):
    action = RemoteAction("action_x", None)
    with pytest.raises(ValidationError) as rasa_error:
        action._validate_action_result(copy.deepcopy(result))
    with pytest.raises(ValidationError) as ours:
        action_calls.validate_action_result(action, copy.deepcopy(result))
    assert ours.value.message == rasa_error.value.message
    assert ours.value.message.endswith("/custom-actions")
    assert list(ours.value.path) == list(rasa_error.value.path)
    assert ours.value.validator == rasa_error.value.validator


def test_the_schema_is_checked_once_not_per_response(rasa_check):
    action_calls.response_validator.cache_clear()
    cls = validator_for(RemoteAction.action_response_format_spec())
    with mock.patch.object(cls, "check_schema", wraps=cls.check_schema) as check_schema:
        assert action_calls.install_response_check() is True
        for _ in range(5):
            RemoteAction("action_x", None)._validate_action_result(copy.deepcopy(GOOD[2]))
    assert check_schema.call_count == 1  # Rasa's own check: once per response


def test_install_is_idempotent_and_reversible(rasa_check):
    original = RemoteAction._validate_action_result
    assert action_calls.install_response_check() is True
    assert action_calls.install_response_check() is False
    assert RemoteAction._validate_action_result is action_calls.validate_action_result
    action_calls.uninstall_response_check()
    assert RemoteAction._validate_action_result is original


# -- the shared session, against a real HTTP server on loopback ---------------------------------------
class EchoServer:
    """An aiohttp server that answers like an action server and counts the TCP connections it accepted."""

    def __init__(self) -> None:
        self.peers: list[tuple] = []
        self.headers: list[dict] = []
        self.runner: web.AppRunner | None = None
        self.port = free_port()

    async def webhook(self, request: web.Request) -> web.Response:
        self.peers.append(request.transport.get_extra_info("peername"))
        self.headers.append(dict(request.headers))
        body = await request.json()
        answer = {"events": [], "responses": [{"text": body["next_action"]}], "q": request.query_string}
        return web.json_response(answer)

    async def __aenter__(self) -> EchoServer:
        app = web.Application()
        app.router.add_post("/webhook", self.webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"


def test_rasa_opens_a_connection_per_call_the_shared_session_one_for_all():
    async def scenario() -> tuple[int, int, list[str]]:
        async with EchoServer() as server:
            endpoint = EndpointConfig(server.url)
            for _ in range(3):
                await endpoint.request(json={"next_action": "a"}, method="post")
            rasas = len(set(server.peers))
            server.peers.clear()
            shared = action_calls.ActionServerSession(endpoint)
            shared.attach()
            answers = [await endpoint.request(json={"next_action": f"a{i}"}, method="post") for i in range(5)]
            assert shared.is_open and shared.opened == 1
            await shared.close()
            assert not shared.is_open
            return rasas, len(set(server.peers)), [a["responses"][0]["text"] for a in answers]

    rasas, ours, texts = asyncio.run(scenario())
    assert rasas == 3  # Rasa 3.6: a new session, a new connection, every call
    assert ours == 1  # five calls, one kept-alive connection
    assert texts == [f"a{i}" for i in range(5)]


def test_shared_session_keeps_the_endpoints_headers_auth_and_token():
    async def scenario() -> tuple[dict, str]:
        async with EchoServer() as server:
            endpoint = EndpointConfig(
                server.url, headers={"X-Test": "1"}, basic_auth={"username": "u", "password": "p"}, token="t0k"
            )
            shared = action_calls.ActionServerSession(endpoint)
            shared.attach()
            answer = await endpoint.request(json={"next_action": "a"}, method="post")
            await shared.close()
            return server.headers[-1], answer["q"]

    headers, query = asyncio.run(scenario())
    assert headers["X-Test"] == "1"
    assert headers["Authorization"] == aiohttp.BasicAuth("u", "p").encode()
    assert headers["Content-Type"] == "application/json"
    assert query == "token=t0k"


def test_a_closed_session_is_made_again_and_detach_gives_rasa_its_own_back():
    async def scenario() -> int:
        async with EchoServer() as server:
            endpoint = EndpointConfig(server.url)
            shared = action_calls.ActionServerSession(endpoint)
            shared.attach()
            assert action_calls.attached_session(endpoint) is shared
            await endpoint.request(json={"next_action": "a"}, method="post")
            await shared.close()
            await endpoint.request(json={"next_action": "b"}, method="post")  # after a close: a new session
            assert shared.opened == 2
            await shared.close()
            shared.detach()
            assert action_calls.attached_session(endpoint) is None
            assert isinstance(endpoint.session(), aiohttp.ClientSession)  # Rasa's method again
            await endpoint.request(json={"next_action": "c"}, method="post")
            return shared.opened

    assert asyncio.run(scenario()) == 2


def test_a_server_gone_while_idle_is_an_error_on_the_next_call_and_fine_after_it_returns():
    async def scenario() -> list[str]:
        outcomes = []
        async with EchoServer() as server:
            endpoint = EndpointConfig(server.url)
            shared = action_calls.ActionServerSession(endpoint)
            shared.attach()
            await endpoint.request(json={"next_action": "a"}, method="post")
            await server.runner.cleanup()  # the action server stops; the kept-alive connection dies with it
            try:
                await endpoint.request(json={"next_action": "b"}, method="post")
            except aiohttp.ClientConnectionError as exc:  # what Rasa turns into "couldn't connect"
                outcomes.append(type(exc).__name__)
            await server.runner.setup()
            await web.TCPSite(server.runner, "127.0.0.1", server.port).start()
            answer = await endpoint.request(json={"next_action": "c"}, method="post")
            outcomes.append(answer["responses"][0]["text"])
            await shared.close()
        return outcomes

    outcomes = asyncio.run(scenario())
    assert outcomes[0].startswith("Client")
    assert outcomes[-1] == "c"


# -- the channel installs both at start and closes the session at stop -------------------------------------
def listeners(channel: SecureSocketIOInput) -> dict[str, object]:
    blueprint = channel.blueprint(lambda message: None)
    return {future.event: future.listener for future in blueprint._future_listeners}


def test_the_channel_installs_the_action_calls_at_start_and_closes_the_session_at_stop(rasa_check):
    async def scenario() -> tuple[bool, bool, bool]:
        async with EchoServer() as server:
            endpoint = EndpointConfig(server.url)
            agent = SimpleNamespace(action_endpoint=endpoint, processor=None, is_ready=lambda: False)
            app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
            channel = SecureSocketIOInput.from_credentials({"jwt_key": KEY})
            found = listeners(channel)
            await found["after_server_start"](app, None)
            installed = RemoteAction._validate_action_result is action_calls.validate_action_result
            await endpoint.request(json={"next_action": "a"}, method="post")
            shared = action_calls.attached_session(endpoint)
            was_open = shared is not None and shared.is_open
            await found["after_server_stop"](app, None)
            return installed, was_open, shared.is_open

    installed, was_open, still_open = asyncio.run(scenario())
    assert installed and was_open and not still_open


def test_the_action_calls_can_be_turned_off_in_credentials(rasa_check):
    async def scenario() -> tuple[bool, object]:
        endpoint = EndpointConfig("http://127.0.0.1:9/webhook")
        agent = SimpleNamespace(action_endpoint=endpoint, processor=None, is_ready=lambda: False)
        channel = SecureSocketIOInput.from_credentials(
            {"jwt_key": KEY, "fast_action_response_check": "false", "keep_action_connections": "false"}
        )
        await listeners(channel)["after_server_start"](SimpleNamespace(ctx=SimpleNamespace(agent=agent)), None)
        return RemoteAction._validate_action_result is action_calls.validate_action_result, (
            action_calls.attached_session(endpoint)
        )

    installed, shared = asyncio.run(scenario())
    assert not installed and shared is None


# -- the recent turns ------------------------------------------------------------------------------


def conversation_tracker(turns: int):
    """A tracker of ``turns`` user messages, each answered, a slot set on the way."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.slots import TextSlot
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker("t", [TextSlot("order_id", mappings=[{}])])
    tracker.update(ActionExecuted("action_listen"))
    for n in range(turns):
        tracker.update(UserUttered(f"message {n}", {"name": "greet", "confidence": 1.0}))
        tracker.update(SlotSet("order_id", str(n)))
        tracker.update(ActionExecuted("utter_greet"))
        tracker.update(BotUttered(f"answer {n}"))
        tracker.update(ActionExecuted("action_listen"))
    return tracker


def test_recent_events_start_at_the_kth_latest_user_message():
    tracker = conversation_tracker(10)
    events = action_calls.recent_events(tracker, 3)
    assert [e.text for e in events if e.type_name == "user"] == ["message 7", "message 8", "message 9"]
    assert events[0].type_name == "user" and events == list(tracker.events)[-15:]
    assert action_calls.recent_events(conversation_tracker(2), 3) == list(conversation_tracker(2).events)
    assert action_calls.recent_events(conversation_tracker(0), 3) == list(conversation_tracker(0).events)


def remote(name: str, endpoint: EndpointConfig) -> RemoteAction:
    return RemoteAction(name, endpoint)


def test_windowed_request_is_rasas_but_for_the_events_and_full_actions_get_all():
    from rasa.shared.core.domain import Domain

    domain = Domain.from_dict({"intents": ["greet"], "actions": ["action_x", "action_handoff"]})
    tracker = conversation_tracker(40)
    endpoint = EndpointConfig(url="http://127.0.0.1:1/webhook")
    rasas = action_calls._RASA_CALL_FORMAT(remote("action_x", endpoint), tracker, domain)
    agent = SimpleNamespace(action_endpoint=endpoint)
    try:
        assert action_calls.window_action_history(agent, action_calls.HistoryWindow(2))
        ours = RemoteAction._action_call_format(remote("action_x", endpoint), tracker, domain)
        handoff = RemoteAction._action_call_format(remote("action_handoff", endpoint), tracker, domain)
        other = RemoteAction._action_call_format(remote("action_x", EndpointConfig(url="http://x")), tracker, domain)
    finally:
        RemoteAction._action_call_format = action_calls._RASA_CALL_FORMAT
    assert len(rasas["tracker"]["events"]) == 201
    assert ours["tracker"]["events"] == rasas["tracker"]["events"][-10:]
    assert {k: v for k, v in ours["tracker"].items() if k != "events"} == {
        k: v for k, v in rasas["tracker"].items() if k != "events"
    }
    assert {k: v for k, v in ours.items() if k != "tracker"} == {k: v for k, v in rasas.items() if k != "tracker"}
    assert ours["tracker"]["slots"]["order_id"] == "39"
    assert handoff["tracker"] == rasas["tracker"]  # the transcript needs every event
    assert other["tracker"] == rasas["tracker"]  # another agent's endpoint has no window


def test_the_window_is_a_channel_option():
    assert SecureSocketIOInput.from_credentials({"jwt_key": KEY}).action_window.turns == action_calls.HISTORY_TURNS
    off = SecureSocketIOInput.from_credentials({"jwt_key": KEY, "action_history_turns": 0})
    assert off.action_window is None
    custom = SecureSocketIOInput.from_credentials(
        {"jwt_key": KEY, "action_history_turns": "5", "full_history_actions": "action_a, action_b"}
    )
    assert (custom.action_window.turns, custom.action_window.full) == (5, {"action_a", "action_b"})
    with pytest.raises(ValueError, match="action_history_turns"):
        SecureSocketIOInput.from_credentials({"jwt_key": KEY, "action_history_turns": -1})
    with pytest.raises(ValueError, match="at least 1"):
        action_calls.HistoryWindow(0)
