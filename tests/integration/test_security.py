"""Attacks on the chat channel: each is refused, and the server keeps serving other conversations.

Every attack is recorded; the run ends with "security suite: N attacks tried, N refused".
"""

from __future__ import annotations

import json
import queue
import time

import jwt
import pytest
import requests
import socketio
import websocket

from tests.attack_log import ATTACKS
from tests.chat_client import ChatClient, fetch_token

pytestmark = pytest.mark.integration

SID = "a" * 32


def record(name: str, refused: bool) -> None:
    ATTACKS.append((name, refused))
    assert refused, f"attack not refused: {name}"


@pytest.fixture
def others_still_served(running_stack):
    """After the attack, a legitimate visitor still gets answers."""
    yield
    good = fetch_token(running_stack.site_url)
    chat = ChatClient(running_stack.rasa_url, running_stack.site_url)
    try:
        chat.connect(good.token, good.session_id)
        assert "cancel" in chat.ask("I want to cancel my order")["text"].lower()
    finally:
        chat.close()


def signed(secret: str, **claims) -> str:
    """A token with these claims; for the demo bot (``aud``) unless the claims say otherwise."""
    claims.setdefault("aud", "demo")
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


def now() -> int:
    return int(time.time())


TOKEN_ATTACKS = {
    "no token": lambda s: None,
    "garbage token": lambda s: "not-a-jwt",
    "wrong key": lambda s: signed("another-key-that-is-long-enough-000000", sub=SID, exp=now() + 60),
    "forged payload (signature of another payload)": lambda s: (
        signed(s, sub="b" * 32, exp=now() + 60).rsplit(".", 1)[0].rsplit(".", 1)[0]
        + "."
        + jwt.encode({"sub": SID, "aud": "demo", "exp": now() + 60}, "x" * 40).split(".")[1]
        + "."
        + signed(s, sub="b" * 32, exp=now() + 60).rsplit(".", 1)[1]
    ),
    "alg none": lambda s: jwt.encode({"sub": SID, "aud": "demo", "exp": now() + 60}, None, algorithm="none"),
    "alg HS512 with the right key (algorithm pinned)": lambda s: jwt.encode(
        {"sub": SID, "aud": "demo", "exp": now() + 60}, s, algorithm="HS512"
    ),
    "expired": lambda s: signed(s, sub=SID, exp=now() - 30),
    "not yet valid (nbf)": lambda s: signed(s, sub=SID, exp=now() + 300, nbf=now() + 120),
    "issued in the future (iat)": lambda s: signed(s, sub=SID, exp=now() + 300, iat=now() + 120),
    "empty payload": lambda s: jwt.encode({}, s, algorithm="HS256"),
    "no exp": lambda s: signed(s, sub=SID),
    "no sub": lambda s: signed(s, exp=now() + 60),
    "exp a day away": lambda s: signed(s, sub=SID, exp=now() + 86400),
    "sub that is not a conversation id": lambda s: signed(s, sub="../../etc", exp=now() + 60),
    "oversized token": lambda s: signed(s, sub=SID, exp=now() + 60, pad="x" * 10000),
    # tokens are bound to one bot (aud): the demo bot refuses tokens for others, though the secret is shared
    "token for another bot, signed with the shared secret": lambda s: signed(s, sub=SID, aud="logreg", exp=now() + 60),
    "no aud": lambda s: signed(s, sub=SID, aud=None, exp=now() + 60),
    "aud a list naming this bot and another": lambda s: signed(s, sub=SID, aud=["demo", "logreg"], exp=now() + 60),
}


@pytest.mark.parametrize("attack", list(TOKEN_ATTACKS))
def test_connection_with_a_bad_token_is_refused(running_stack, others_still_served, attack):
    token = TOKEN_ATTACKS[attack](running_stack.jwt_secret)
    chat = ChatClient(running_stack.rasa_url, running_stack.site_url)
    try:
        chat.connect(token, SID, timeout=3)
        refused = False
    except socketio.exceptions.ConnectionError:
        refused = True
    finally:
        chat.close()
    record(f"connect: {attack}", refused)


def test_session_request_for_another_conversation_is_refused(running_stack, others_still_served):
    victim_token = fetch_token(running_stack.site_url)
    victim = ChatClient(running_stack.rasa_url, running_stack.site_url)
    victim.connect(victim_token.token, victim_token.session_id)

    attacker_token = fetch_token(running_stack.site_url)
    attacker = ChatClient(running_stack.rasa_url, running_stack.site_url)
    errors: queue.Queue = queue.Queue()
    attacker.sio.on("chat_error", errors.put)
    attacker.sio.connect(running_stack.rasa_url, auth={"token": attacker_token.token}, transports=["websocket"])
    attacker.sio.emit("session_request", {"session_id": victim_token.session_id})
    error = errors.get(timeout=10)
    try:
        attacker.confirmed.get(timeout=1)
        confirmed = True
    except queue.Empty:
        confirmed = False
    # The victim keeps chatting; the attacker must see none of it.
    assert victim.ask("what is the status of order 12345")["text"]
    time.sleep(0.5)
    leaked = not attacker.replies.empty()
    victim.close()
    attacker.close()
    record("session_request for another conversation", error["code"] == "forbidden" and not confirmed and not leaked)


def test_message_into_another_conversation_is_refused(running_stack, others_still_served):
    victim_token = fetch_token(running_stack.site_url)
    attacker_token = fetch_token(running_stack.site_url)
    attacker = ChatClient(running_stack.rasa_url, running_stack.site_url)
    errors: queue.Queue = queue.Queue()
    attacker.sio.on("chat_error", errors.put)
    attacker.connect(attacker_token.token, attacker_token.session_id)
    attacker.sio.emit("user_uttered", {"message": "cancel my order", "session_id": victim_token.session_id})
    error = errors.get(timeout=10)
    time.sleep(0.5)
    disconnected = not attacker.sio.connected
    attacker.close()
    record("user_uttered into another conversation", error["code"] == "forbidden" and disconnected)


def test_token_reuse_after_expiry_is_refused(running_stack, others_still_served):
    token = signed(running_stack.jwt_secret, sub=SID, exp=now() + 2)
    chat = ChatClient(running_stack.rasa_url, running_stack.site_url)
    errors: queue.Queue = queue.Queue()
    chat.sio.on("chat_error", errors.put)
    chat.connect(token, SID)
    time.sleep(3)
    chat.sio.emit("user_uttered", {"message": "hello", "session_id": SID})
    error = errors.get(timeout=10)
    chat.close()
    record("message after the token expired", error["code"] == "token_expired")
    again = ChatClient(running_stack.rasa_url, running_stack.site_url)
    try:
        again.connect(token, SID, timeout=3)
        refused = False
    except socketio.exceptions.ConnectionError:
        refused = True
    again.close()
    record("reconnect with an expired token", refused)


def test_refresh_token_keeps_the_conversation_going(running_stack):
    http = requests.Session()
    first = fetch_token(running_stack.site_url, http)
    chat = ChatClient(running_stack.rasa_url, running_stack.site_url)
    refreshed: queue.Queue = queue.Queue()
    chat.sio.on("token_refreshed", refreshed.put)
    chat.connect(first.token, first.session_id)
    second = fetch_token(running_stack.site_url, http)
    chat.sio.emit("refresh_token", {"token": second.token})
    assert refreshed.get(timeout=10)["expires_at"] == second.expires_at
    assert chat.ask("hello")["text"]
    other = fetch_token(running_stack.site_url)  # another visitor's token
    errors: queue.Queue = queue.Queue()
    chat.sio.on("chat_error", errors.put)
    chat.sio.emit("refresh_token", {"token": other.token})
    record("refresh with another conversation's token", errors.get(timeout=10)["code"] == "forbidden")
    chat.close()


BAD_MESSAGES = {
    "oversized message": {"message": "x" * 2001},
    "payload is a string": "hello",
    "payload is a list": ["hello"],
    "payload is a number": 42,
    "message is a number": {"message": 42},
    "message is an object": {"message": {"text": "hi"}},
    "message is empty": {"message": "   "},
    "session_id is a number": {"message": "hi", "session_id": 7},
    "metadata is a string": {"message": "hi", "metadata": "{}"},
    "huge metadata": {"message": "hi", "metadata": {"x": "y" * 5000}},
}


@pytest.mark.parametrize("attack", list(BAD_MESSAGES))
def test_malformed_message_is_refused(running_stack, others_still_served, attack):
    token = fetch_token(running_stack.site_url)
    chat = ChatClient(running_stack.rasa_url, running_stack.site_url)
    errors: queue.Queue = queue.Queue()
    chat.sio.on("chat_error", errors.put)
    chat.connect(token.token, token.session_id)
    chat.sio.emit("user_uttered", BAD_MESSAGES[attack])
    error = errors.get(timeout=10)
    time.sleep(0.3)
    answered = not chat.replies.empty()
    # The connection itself stays usable for well-formed messages.
    ok = chat.ask("hello")["text"]
    chat.close()
    record(f"message: {attack}", error["code"] in {"bad_request", "too_long"} and not answered and bool(ok))


def test_flood_is_rate_limited(running_stack, others_still_served):
    token = fetch_token(running_stack.site_url)
    chat = ChatClient(running_stack.rasa_url, running_stack.site_url)
    errors: queue.Queue = queue.Queue()
    chat.sio.on("chat_error", errors.put)
    chat.connect(token.token, token.session_id)
    for i in range(40):
        chat.sio.emit("user_uttered", {"message": f"hello {i}", "session_id": token.session_id})
    codes = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(codes) < 20:
        try:
            codes.append(errors.get(timeout=1)["code"])
        except queue.Empty:
            break
    chat.close()
    record("flood of 40 messages at once", codes.count("rate_limited") >= 20)


def raw_socket(running_stack, token: str) -> websocket.WebSocket:
    """A raw engine.io websocket, authenticated, speaking the socket.io wire protocol by hand."""
    url = running_stack.rasa_url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, origin=running_stack.site_url, timeout=10)
    assert ws.recv().startswith("0")  # engine.io open
    ws.send("40" + json.dumps({"token": token}))
    assert ws.recv().startswith("40")  # socket.io connect accepted
    return ws


RAW_FRAMES = {
    "frame that is not JSON": ('42["user_uttered", {"message": "hi", ', websocket.ABNF.OPCODE_TEXT),
    "text frame with invalid UTF-8": (b'42["user_uttered",{"message":"\xff\xfe\xfd"}]', websocket.ABNF.OPCODE_TEXT),
    "3 MB frame": ('42["user_uttered",' + json.dumps({"message": "x" * 3_000_000}) + "]", websocket.ABNF.OPCODE_TEXT),
}


@pytest.mark.parametrize("attack", list(RAW_FRAMES))
def test_raw_frame_is_refused(running_stack, others_still_served, attack):
    frame, opcode = RAW_FRAMES[attack]
    token = fetch_token(running_stack.site_url)
    ws = raw_socket(running_stack, token.token)
    try:
        ws.send(frame, opcode=opcode)
        refused = "bot_uttered" not in ws.recv()
    except (websocket.WebSocketException, OSError):
        refused = True  # the server closed this connection
    ws.close()
    record(attack, refused)


def test_page_from_another_origin_cannot_open_a_socket(running_stack, others_still_served):
    token = fetch_token(running_stack.site_url)
    chat = ChatClient(running_stack.rasa_url, "https://evil.example")
    try:
        chat.connect(token.token, token.session_id, timeout=3)
        refused = False
    except socketio.exceptions.ConnectionError:
        refused = True
    chat.close()
    record("socket opened from another site's page", refused)


REST_ATTACKS = {
    "no token": lambda s, own: ({}, {"message": "hi"}),
    "another conversation's sender": lambda s, own: (
        {"Authorization": f"Bearer {own.token}"},
        {"sender": "b" * 32, "message": "hi"},
    ),
    "message not a string": lambda s, own: ({"Authorization": f"Bearer {own.token}"}, {"message": ["hi"]}),
}


@pytest.mark.parametrize("attack", list(REST_ATTACKS))
def test_rest_channel_requires_the_conversations_token(running_stack, others_still_served, attack):
    own = fetch_token(running_stack.site_url)
    headers, body = REST_ATTACKS[attack](running_stack.jwt_secret, own)
    resp = requests.post(f"{running_stack.rasa_url}/webhooks/rest/webhook", json=body, headers=headers, timeout=30)
    record(f"REST: {attack}", resp.status_code in {400, 401, 403})


def test_rest_channel_answers_with_a_valid_token(running_stack):
    own = fetch_token(running_stack.site_url)
    resp = requests.post(
        f"{running_stack.rasa_url}/webhooks/rest/webhook",
        json={"message": "I want to cancel my order"},
        headers={"Authorization": f"Bearer {own.token}"},
        timeout=30,
    )
    assert resp.status_code == 200
    assert any("cancel" in m.get("text", "").lower() for m in resp.json())
    assert all(m["recipient_id"] == own.session_id for m in resp.json())


def test_rasa_http_api_needs_its_token(running_stack):
    status = f"{running_stack.rasa_url}/status"
    tracker = f"{running_stack.rasa_url}/conversations/{SID}/tracker"
    for url in (status, tracker):
        resp = requests.get(url, timeout=10)
        record(f"HTTP API without a token: {url.rsplit('/', 1)[-1]}", resp.status_code == 401)
        wrong = requests.get(url, params={"token": "not-the-token"}, timeout=10)
        record(f"HTTP API with a wrong token: {url.rsplit('/', 1)[-1]}", wrong.status_code == 401)
    assert requests.get(status, params={"token": running_stack.api_token}, timeout=10).status_code == 200


def test_cors_allows_only_the_site(running_stack):
    url = f"{running_stack.rasa_url}/webhooks/rest/webhook"
    evil = requests.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, timeout=10
    )
    allowed = evil.headers.get("Access-Control-Allow-Origin")
    record("CORS preflight from another site", allowed not in ("*", "https://evil.example"))
    site = requests.options(
        url, headers={"Origin": running_stack.site_url, "Access-Control-Request-Method": "POST"}, timeout=10
    )
    assert site.headers.get("Access-Control-Allow-Origin") == running_stack.site_url
