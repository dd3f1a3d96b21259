"""Two Rasa instances behind one site: shared Postgres tracker store, Redis lock store, nginx in front.

Starts real PostgreSQL, Redis and nginx (Debian packages; loopback only, in a
temporary folder, stopped at the end), the action server and two Rasa
instances serving the same demo model with ``rasa_bot/endpoints-scale.yml``
(deploy/local.py). Conversations send their messages alternately to instance
1, instance 2 and through nginx (TLS, ``deploy/nginx/site.conf.template``);
every message must get its reply exactly once, and each tracker must be the
same whichever instance is asked, and the same as what Postgres holds.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Iterator

import jwt
import pytest
import requests
import socketio
import urllib3

from deploy.local import ScaleStack, missing_binaries

pytestmark = pytest.mark.integration

ORIGIN = "http://127.0.0.1:8000"
#: Messages the demo bot answers with exactly one message each.
MESSAGES = ["hello", "what payment methods do you accept", "how long does delivery take", "I want a refund"]

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # nginx's self-signed test certificate


@pytest.fixture(scope="module")
def scale(demo_bot, tmp_path_factory) -> Iterator[ScaleStack]:
    missing = missing_binaries()
    if missing:
        pytest.skip(f"scale-out test needs Debian packages {', '.join(missing)} (.ci/run installs them)")
    bot_dir, model = demo_bot
    with ScaleStack(bot_dir, model, tmp_path_factory.mktemp("scale"), instances=2, site_origin=ORIGIN) as stack:
        yield stack


def token(secret: str, conversation: str) -> str:
    return jwt.encode({"sub": conversation, "aud": "demo", "exp": int(time.time()) + 600}, secret, algorithm="HS256")


class Turn:
    """One connection that sends one message and collects the replies until the channel's ``bot_done``.

    python-socketio's asyncio client (aiohttp). Its threaded client (websocket-client) was seen to
    close its own TLS websocket right after connecting, about once in 60 turns through nginx
    (never on plain HTTP, never with this client: 0 of 700); docs/deploy.md.
    """

    def __init__(
        self, url: str, secret: str, conversation: str, transports: list[str] | None = None, origin: str = ORIGIN
    ) -> None:
        self.url, self.conversation, self.origin = url, conversation, origin
        self.transports = transports or ["websocket"]
        self.replies: list[dict] = []
        self.errors: list[dict] = []
        self.done = asyncio.Event()
        self.confirmed = asyncio.Event()
        self.sio = socketio.AsyncClient(reconnection=False, ssl_verify=False)  # nginx's self-signed certificate
        self.sio.on("bot_uttered", self.replies.append)
        self.sio.on("bot_done", lambda *_: self.done.set())
        self.sio.on("session_confirm", lambda *_: self.confirmed.set())
        self.sio.on("chat_error", self.errors.append)
        self.token = token(secret, conversation)

    async def open(self) -> None:
        await self.sio.connect(
            self.url,
            auth={"token": self.token},
            transports=self.transports,
            headers={"Origin": self.origin},
            wait_timeout=10,
        )
        await self.sio.emit("session_request", {"session_id": self.conversation})
        await asyncio.wait_for(self.confirmed.wait(), 15)

    async def send(self, text: str) -> None:
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.conversation})

    async def wait(self, timeout: float = 60) -> list[dict]:
        await asyncio.wait_for(self.done.wait(), timeout)
        await asyncio.sleep(0.2)  # a duplicate would arrive right behind bot_done
        assert not self.errors, self.errors
        return self.replies

    async def close(self) -> None:
        await self.sio.disconnect()


async def a_turn(
    url: str, secret: str, conversation: str, text: str, transports: list[str] | None = None
) -> list[dict]:
    turn = Turn(url, secret, conversation, transports)
    try:
        await turn.open()
        await turn.send(text)
        return list(await turn.wait())
    finally:
        await turn.close()


def one_turn(url: str, secret: str, conversation: str, text: str, transports: list[str] | None = None) -> list[dict]:
    return asyncio.run(a_turn(url, secret, conversation, text, transports))


def endpoints(scale: ScaleStack) -> list[str]:
    """Instance 1, instance 2 and the proxy (wss through nginx), in turn."""
    return [*scale.rasa_urls, scale.proxy_url]


def events_of(tracker: dict) -> list[dict]:
    return tracker["events"]


def assert_tracker_consistent(scale: ScaleStack, conversation: str) -> list[dict]:
    """Both instances return the same tracker, and it is exactly what Postgres holds."""
    first, second = (scale.tracker(conversation, i) for i in range(2))
    assert first["events"] == second["events"]
    assert [e["event"] for e in first["events"]] == scale.stored_events(conversation)
    keys = [(e["event"], e["timestamp"], e.get("text"), e.get("name")) for e in first["events"]]
    assert len(keys) == len(set(keys)), "an event was stored twice"
    return first["events"]


def test_conversations_alternating_between_instances_and_the_proxy(scale: ScaleStack) -> None:
    urls = endpoints(scale)
    conversations = [uuid.uuid4().hex for _ in range(4)]
    received: dict[str, list[str]] = {c: [] for c in conversations}
    sent: dict[str, list[str]] = {c: [] for c in conversations}
    for step in range(9):
        for n, conversation in enumerate(conversations):
            text = MESSAGES[(step + n) % len(MESSAGES)]
            url = urls[(step + n) % len(urls)]
            replies = one_turn(url, scale.jwt_secret, conversation, text)
            assert len(replies) == 1, f"{text!r} via {url}: {replies}"
            sent[conversation].append(text)
            received[conversation].append(replies[0].get("text"))
    for conversation in conversations:
        events = assert_tracker_consistent(scale, conversation)
        assert [e["text"] for e in events if e["event"] == "user"] == sent[conversation]
        assert [e.get("text") for e in events if e["event"] == "bot"] == received[conversation]
        assert all(r for r in received[conversation]), "a reply without text"


def test_long_polling_through_nginx_sticks_to_one_instance(scale: ScaleStack) -> None:
    """socket.io's polling transport needs every request of a session on one instance (ip_hash)."""
    conversation = uuid.uuid4().hex
    for text in MESSAGES[:2]:
        replies = one_turn(scale.proxy_url, scale.jwt_secret, conversation, text, transports=["polling"])
        assert len(replies) == 1
    events = assert_tracker_consistent(scale, conversation)
    assert [e["text"] for e in events if e["event"] == "user"] == MESSAGES[:2]


def test_simultaneous_messages_of_one_conversation_on_both_instances_are_serialised(scale: ScaleStack) -> None:
    """The Redis lock: two instances get a message of the same conversation at once; both are
    processed, one after the other, each answered once, and the tracker never interleaves them."""
    conversation = uuid.uuid4().hex

    async def both_at_once() -> list[list[dict]]:
        turns = [Turn(url, scale.jwt_secret, conversation) for url in scale.rasa_urls]
        try:
            await asyncio.gather(*(turn.open() for turn in turns))
            await asyncio.gather(*(turn.send(text) for turn, text in zip(turns, MESSAGES[1:3], strict=True)))
            # Both connections joined the conversation's room on their own instance; each
            # instance emits to its own room, so each sees exactly the reply it produced.
            return await asyncio.gather(*(turn.wait() for turn in turns))
        finally:
            await asyncio.gather(*(turn.close() for turn in turns))

    for _ in range(3):
        assert [len(replies) for replies in asyncio.run(both_at_once())] == [1, 1]
    events = assert_tracker_consistent(scale, conversation)
    kinds = [e["event"] if e["event"] != "action" else e["name"] for e in events]
    users = [i for i, k in enumerate(kinds) if k == "user"]
    assert len(users) == 6 and kinds.count("bot") == 6
    for this, following in zip(users, [*users[1:], len(kinds)], strict=True):
        turn_events = kinds[this:following]
        assert turn_events.count("bot") == 1 and turn_events[-1] == "action_listen", turn_events


def test_the_site_under_chat_through_the_proxy_end_to_end(scale: ScaleStack) -> None:
    """As a browser would: the page under /chat/ over TLS, a token from Django, then socket.io via nginx."""
    from tests.chat_client import fetch_token

    http = requests.Session()
    http.trust_env, http.verify = False, False
    root = requests.get(f"{scale.proxy_url}/", verify=False, allow_redirects=False, timeout=10)
    assert root.status_code == 302 and root.headers["location"].endswith("/chat/")
    page = http.get(f"{scale.proxy_url}/chat/", timeout=10)
    assert page.status_code == 200 and "/chat/static/" in page.text
    assert page.headers["strict-transport-security"].startswith("max-age=")
    static = re.search(r'(/chat/static/[^"]+\.js)"', page.text)
    assert static and http.get(f"{scale.proxy_url}{static.group(1)}", timeout=10).status_code == 200
    assert http.cookies.get("csrftoken") and all(c.path == "/chat/" for c in http.cookies)
    granted = fetch_token(f"{scale.proxy_url}/chat", http)

    async def talk() -> list[dict]:
        turn = Turn(scale.proxy_url, scale.jwt_secret, granted.session_id, origin=scale.proxy_url)
        turn.token = granted.token  # Django's token, not one the test signed
        try:
            await turn.open()
            await turn.send("hello")
            return await turn.wait()
        finally:
            await turn.close()

    assert len(asyncio.run(talk())) == 1
    assert_tracker_consistent(scale, granted.session_id)


def test_the_rasa_api_is_not_exposed_through_the_proxy(scale: ScaleStack) -> None:
    resp = requests.get(
        f"{scale.proxy_url}/conversations/x/tracker", params={"token": scale.api_token}, verify=False, timeout=10
    )
    assert resp.status_code == 404
    plain = requests.get(f"http://127.0.0.1:{scale.nginx.http_port}/socket.io/", allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["location"].startswith("https://")


def test_the_lock_store_never_hands_out_a_ticket_twice(scale: ScaleStack) -> None:
    """Many processes' worth of clients issuing tickets for one conversation at once, on the real Redis."""
    from rasa_bot.stores.redis_lock import AtomicRedisLockStore

    def store() -> AtomicRedisLockStore:
        return AtomicRedisLockStore(host="127.0.0.1", port=scale.redis.port, password=scale.redis.password, db=2)

    conversation = uuid.uuid4().hex
    stores = [store() for _ in range(8)]
    tickets: list[int] = []
    start = threading.Barrier(len(stores))

    def issue(s: AtomicRedisLockStore) -> None:
        start.wait()
        for _ in range(25):
            tickets.append(s.issue_ticket(conversation, 60))

    threads = [threading.Thread(target=issue, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(200))
    # finishing all but the last keeps the lock (someone waits); finishing the last deletes it
    for ticket in range(199):
        stores[ticket % 8].cleanup(conversation, ticket)
    assert stores[0].get_lock(conversation) is not None
    stores[1].cleanup(conversation, 199)
    assert stores[0].get_lock(conversation) is None
