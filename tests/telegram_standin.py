"""A stand-in for the Telegram Bot API on loopback: records every call, answers like Telegram.

Only what the project's Telegram channel calls: ``getMe``, ``setWebhook``, ``sendMessage``,
``answerCallbackQuery`` (anything else gets ``{"ok": true, "result": true}``). Requests come as
``POST /bot<token>/<method>`` with form or JSON bodies, as aiogram sends them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Call:
    token: str
    method: str
    params: dict


@dataclass
class TelegramStandIn:
    """Start with :meth:`start`; :attr:`url` is the base URL to give the bot (``TELEGRAM_API_URL``)."""

    username: str = "northwind_test_bot"
    calls: list[Call] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> TelegramStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                parts = self.path.strip("/").split("/")
                if len(parts) != 2 or not parts[0].startswith("bot"):
                    self.send_error(404)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(body or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                call = Call(parts[0][3:], parts[1], params)
                with stand_in._lock:
                    stand_in.calls.append(call)
                payload = json.dumps({"ok": True, "result": stand_in.result(call)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def result(self, call: Call) -> object:
        if call.method == "getMe":
            return {"id": 7000000001, "is_bot": True, "first_name": "Northwind", "username": self.username}
        if call.method == "sendMessage":
            chat_id = int(call.params.get("chat_id", 0))
            return {
                "message_id": len(self.calls),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": call.params.get("text", ""),
            }
        return True

    def of(self, method: str, chat_id: int | None = None) -> list[Call]:
        """The calls of ``method`` so far (to ``chat_id`` only, when given)."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method == method and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
            ]

    def wait_for(self, method: str, timeout: float = 30.0) -> Call:
        """The first call of ``method``, waiting for it up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method)
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no {method} call in {timeout} s; calls: {[c.method for c in self.calls]}")
