"""A real socket.io client that gets its token the way the chat page does."""

from __future__ import annotations

import queue
from dataclasses import dataclass

import requests
import socketio


@dataclass
class Token:
    token: str
    session_id: str
    expires_at: int


def fetch_token(site_url: str, http: requests.Session | None = None, bot: str | None = None) -> Token:
    """Get a token as widget.js does: the page (or, for ``bot``, its widget.json: CSRF cookie), then a POST.

    Without ``bot``: the default bot's full page and ``/chat/token``; with it, that bot's endpoints.
    """
    http = http or requests.Session()
    page = http.get(f"{site_url}/" if bot is None else f"{site_url}/chat/{bot}/widget.json", timeout=10)
    page.raise_for_status()
    resp = http.post(
        f"{site_url}/chat/token" if bot is None else f"{site_url}/chat/{bot}/token",
        headers={"X-CSRFToken": http.cookies["csrftoken"], "Referer": f"{site_url}/"},
        timeout=10,
    )
    resp.raise_for_status()
    body = resp.json()
    return Token(body["token"], body["session_id"], body["expires_at"])


class ChatClient:
    """A socket.io conversation with Rasa: connect with a JWT, join a session, exchange messages."""

    def __init__(self, rasa_url: str, origin: str | None = None) -> None:
        """``origin``: the page's origin, sent as a browser would (Rasa refuses origins not configured)."""
        self.rasa_url = rasa_url
        self.origin = origin
        # websocket-client sends the target URL as Origin unless told otherwise; a browser sends the page's.
        extra = {"origin": origin} if origin else {}
        self.sio = socketio.Client(reconnection=False, handle_sigint=False, websocket_extra_options=extra)
        self.replies: queue.Queue[dict] = queue.Queue()
        self.confirmed: queue.Queue[str] = queue.Queue()
        self.done: queue.Queue[dict] = queue.Queue()
        self.sio.on("bot_uttered", self.replies.put)
        self.sio.on("bot_done", self.done.put)
        self.sio.on("session_confirm", self.confirmed.put)

    def connect(self, token: str | None, session_id: str, timeout: float = 10) -> None:
        """Connect (raises ``socketio.exceptions.ConnectionError`` if refused) and join ``session_id``."""
        auth = {"token": token} if token is not None else None
        self.sio.connect(self.rasa_url, auth=auth, transports=["websocket"], wait_timeout=timeout)
        self.sio.emit("session_request", {"session_id": session_id})
        self.confirmed.get(timeout=timeout)
        self.session_id = session_id

    def ask(self, text: str, timeout: float = 20) -> dict:
        """Send a message; return the bot's first reply once Rasa has finished with the message.

        The channel's ``bot_done`` comes after the tracker is saved, so a test
        may read the tracker store right after this returns.
        """
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
        reply = self.replies.get(timeout=timeout)
        self.done.get(timeout=timeout)
        while not self.replies.empty():  # further messages of the same turn
            self.replies.get_nowait()
        return reply

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
