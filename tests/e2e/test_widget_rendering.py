"""What the widget shows for each kind of bot message, in headless Chromium.

The demo bot answers with text and buttons only, so the widget's other kinds of
message (images, links, quick replies) and its typing indicator are tested
against a scripted bot: a real python-socketio server speaking the project
channel's protocol (token checked, ``session_confirm``, ``bot_uttered`` in
Rasa's socket.io format, ``bot_done``), serving its own image on loopback.
Django is the real site, issuing the tokens the scripted bot checks.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import jwt
import pytest
import socketio
from aiohttp import web

from launcher.services import StackConfig, free_port, make_services, migrate_django
from tests.e2e.widget_page import bot_says, open_chat, say

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PARCEL_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80" viewBox="0 0 120 80">'
    '<rect x="10" y="10" width="100" height="60" fill="#c8a165"/></svg>'
)
TYPING_SECONDS = 1.5


@dataclass
class ScriptedBot:
    """A socket.io server that answers like the project's channel, from a script."""

    secret: str
    port: int = field(default_factory=free_port)
    received: list[tuple[str, str]] = field(default_factory=list)  # (conversation, text)
    refused: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replies(self, text: str) -> list[dict]:
        if text == "show me my parcel":
            return [
                {"text": "Here it is. Track it at https://shop.example.com/track/12345 any time."},
                {"attachment": {"type": "image", "payload": {"src": f"{self.url}/parcel.svg"}}},
            ]
        if text == "pick a colour":
            return [
                {
                    "text": "Which colour?",
                    "quick_replies": [
                        {"content_type": "text", "title": "Red", "payload": "/choose_colour"},
                        {"content_type": "text", "title": "Blue", "payload": "/choose_blue"},
                    ],
                }
            ]
        if text == "markup please":
            return [{"text": '<img src="x" onerror="document.title=\'pwned\'"> <b>not bold</b>'}]
        return [{"text": f"You said {text}"}]

    def app(self) -> web.Application:
        sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
        app = web.Application()
        sio.attach(app)
        app.router.add_get("/parcel.svg", lambda _: web.Response(text=PARCEL_SVG, content_type="image/svg+xml"))
        conversations: dict[str, str] = {}

        @sio.on("connect")
        async def connect(sid, environ, auth=None):
            try:
                claims = jwt.decode((auth or {}).get("token", ""), self.secret, algorithms=["HS256"], audience="demo")
            except jwt.PyJWTError:
                self.refused += 1
                return False
            conversations[sid] = claims["sub"]
            return True

        @sio.on("session_request")
        async def session_request(sid, data):
            await sio.emit("session_confirm", conversations[sid], room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid, data):
            text = data["message"]
            self.received.append((conversations[sid], text))
            await asyncio.sleep(TYPING_SECONDS)  # the bot "works": the widget shows it is typing
            for reply in self.replies(text):
                await sio.emit("bot_uttered", reply, room=sid)
            await sio.emit("bot_done", {}, room=sid)

        return app


@pytest.fixture(scope="module")
def scripted_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ScriptedBot]]:
    bot = ScriptedBot(secret=secrets.token_urlsafe(32))
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(bot.app())
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", bot.port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    state = tmp_path_factory.mktemp("scripted-site")
    env = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "RASA_JWT_SECRET": bot.secret,
        "DJANGO_DB_PATH": str(state / "django.sqlite3"),
        "RASA_SOCKET_URL": bot.url,
    }
    migrate_django(env)
    cfg = StackConfig(
        bot_dir=state,
        model=state,
        log_dir=state / "logs",
        env=env,
        rasa_port=0,
        actions_port=0,
        django_port=free_port(),
    )
    django = make_services(cfg)[-1]
    django.start()
    try:
        django.wait_ready(60)
        yield f"http://127.0.0.1:{cfg.django_port}", bot
    finally:
        django.stop()
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def test_typing_indicator_links_and_images(scripted_site, browser):
    site, bot = scripted_site
    page = open_chat(browser, site)
    typing = page.locator(".chat__typing")
    assert typing.is_hidden()

    say(page, "show me my parcel")
    typing.wait_for(state="visible", timeout=TYPING_SECONDS * 1000)  # while the bot works
    bot_says(page, "Track it at")
    link = page.locator(".msg--bot a", has_text="https://shop.example.com/track/12345")
    assert link.get_attribute("href") == "https://shop.example.com/track/12345"
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener noreferrer"
    image = page.locator(".msg--bot img.msg__image")
    image.wait_for()
    assert image.get_attribute("src") == f"{bot.url}/parcel.svg"
    assert image.get_attribute("alt")  # screen readers get a description
    page.wait_for_function("document.querySelector('.msg--bot img.msg__image').naturalWidth === 120")
    typing.wait_for(state="hidden")  # bot_done
    assert page.locator(".msg--bot .msg__time").count() == 2  # each message carries its time

    # the conversation the scripted bot saw is the one Django's token named
    conversation = page.evaluate("Object.keys(localStorage).find(k => k.startsWith('chat:v2:demo:')).split(':')[3]")
    assert bot.received == [(conversation, "show me my parcel")]
    page.context.close()


def test_quick_replies_are_buttons_that_send_their_payload(scripted_site, browser):
    site, bot = scripted_site
    page = open_chat(browser, site)
    say(page, "pick a colour")
    question = bot_says(page, "Which colour?")
    group = page.get_by_role("group", name="Suggested replies")
    assert group.get_by_role("button").all_inner_texts() == ["Red", "Blue"]
    group.get_by_role("button", name="Red").click()
    page.locator(".msg--user", has_text="Red").wait_for()  # shown as its title...
    bot_says(page, "You said /choose_colour")  # ...sent as its payload
    assert bot.received[-1][1] == "/choose_colour"
    assert question.get_by_role("button", name="Blue").is_disabled()  # a choice is made once
    page.context.close()


def test_markup_from_the_bot_is_shown_as_text(scripted_site, browser):
    site, _ = scripted_site
    page = open_chat(browser, site)
    say(page, "markup please")
    reply = bot_says(page, "<b>not bold</b>")
    assert reply.locator("img, b").count() == 0  # never HTML from the server
    assert page.title() != "pwned"
    page.context.close()
