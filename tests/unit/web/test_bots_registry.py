"""The bot registry: the model's rules, the YAML file and ``load_bots``, secrets kept out of the database, the admin."""

from __future__ import annotations

import io
import textwrap

import pytest
from bots.bots_file import BotsFileError, parse_bots_file
from bots.models import Bot, BotUnavailable
from bots.services import bots_load
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings

from tests.unit.web.factories import bot_create

GOOD = """\
bots:
  demo:
    label: Customer service
    kind: rasa
    socket_url: ${SOCKET}
    api_url: http://rasa:5005
    api_token_env: RASA_API_TOKEN
  echo:
    label: Echo
    participant_label: Assistant B
    kind: python
    python_class: scripted_bots.baselines.EchoBot
    socket_url: http://127.0.0.1:5007
"""


def load(text: str, prune: bool = False, **environ: str):
    entries = parse_bots_file(textwrap.dedent(text), source="bots.yml", environ=environ)
    return bots_load(entries=entries, source="bots.yml", prune=prune)


class LoadingTests(TestCase):
    def test_a_file_creates_then_updates_its_bots(self):
        result = load(GOOD, SOCKET="http://127.0.0.1:5005")
        assert result.created == ["demo", "echo"]
        demo, echo = Bot.objects.get(id="demo"), Bot.objects.get(id="echo")
        assert demo.socket_url == "http://127.0.0.1:5005" and demo.jwt_secret_env == "RASA_JWT_SECRET"
        assert (echo.kind, echo.display_label, echo.socket_path) == ("python", "Assistant B", "/socket.io")
        assert load(GOOD, SOCKET="http://127.0.0.1:5005").unchanged == ["demo", "echo"]
        assert load(GOOD, SOCKET="https://chat.example.com").updated == ["demo"]
        assert Bot.objects.get(id="demo").socket_url == "https://chat.example.com"

    def test_a_field_left_out_goes_back_to_its_default(self):
        load(GOOD, SOCKET="http://a:1")
        load(GOOD.replace("    participant_label: Assistant B\n", ""), SOCKET="http://a:1")
        assert Bot.objects.get(id="echo").participant_label == ""

    def test_prune_disables_bots_the_file_does_not_name(self):
        load(GOOD, SOCKET="http://a:1")
        only_demo = GOOD.split("  echo:")[0]
        assert load(only_demo, SOCKET="http://a:1").disabled == []  # without --prune nothing is disabled
        assert load(only_demo, prune=True, SOCKET="http://a:1").disabled == ["echo"]
        assert Bot.objects.get(id="echo").enabled is False
        assert Bot.objects.get(id="demo").enabled is True

    def test_a_file_with_a_mistake_writes_nothing(self):
        bad = GOOD.replace("kind: python", "kind: robot")
        with pytest.raises(BotsFileError):
            load(bad, SOCKET="http://a:1")
        assert Bot.objects.count() == 0

    def test_the_command_loads_and_reports(self):
        path = self._write(GOOD.replace("${SOCKET}", "http://127.0.0.1:5005"))
        out = io.StringIO()
        call_command("load_bots", str(path), stdout=out)
        assert "created: demo, echo" in out.getvalue()

    def test_the_command_names_every_mistake_without_a_traceback(self):
        bad = GOOD.replace("kind: python", "kind: robot").replace("http://rasa:5005", "rasa:5005")
        path = self._write(bad.replace("${SOCKET}", "http://127.0.0.1:5005"))
        with pytest.raises(CommandError) as caught:
            call_command("load_bots", str(path))
        message = str(caught.value)
        assert message.startswith("2 mistakes, nothing loaded:")
        assert f"{path}, line 6: bot 'demo', field 'api_url': Enter an http:// or https:// URL" in message
        assert f"{path}, line 11: bot 'echo', field 'kind': Value 'robot' is not a valid choice." in message

    def test_the_command_says_when_the_file_is_missing(self):
        with pytest.raises(CommandError, match="cannot read /nonexistent/bots.yml"):
            call_command("load_bots", "/nonexistent/bots.yml")

    def _write(self, text: str):
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp())
        path = folder / "bots.yml"
        path.write_text(text)
        return path


#: One mistake each, and what the error must say (file, line, bot, field, what is wrong).
MISTAKES = {
    "unknown field": (
        "  demo:\n    label: D\n    socket_url: http://a:1\n    colour: blue\n",
        "bots.yml, line 5: bot 'demo', field 'colour': unknown field",
    ),
    "unknown kind": (
        "  demo:\n    label: D\n    kind: robot\n    socket_url: http://a:1\n",
        "bots.yml, line 4: bot 'demo', field 'kind': Value 'robot' is not a valid choice",
    ),
    "socket URL without a scheme": (
        "  demo:\n    label: D\n    socket_url: localhost:5005\n",
        "bots.yml, line 4: bot 'demo', field 'socket_url': Enter an http:// or https:// URL",
    ),
    "socket URL with a bad port": (
        "  demo:\n    label: D\n    socket_url: http://a:99999\n",
        "bots.yml, line 4: bot 'demo', field 'socket_url': The URL's port",
    ),
    "id that is not a slug": (
        "  Demo Bot:\n    label: D\n    socket_url: http://a:1\n",
        "bots.yml, line 2: bot 'Demo Bot' (the id): Lower-case letters",
    ),
    "label missing": (
        "  demo:\n    socket_url: http://a:1\n",
        "bots.yml, line 2: bot 'demo', field 'label': missing",
    ),
    "secret variable that is not a variable name": (
        "  demo:\n    label: D\n    socket_url: http://a:1\n    jwt_secret_env: my secret\n",
        "bots.yml, line 5: bot 'demo', field 'jwt_secret_env': The name of an environment variable",
    ),
    "API without its token variable": (
        "  demo:\n    label: D\n    socket_url: http://a:1\n    api_url: http://a:1\n",
        "bots.yml, line 2: bot 'demo', field 'api_token_env': missing",
    ),
    "Rasa bot with a class": (
        "  demo:\n    label: D\n    socket_url: http://a:1\n    python_class: scripted_bots.baselines.EchoBot\n",
        "bots.yml, line 5: bot 'demo', field 'python_class': Only scripted (python) bots have a class",
    ),
    "scripted bot without a class": (
        "  echo:\n    label: E\n    kind: python\n    socket_url: http://a:1\n",
        "bots.yml, line 2: bot 'echo', field 'python_class': missing",
    ),
    "scripted bot with a class not registered": (
        "  echo:\n    label: E\n    kind: python\n    socket_url: http://a:1\n    python_class: os.system\n",
        "bots.yml, line 6: bot 'echo', field 'python_class': 'os.system' is not a class registered with @scripted_bot",
    ),
    "scripted bot whose module does not import": (
        "  echo:\n    label: E\n    kind: python\n    socket_url: http://a:1\n    python_class: nowhere.at.All\n",
        "bots.yml, line 6: bot 'echo', field 'python_class': module 'nowhere.at' cannot be imported",
    ),
    "scripted bot with an HTTP API": (
        "  echo:\n    label: E\n    kind: python\n    socket_url: http://a:1\n"
        "    python_class: scripted_bots.baselines.EchoBot\n    api_url: http://a:1\n",
        "bots.yml, line 7: bot 'echo', field 'api_url': Only Rasa bots have an HTTP API",
    ),
    "variable not set": (
        "  demo:\n    label: D\n    socket_url: ${NOT_SET_ANYWHERE}\n",
        "bots.yml, line 4: bot 'demo', field 'socket_url': environment variable NOT_SET_ANYWHERE is not set",
    ),
    "a list where one value belongs": (
        "  demo:\n    label: [a, b]\n    socket_url: http://a:1\n",
        "bots.yml, line 3: bot 'demo', field 'label': expected a single value",
    ),
    "enabled that is not true or false": (
        "  demo:\n    label: D\n    socket_url: http://a:1\n    enabled: maybe\n",
        "bots.yml, line 5: bot 'demo', field 'enabled': expected true or false",
    ),
    "label that is a number": (
        "  demo:\n    label: 42\n    socket_url: http://a:1\n",
        "bots.yml, line 3: bot 'demo', field 'label': expected text",
    ),
    "a bot that is not a mapping": (
        "  demo: yes\n",
        "bots.yml, line 2: bot 'demo': expected a mapping of fields",
    ),
}

FILE_MISTAKES = {
    "empty file": ("", "bots.yml: the file is empty"),
    "not YAML": ("bots:\n  demo: [\n", "bots.yml, line 3: not valid YAML"),
    "no bots key": ("robots: {}\n", "bots.yml, line 1: unknown key 'robots' (only 'bots')"),
    "bots is a list": ("bots:\n  - demo\n", "bots.yml, line 2: 'bots' must map bot ids to their fields"),
    "a bot twice": (
        "bots:\n  demo:\n    label: D\n    socket_url: http://a:1\n  demo:\n    label: E\n",
        "bots.yml, line 5: bot 'demo' is defined twice",
    ),
}


class MistakeTests(TestCase):
    def test_each_mistake_names_the_line_the_bot_and_the_field(self):
        for name, (body, expected) in MISTAKES.items():
            with self.subTest(name):
                with pytest.raises(BotsFileError) as caught:
                    load("bots:\n" + body)
                assert len(caught.value.problems) == 1, caught.value.problems
                assert caught.value.problems[0].startswith(expected), caught.value.problems[0]

    def test_mistakes_of_the_whole_file(self):
        for name, (text, expected) in FILE_MISTAKES.items():
            with self.subTest(name):
                with pytest.raises(BotsFileError) as caught:
                    load(text)
                assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems

    def test_every_mistake_of_a_file_is_reported_at_once(self):
        body = "".join(
            b.replace("  demo:", f"  d{i}:").replace("  echo:", f"  e{i}:")
            for i, (b, _) in enumerate(MISTAKES.values())
        )
        with pytest.raises(BotsFileError) as caught:
            load("bots:\n" + body)
        assert len(caught.value.problems) == len(MISTAKES)


class SecretTests(TestCase):
    def test_no_field_holds_a_secret(self):
        names = {f.name for f in Bot._meta.get_fields()}
        assert not any("secret" in n and not n.endswith("_env") for n in names)
        assert not any("token" in n and not n.endswith("_env") for n in names)

    @override_settings(RASA_JWT_SECRET="d" * 40)
    def test_the_default_secret_comes_from_the_settings(self):
        assert bot_create().jwt_secret() == "d" * 40

    def test_a_bot_secret_comes_from_the_variable_it_names(self):
        bot = bot_create(jwt_secret_env="OTHER_BOT_SECRET")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("OTHER_BOT_SECRET", "o" * 40)
            assert bot.jwt_secret() == "o" * 40
            mp.setenv("OTHER_BOT_SECRET", "short")
            with pytest.raises(BotUnavailable, match="OTHER_BOT_SECRET is shorter than 32 characters"):
                bot.jwt_secret()
            mp.delenv("OTHER_BOT_SECRET")
            with pytest.raises(
                BotUnavailable, match="bot 'demo': the environment variable OTHER_BOT_SECRET is not set"
            ):
                bot.jwt_secret()

    def test_the_api_token_comes_from_the_variable_it_names(self):
        bot = bot_create(api_url="http://rasa:5005", api_token_env="DEMO_API_TOKEN")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("DEMO_API_TOKEN", "t0ken")
            assert bot.api_token() == "t0ken"
        assert bot_create("other").api_token() is None


class AdminTests(TestCase):
    def setUp(self):
        from django.contrib.auth.models import User

        self.staff = User.objects.create_superuser("admin", "admin@example.com", "pw")

    def test_staff_edit_bots_in_the_admin(self):
        bot_create()
        self.client.force_login(self.staff)
        listing = self.client.get("/admin/bots/bot/")
        assert listing.status_code == 200 and b"demo" in listing.content
        change = self.client.get("/admin/bots/bot/demo/change/")
        assert change.status_code == 200
        assert b"names of environment variables, never the values" in change.content
        added = self.client.post(
            "/admin/bots/bot/add/",
            {
                "id": "echo",
                "label": "Echo",
                "kind": "python",
                "python_class": "scripted_bots.baselines.EchoBot",
                "socket_url": "http://127.0.0.1:5007",
                "socket_path": "/socket.io",
                "jwt_secret_env": "RASA_JWT_SECRET",
                "enabled": "on",
            },
        )
        assert added.status_code == 302, added.content.decode()[:2000]
        assert Bot.objects.get(id="echo").python_class == "scripted_bots.baselines.EchoBot"

    def test_the_admin_refuses_an_unregistered_class(self):
        self.client.force_login(self.staff)
        page = self.client.post(
            "/admin/bots/bot/add/",
            {
                "id": "evil",
                "label": "Evil",
                "kind": "python",
                "python_class": "os.system",
                "socket_url": "http://127.0.0.1:5007",
                "socket_path": "/socket.io",
                "jwt_secret_env": "RASA_JWT_SECRET",
            },
        )
        assert page.status_code == 200 and b"is not a class registered with @scripted_bot" in page.content
        assert not Bot.objects.filter(id="evil").exists()

    def test_visitors_are_sent_to_log_in(self):
        assert self.client.get("/admin/bots/bot/").status_code == 302
