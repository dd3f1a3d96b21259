"""Scripted bots: only decorated classes can be named; the baselines answer as described."""

from __future__ import annotations

import pytest

from scripted_bots import ScriptedBot, ScriptedBotError, registered, resolve, scripted_bot
from scripted_bots.baselines import CannotHelpBot, EchoBot, FaqBot
from scripted_bots.server import ServerConfig, parse_bots


def test_the_baselines_are_registered_by_their_dotted_path():
    assert resolve("scripted_bots.baselines.EchoBot") is EchoBot
    assert {"scripted_bots.baselines.CannotHelpBot", "scripted_bots.baselines.FaqBot"} <= set(registered())


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("os.system", "is not a class registered with @scripted_bot"),
        ("scripted_bots.base.ScriptedBot", "is not a class registered with @scripted_bot"),
        ("scripted_bots.baselines.NoSuchBot", "registered in scripted_bots.baselines: scripted_bots.baselines."),
        ("no_such_module.Bot", "module 'no_such_module' cannot be imported"),
        ("EchoBot", "is not a dotted path"),
        ("scripted_bots.baselines.EchoBot; rm -rf /", "is not a dotted path"),
    ],
)
def test_anything_else_is_refused_with_the_reason(path, reason):
    with pytest.raises(ScriptedBotError, match=reason.replace(".", r"\.").replace("(", r"\(")):
        resolve(path)


def test_the_decorator_takes_scripted_bots_only():
    with pytest.raises(TypeError):
        scripted_bot(dict)

    @scripted_bot
    class Shouting(ScriptedBot):
        def reply(self, text):
            return [{"text": text.upper()}]

    assert registered()[f"{Shouting.__module__}.{Shouting.__qualname__}"] is Shouting


def test_echo_and_cannot_help():
    assert EchoBot("c" * 32).reply("hello") == [{"text": "You said: hello"}]
    assert "can't help" in CannotHelpBot("c" * 32).reply("where is my order")[0]["text"]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Where is my order?", "track your order"),
        ("I want to cancel my order", "To cancel an order"),
        ("when do I get my money back", "Refunds reach your account"),
        ("can I get an invoice", "Invoices are under"),
        ("what payment methods do you take", "We accept cards"),
        ("hello", "Hello!"),
        ("tell me a joke", "I don't know that one"),
        ("", "I don't know that one"),
    ],
)
def test_the_faq_answers_by_shared_keywords(question, answer):
    assert answer in FaqBot("c" * 32).reply(question)[0]["text"]


def test_server_arguments_and_settings_are_checked():
    assert parse_bots(["faq=scripted_bots.baselines.FaqBot"]) == {"faq": FaqBot}
    for bad, reason in (
        (["faq"], "expected ID=dotted.Class"),
        (["Bad Id=scripted_bots.baselines.FaqBot"], "expected ID=dotted.Class"),
        (["faq=scripted_bots.baselines.FaqBot", "faq=scripted_bots.baselines.EchoBot"], "given twice"),
        (["faq=os.system"], "not a class registered"),
    ):
        with pytest.raises(ValueError, match=reason):
            parse_bots(bad)
    with pytest.raises(ValueError, match="at least 32 characters"):
        ServerConfig(bots={"faq": FaqBot}, jwt_secret="short")
    with pytest.raises(ValueError, match="at least one bot"):
        ServerConfig(bots={}, jwt_secret="s" * 40)
