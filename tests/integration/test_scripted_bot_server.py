"""The scripted-bot server as the widget meets it: a real process, a real socket.io client, the channel's rules.

Started as ``make run-bots`` starts it (``python -m scripted_bots``, through the
launcher's Service: health URL, process group); tokens signed as Django signs them.
"""

from __future__ import annotations

import queue
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator

import jwt
import pytest
import socketio

from chat_contract.tokens import issue_token, new_conversation_id
from launcher import paths
from launcher.build import rasa_env
from launcher.services import Service, free_port
from tests.attack_log import ATTACKS
from tests.chat_client import ChatClient

pytestmark = pytest.mark.integration

ORIGIN = "http://127.0.0.1:8000"


class Server:
    def __init__(self, url: str, secret: str) -> None:
        self.url, self.secret = url, secret

    def token(self, bot: str, conversation: str | None = None, lifetime: int = 600) -> tuple[str, str]:
        conversation = conversation or new_conversation_id()
        return issue_token(conversation, bot_id=bot, secret=self.secret, lifetime=lifetime)[0], conversation

    def client(self, origin: str = ORIGIN) -> ChatClient:
        return ChatClient(self.url, origin)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    secret = secrets.token_urlsafe(32)
    port = free_port()
    service = Service(
        "scripted bots",
        [
            paths.tool("python"),
            "-m",
            "scripted_bots",
            "--port",
            str(port),
            "--bot=echo=scripted_bots.baselines.EchoBot",
            "--bot=faq=scripted_bots.baselines.FaqBot",
        ],
        paths.REPO,
        rasa_env({"RASA_JWT_SECRET": secret, "SITE_ORIGINS": ORIGIN}),
        f"http://127.0.0.1:{port}/",
        tmp_path_factory.mktemp("scripted") / "scripted-bots.log",
    )
    service.start()
    try:
        service.wait_ready(60)
        yield Server(f"http://127.0.0.1:{port}", secret)
    finally:
        service.stop()


def refused(server: Server, token: str | None, origin: str = ORIGIN) -> bool:
    chat = server.client(origin)
    try:
        chat.connect(token, "x" * 32, timeout=3)
        return False
    except socketio.exceptions.ConnectionError:
        return True
    finally:
        chat.close()


def test_each_bot_answers_its_own_conversations(server):
    echo, faq = server.client(), server.client()
    try:
        token, conversation = server.token("echo")
        echo.connect(token, conversation)
        token, other = server.token("faq")
        faq.connect(token, other)
        assert echo.ask("hello there")["text"] == "You said: hello there"
        assert "track your order" in faq.ask("where is my order")["text"]
        assert echo.ask("again")["text"] == "You said: again"  # the same connection goes on
    finally:
        echo.close()
        faq.close()


def record(name: str, ok: bool) -> None:
    ATTACKS.append((f"scripted bots: {name}", ok))
    assert ok, f"attack not refused: {name}"


def test_tokens_not_for_a_bot_it_serves_are_refused(server):
    now = int(time.time())
    sid = new_conversation_id()
    cases = {
        "token for a Rasa bot, signed with the shared secret": server.token("demo")[0],
        "no aud": jwt.encode({"sub": sid, "exp": now + 60}, server.secret, algorithm="HS256"),
        "wrong key": issue_token(sid, bot_id="echo", secret="another-key-that-is-long-enough-000", lifetime=60)[0],
        "expired": jwt.encode({"sub": sid, "aud": "echo", "exp": now - 5}, server.secret, algorithm="HS256"),
        "no token": None,
    }
    for name, token in cases.items():
        record(f"connect: {name}", refused(server, token))
    record("connect from another site's page", refused(server, server.token("echo")[0], "https://evil.example"))


def test_a_conversation_other_than_the_tokens_is_refused(server):
    token, _ = server.token("echo")
    chat = server.client()
    errors: queue.Queue = queue.Queue()
    chat.sio.on("chat_error", errors.put)
    chat.sio.connect(server.url, auth={"token": token}, transports=["websocket"])
    chat.sio.emit("session_request", {"session_id": new_conversation_id()})
    error = errors.get(timeout=10)
    time.sleep(0.3)
    record("session_request for another conversation", error["code"] == "forbidden" and not chat.sio.connected)
    chat.close()


def test_bad_messages_get_the_channels_errors_and_the_connection_goes_on(server):
    token, conversation = server.token("echo")
    chat = server.client()
    errors: queue.Queue = queue.Queue()
    chat.sio.on("chat_error", errors.put)
    chat.connect(token, conversation)
    try:
        for payload, code in (
            ("hello", "bad_request"),
            ({"message": "x" * 2001}, "too_long"),
            ({"message": " "}, "bad_request"),
        ):
            chat.sio.emit("user_uttered", payload)
            record(f"malformed message {str(payload)[:20]!r}", errors.get(timeout=10)["code"] == code)
        chat.sio.emit("user_uttered", {"message": "hi", "session_id": new_conversation_id()})
        record("message into another conversation", errors.get(timeout=10)["code"] == "forbidden")
    finally:
        chat.close()
    again = server.client()
    token, conversation = server.token("echo", conversation)
    again.connect(token, conversation)
    assert again.ask("still here")["text"] == "You said: still here"
    again.close()


def test_refresh_keeps_the_conversation_and_refuses_another_bots_token(server):
    token, conversation = server.token("echo")
    chat = server.client()
    refreshed: queue.Queue = queue.Queue()
    errors: queue.Queue = queue.Queue()
    chat.sio.on("token_refreshed", refreshed.put)
    chat.sio.on("chat_error", errors.put)
    chat.connect(token, conversation)
    fresh, _ = server.token("echo", conversation)
    chat.sio.emit("refresh_token", {"token": fresh})
    assert refreshed.get(timeout=10)["expires_at"] > time.time()
    other_bot, _ = server.token("faq", conversation)  # same conversation id, the other bot
    chat.sio.emit("refresh_token", {"token": other_bot})
    record("refresh with a token for another bot", errors.get(timeout=10)["code"] == "forbidden")
    chat.close()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--bot=x=os.system"], {"RASA_JWT_SECRET": "s" * 40}, "is not a class registered with @scripted_bot"),
        (["--bot=echo=scripted_bots.baselines.EchoBot"], {"RASA_JWT_SECRET": ""}, "RASA_JWT_SECRET is not set"),
        (["--bot=echo=scripted_bots.baselines.EchoBot"], {"RASA_JWT_SECRET": "short"}, "at least 32 characters"),
    ],
)
def test_the_command_refuses_bad_settings_in_one_line(args, env, message):
    done = subprocess.run(
        [sys.executable, "-m", "scripted_bots", "--port", str(free_port()), *args],
        cwd=paths.REPO,
        env=rasa_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and message in done.stderr and "Traceback" not in done.stderr
