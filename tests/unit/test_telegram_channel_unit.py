"""rasa_bot.channels.telegram without a server: settings, update parsing, webhook registration errors."""

from __future__ import annotations

import asyncio

import pytest
from rasa.shared.exceptions import RasaException

from rasa_bot.channels.telegram import SecureTelegramInput

ENV = {
    "TELEGRAM_BOT_TOKEN": "123456789:AAF-test",
    "TELEGRAM_BOT_NAME": "northwind_bot",
    "TELEGRAM_WEBHOOK_URL": "https://bot.example.com/webhooks/telegram/webhook",
    "TELEGRAM_WEBHOOK_SECRET": "s" * 32,
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*ENV, "TELEGRAM_API_URL", "MY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_off_without_a_token(env) -> None:
    channel = SecureTelegramInput.from_credentials(None)
    assert not channel.enabled
    env.setenv("TELEGRAM_BOT_TOKEN", "   ")
    assert not SecureTelegramInput.from_credentials({}).enabled


def test_on_from_the_environment_and_named_variables(env) -> None:
    for name, value in ENV.items():
        env.setenv(name, value)
    channel = SecureTelegramInput.from_credentials({})
    assert channel.enabled and channel.verify == "northwind_bot" and channel.secret_token == "s" * 32
    assert channel.get_output_channel().server.base.startswith("https://api.telegram.org/")
    env.setenv("MY_TOKEN", "987:other")
    env.setenv("TELEGRAM_API_URL", "http://127.0.0.1:9/")
    channel = SecureTelegramInput.from_credentials({"access_token_env": "MY_TOKEN"})
    assert channel.access_token == "987:other"
    assert channel.get_output_channel().server.base == "http://127.0.0.1:9/bot{token}/{method}"


@pytest.mark.parametrize(
    ("unset", "bad", "message"),
    [
        ("TELEGRAM_WEBHOOK_SECRET", {}, "TELEGRAM_WEBHOOK_SECRET must be 16 to 256"),
        (None, {"TELEGRAM_WEBHOOK_SECRET": "short"}, "must be 16 to 256"),
        (None, {"TELEGRAM_WEBHOOK_SECRET": "has spaces in it, sixteen+"}, "must be 16 to 256"),
        ("TELEGRAM_BOT_NAME", {}, "TELEGRAM_BOT_NAME .* is unset"),
    ],
)
def test_a_token_without_a_good_secret_or_name_fails_at_start(env, unset, bad, message) -> None:
    for name, value in {**ENV, **bad}.items():
        if name != unset:
            env.setenv(name, value)
    with pytest.raises(RasaException, match=message):
        SecureTelegramInput.from_credentials({})


def test_unknown_setting_in_credentials(env) -> None:
    with pytest.raises(RasaException, match="unknown setting\\(s\\) token"):
        SecureTelegramInput.from_credentials({"token": "x"})


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        ({"message": {"chat": {"id": 5}, "text": "hi"}}, ("5", "hi", None)),
        ({"message": {"chat": {"id": 5}, "text": "/start"}}, ("5", "hello", None)),
        ({"message": {"chat": {"id": 5}, "text": "/start@northwind_bot"}}, ("5", "hello", None)),
        ({"edited_message": {"chat": {"id": -100}, "text": "fixed typo"}}, ("-100", "fixed typo", None)),
        (
            {"message": {"chat": {"id": 5}, "location": {"longitude": 2.35, "latitude": 48.85}}},
            ("5", '{"lng": 2.35, "lat": 48.85}', None),
        ),
        (
            {"callback_query": {"id": "cb1", "data": "/greet", "message": {"chat": {"id": 6}}, "from": {"id": 9}}},
            ("6", "/greet", "cb1"),
        ),
        ({"callback_query": {"id": "cb2", "data": "/greet", "from": {"id": 9}}}, ("9", "/greet", "cb2")),
        ({"callback_query": {"id": "cb3", "game_short_name": "x", "from": {"id": 9}}}, None),
        ({"message": {"chat": {"id": 5}, "sticker": {"file_id": "x"}}}, None),
        ({"message": {"chat": {"id": 5}, "text": "   "}}, None),
        ({"message": {"text": "no chat"}}, None),
        ({"message": "not an object"}, None),
        ({"my_chat_member": {"chat": {"id": 5}}}, None),
        ({"poll": {"id": "1"}}, None),
        ({}, None),
    ],
)
def test_parse_update(update: dict, expected) -> None:
    assert SecureTelegramInput.parse_update(update) == expected


def test_registration_failure_is_logged_not_raised(env, caplog) -> None:
    for name, value in ENV.items():
        env.setenv(name, value)
    env.setenv("TELEGRAM_API_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    channel = SecureTelegramInput.from_credentials({})

    async def register() -> bool:
        out = channel.get_output_channel()
        try:
            return await channel.register_webhook(out)
        finally:
            await out.session.close()

    assert asyncio.run(register()) is False
    assert "could not set the webhook" in caplog.text


def _sent(buttons: list[dict]) -> list[tuple[str, object]]:
    from rasa_bot.channels.telegram import ProjectTelegramOutput

    out = ProjectTelegramOutput("123456789:AAF-test", "http://127.0.0.1:9")
    sent: list[tuple[str, object]] = []

    async def send_message(chat_id, text, reply_markup=None, **kwargs):
        sent.append((text, reply_markup))

    out.send_message = send_message
    asyncio.run(out.send_text_with_buttons("5", "Pick one", buttons))
    return sent


def test_buttons_stacked_when_many_and_payloads_kept_within_64_bytes() -> None:
    few = _sent([{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}])
    assert [[b.callback_data for b in row] for row in few[0][1].inline_keyboard] == [["/affirm", "/deny"]]
    many = _sent([{"title": str(i), "payload": f"/intent_{i}"} for i in range(5)])
    assert [len(row) for row in many[0][1].inline_keyboard] == [1] * 5
    long_entities = '/check_order_status{"order_id": "' + "4" * 60 + '"}'
    cut = _sent([{"title": "Status", "payload": long_entities}, {"title": "x", "payload": "/" + "y" * 70}])
    assert [[b.callback_data for b in row] for row in cut[0][1].inline_keyboard] == [["/check_order_status"]]
    assert _sent([{"title": "x", "payload": "/" + "y" * 70}]) == [("Pick one", None)]
