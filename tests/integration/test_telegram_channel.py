"""The Telegram channel against a stand-in Bot API on loopback, through the real action server and Rasa server.

Only the two servers Telegram needs are started (no Django). The test posts Telegram updates to Rasa's webhook
as Telegram would (with the secret token header) and reads the bot's replies from the ``sendMessage`` calls the
stand-in received: a text message, a button press, an update type the bot does not take, forged updates, and a
question the NLU does not know answered from past conversations. Nothing leaves the machine.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from launcher.services import Service, StackConfig, free_port, make_services
from process_data.retrieval import PastPair, ReplyIndex, RetrievalConfig
from rasa_bot.channels.telegram import SECRET_HEADER
from tests.attack_log import ATTACKS
from tests.telegram_standin import TelegramStandIn

pytestmark = pytest.mark.integration

TOKEN = "123456789:AAF-test_token-for-the-stand-in"
WEBHOOK_URL = "https://bot.example.com/webhooks/telegram/webhook"
SECRET = secrets.token_urlsafe(32)
#: Past conversations: one question the demo's NLU has no intent for.
PAST = [
    PastPair("Is there a bicycle parking at your warehouse?", "Yes, bike racks are by the warehouse gate. Anna Lind"),
    PastPair("Do you sell gift cards?", "Not yet, sorry!"),
]
_ids = itertools.count(1000)


@dataclass
class Bot:
    """The action server and Rasa server, started for real (no Django: Telegram needs no site)."""

    rasa_url: str
    services: list[Service]

    def log(self) -> str:
        return self.services[-1].log_tail(200_000)


@contextmanager
def start_bot(demo_bot, state: Path, *, with_actions: bool = True, **env: str) -> Iterator[Bot]:
    bot_dir, model = demo_bot
    cfg = StackConfig(
        bot_dir=bot_dir,
        model=model,
        log_dir=state / "logs",
        env={"RASA_JWT_SECRET": secrets.token_urlsafe(32), **env},
        rasa_port=free_port(),
        actions_port=free_port(),
        django_port=free_port(),
    )
    services = make_services(cfg)[:2] if with_actions else make_services(cfg)[1:2]
    started: list[Service] = []
    try:
        for service in services:
            service.start()
            started.append(service)
            service.wait_ready()
        yield Bot(f"http://127.0.0.1:{cfg.rasa_port}", services)
    finally:
        for service in reversed(started):
            service.stop()


@pytest.fixture(scope="module")
def telegram(demo_bot, tmp_path_factory) -> Iterator[tuple[Bot, TelegramStandIn]]:
    api = TelegramStandIn().start()
    state = tmp_path_factory.mktemp("telegram-state")
    index = ReplyIndex.build(PAST, RetrievalConfig(threshold=0.5, team_names=("Anna Lind",))).save(state / "r.npz")
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BOT_NAME": api.username,
        "TELEGRAM_WEBHOOK_URL": WEBHOOK_URL,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": api.url,
        "RETRIEVAL_INDEX": str(index),
    }
    try:
        with start_bot(demo_bot, state, **env) as bot:
            yield bot, api
    finally:
        api.stop()


def post(stack: Bot, update: dict, secret: str | None = SECRET) -> requests.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return requests.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)


def text_update(chat_id: int, text: str) -> dict:
    user = {"id": chat_id, "is_bot": False, "first_name": "Maria", "language_code": "en"}
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "from": user,
            "chat": {"id": chat_id, "first_name": "Maria", "type": "private"},
            "date": 1709546403,
            "text": text,
        },
    }


def replies(api: TelegramStandIn, chat_id: int) -> list[str]:
    return [c.params["text"] for c in api.of("sendMessage", chat_id)]


def test_the_webhook_is_set_with_the_secret_and_the_update_types(telegram):
    _, api = telegram
    call = api.wait_for("setWebhook")
    assert call.token == TOKEN
    assert call.params["url"] == WEBHOOK_URL and call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == '["message", "edited_message", "callback_query"]'


def test_a_text_message_is_answered(telegram):
    stack, api = telegram
    answer = post(stack, text_update(501, "hello"))
    assert answer.status_code == 200 and answer.text == "success"
    said = replies(api, 501)
    assert said and "help" in " ".join(said).lower()


def test_a_button_press_is_answered_and_acknowledged(telegram):
    stack, api = telegram
    update = {
        "update_id": next(_ids),
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": {"id": 502, "is_bot": False, "first_name": "Maria"},
            "message": {
                "message_id": next(_ids),
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Northwind", "username": api.username},
                "chat": {"id": 502, "type": "private"},
                "date": 1709546403,
                "text": "Pick a topic",
            },
            "chat_instance": "-2184557434545",
            "data": "/greet",
        },
    }
    assert post(stack, update).status_code == 200
    assert replies(api, 502)
    assert any(c.params.get("callback_query_id") == "4382bfdwdsb323b2d9" for c in api.of("answerCallbackQuery"))


def test_an_update_type_the_bot_does_not_take_is_ignored(telegram):
    stack, api = telegram
    update = {
        "update_id": next(_ids),
        "my_chat_member": {
            "chat": {"id": 503, "first_name": "Maria", "type": "private"},
            "from": {"id": 503, "is_bot": False, "first_name": "Maria"},
            "date": 1709546403,
            "old_chat_member": {"user": {"id": 7000000001, "is_bot": True, "first_name": "N"}, "status": "member"},
            "new_chat_member": {"user": {"id": 7000000001, "is_bot": True, "first_name": "N"}, "status": "kicked"},
        },
    }
    answer = post(stack, update)
    assert answer.status_code == 200 and answer.text == "ignored"
    sticker = text_update(503, "x")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {"file_id": "CAACAgIAAxk", "emoji": "👍", "width": 512, "height": 512}
    assert post(stack, sticker).text == "ignored"
    assert replies(api, 503) == []
    assert "Traceback" not in stack.log()


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-0123456789", SECRET + "x"])
def test_a_forged_update_is_refused(telegram, secret):
    stack, api = telegram
    chat_id = next(_ids)
    answer = post(stack, text_update(chat_id, "cancel my order 48213"), secret=secret)
    refused = answer.status_code == 403
    ATTACKS.append((f"Telegram update with secret header {secret!r:.12}", refused))
    assert refused
    assert post(stack, text_update(chat_id + 1, "hello")).status_code == 200  # processed after the forged one
    assert replies(api, chat_id) == []


def test_a_question_the_nlu_does_not_know_is_answered_from_past_conversations(telegram):
    stack, api = telegram
    assert post(stack, text_update(504, "is there bicycle parking at the warehouse?")).status_code == 200
    said = replies(api, 504)
    assert said == ["From our past conversations with customers: Yes, bike racks are by the warehouse gate. [name]"]
    # nothing similar: the usual fallback
    assert post(stack, text_update(505, "what is the airspeed velocity of an unladen swallow")).status_code == 200
    assert not any("past conversations" in t for t in replies(api, 505))


def test_off_when_the_token_is_unset(demo_bot, tmp_path, monkeypatch):
    """As ``make run`` starts Rasa (no TELEGRAM_* variables): the channel is there but off, the others work."""
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_URL"):
        monkeypatch.delenv(name, raising=False)
    with start_bot(demo_bot, tmp_path, with_actions=False) as bot:
        answer = requests.post(f"{bot.rasa_url}/webhooks/telegram/webhook", json=text_update(506, "hello"), timeout=10)
        assert answer.status_code == 404 and answer.text == "the Telegram channel is off"
        assert requests.get(f"{bot.rasa_url}/webhooks/telegram/", timeout=10).json() == {"status": "off"}
        assert requests.get(f"{bot.rasa_url}/webhooks/rest/", timeout=10).status_code == 200
        assert "Telegram channel off (TELEGRAM_BOT_TOKEN is not set)" in bot.log()
