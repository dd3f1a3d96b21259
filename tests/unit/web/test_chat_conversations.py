"""Starting conversations and their tokens: bound to one bot; the chat endpoints per bot; the outage middleware."""

from __future__ import annotations

from unittest import mock

import jwt
import pytest
from bots.models import BotUnavailable
from chat.models import Conversation
from chat.services import conversation_start, conversation_token
from chat.views import SESSION_KEY
from django.db import OperationalError
from django.test import Client, TestCase, override_settings
from django.urls import reverse

from chat_contract.tokens import TokenRejected, verify_token
from tests.unit.web.factories import bot_create

SECRET = "test-only-jwt-secret-" + "x" * 32  # config/settings/test.py


def claims(token: str, audience: str) -> dict:
    return jwt.decode(token, SECRET, algorithms=["HS256"], audience=audience)


class ServiceTests(TestCase):
    def test_a_conversation_starts_bound_to_its_bot(self):
        demo = bot_create("demo")
        grant = conversation_start(bot=demo)
        assert Conversation.objects.get(id=grant.conversation_id).bot_id == "demo"
        token = claims(grant.token, "demo")
        assert token["sub"] == grant.conversation_id and token["aud"] == "demo"
        assert token["exp"] - token["iat"] == 900 and grant.expires_at == token["exp"]
        assert grant.as_json() == {
            "token": grant.token,
            "session_id": grant.conversation_id,
            "bot": "demo",
            "expires_at": grant.expires_at,
        }

    def test_each_start_is_a_new_conversation(self):
        demo = bot_create("demo")
        assert conversation_start(bot=demo).conversation_id != conversation_start(bot=demo).conversation_id

    def test_a_fresh_token_is_always_for_the_conversations_own_bot(self):
        demo, other = bot_create("demo"), bot_create("other")
        grant = conversation_start(bot=demo)
        again = conversation_token(conversation=Conversation.objects.get(id=grant.conversation_id))
        assert claims(again.token, "demo")["sub"] == grant.conversation_id
        # the channel of the other bot refuses it, though both bots share the secret
        with pytest.raises(TokenRejected, match="token for another bot"):
            verify_token(again.token, key=SECRET, audience=other.id)

    def test_a_disabled_bot_or_one_without_its_secret_starts_nothing(self):
        with pytest.raises(BotUnavailable, match="disabled"):
            conversation_start(bot=bot_create("off", enabled=False))
        with pytest.raises(BotUnavailable, match="NO_SUCH_SECRET is not set"):
            conversation_start(bot=bot_create("nosecret", jwt_secret_env="NO_SUCH_SECRET"))
        assert Conversation.objects.count() == 0


class EndpointTests(TestCase):
    def setUp(self):
        self.demo = bot_create("demo", label="Customer service")
        self.faq = bot_create(
            "faq", kind="python", python_class="scripted_bots.baselines.FaqBot", socket_url="http://127.0.0.1:5007"
        )
        self.client = Client(enforce_csrf_checks=True)

    def config(self, bot_id: str) -> dict:
        response = self.client.get(reverse("chat:widget-config", args=[bot_id]))
        assert response.status_code == 200 and response["Cache-Control"] == "no-store"
        return response.json()

    def post(self, name: str, bot_id: str):
        csrf = self.config(bot_id)["csrf_token"]
        return self.client.post(reverse(name, args=[bot_id]), HTTP_X_CSRFTOKEN=csrf)

    def test_widget_config_says_where_the_bot_is_and_starts_nothing(self):
        config = self.config("faq")
        assert config["bot"] == "faq" and config["socket_url"] == "http://127.0.0.1:5007"
        assert config["socket_path"] == "/socket.io"
        assert config["token_url"] == "/chat/faq/token" and config["restart_url"] == "/chat/faq/restart"
        assert config["csrf_token"]
        assert Conversation.objects.count() == 0

    def test_one_conversation_per_bot_kept_in_the_session(self):
        first = self.post("chat:bot-token", "demo").json()
        again = self.post("chat:bot-token", "demo").json()
        other = self.post("chat:bot-token", "faq").json()
        assert first["session_id"] == again["session_id"] != other["session_id"]
        assert (first["bot"], other["bot"]) == ("demo", "faq")
        assert claims(other["token"], "faq")["sub"] == other["session_id"]
        assert self.client.session[SESSION_KEY] == {"demo": first["session_id"], "faq": other["session_id"]}

    def test_restart_starts_a_new_conversation_with_that_bot_only(self):
        demo = self.post("chat:bot-token", "demo").json()
        faq = self.post("chat:bot-token", "faq").json()
        restarted = self.post("chat:bot-restart", "demo").json()
        assert restarted["session_id"] != demo["session_id"]
        assert self.post("chat:bot-token", "demo").json()["session_id"] == restarted["session_id"]
        assert self.post("chat:bot-token", "faq").json()["session_id"] == faq["session_id"]

    def test_a_conversation_id_of_one_bot_never_gets_a_token_for_another(self):
        demo = self.post("chat:bot-token", "demo").json()
        session = self.client.session
        session[SESSION_KEY] = {"faq": demo["session_id"]}  # a session tampered with, or a stale one
        session.save()
        faq = self.post("chat:bot-token", "faq").json()
        assert faq["session_id"] != demo["session_id"]
        assert Conversation.objects.get(id=demo["session_id"]).bot_id == "demo"

    def test_the_default_bot_keeps_its_old_endpoints(self):
        csrf = self.config("demo")["csrf_token"]
        token = self.client.post("/chat/token", HTTP_X_CSRFTOKEN=csrf).json()
        assert token["bot"] == "demo" and claims(token["token"], "demo")

    def test_refusals(self):
        assert self.client.post(reverse("chat:bot-token", args=["demo"])).status_code == 403  # no CSRF token
        assert self.client.get(reverse("chat:bot-token", args=["demo"])).status_code == 405
        assert self.client.get(reverse("chat:widget-config", args=["nobody"])).status_code == 404
        self.demo.enabled = False
        self.demo.save()
        assert self.client.get(reverse("chat:widget-config", args=["demo"])).status_code == 404
        assert Conversation.objects.count() == 0

    def test_a_bot_whose_secret_is_missing_answers_503_json(self):
        bot_create("lost", jwt_secret_env="LOST_BOT_SECRET")
        response = self.post("chat:bot-token", "lost")
        assert response.status_code == 503
        assert response.json() == {
            "error": "bot_unavailable",
            "message": "bot 'lost': the environment variable LOST_BOT_SECRET is not set",
        }


class PageTests(TestCase):
    def setUp(self):
        bot_create("demo", label="Customer service")
        bot_create("logreg", label="Logistic regression")

    def test_the_full_page_chat_mounts_the_default_bot(self):
        page = self.client.get("/")
        assert page.status_code == 200
        assert page.content.count(b"data-chat-widget") == 1
        assert b'data-config-url="/chat/demo/widget.json"' in page.content
        assert b' id="' not in page.content  # no fixed element ids: the widget may appear several times

    def test_several_bots_side_by_side_in_the_order_asked(self):
        page = self.client.get("/bots/?bot=logreg&bot=demo")
        html = page.content.decode()
        assert html.count("data-chat-widget") == 2
        assert html.index("/chat/logreg/widget.json") < html.index("/chat/demo/widget.json")
        assert self.client.get("/bots/").content.decode().count("data-chat-widget") == 2
        assert self.client.get("/bots/?bot=nobody").status_code == 404

    def test_one_bot_page_and_the_embedding_example(self):
        assert b"/chat/logreg/widget.json" in self.client.get("/bots/logreg/").content
        example = self.client.get("/bots/logreg/embed").content.decode()
        assert 'src="http://testserver/static/chat/embed.js"' in example
        assert 'data-bot="logreg" data-site="http://testserver"' in example
        assert "&lt;script src=" in example  # shown, to copy
        assert "<script" not in example.split("</pre>")[0].split("<pre>")[1]  # the shown copy is escaped

    def test_without_the_default_bot_the_page_says_how_to_register_it(self):
        with override_settings(CHAT_DEFAULT_BOT="nobody"):
            page = self.client.get("/")
        assert page.status_code == 404 and b"load_bots" in page.content


class OutageTests(TestCase):
    """The database-outage middleware picks JSON by the route's name, so a path prefix changes nothing."""

    def setUp(self):
        bot_create("demo")

    def outage(self, path: str, **extra):
        with mock.patch("chat.views._current_grant", side_effect=OperationalError("database is locked")):
            return Client().post(path, **extra)

    def test_the_token_endpoint_answers_json_503(self):
        response = self.outage("/chat/demo/token")
        assert response.status_code == 503 and response["Retry-After"] == "30"
        assert response.json()["error"] == "unavailable"

    @override_settings(FORCE_SCRIPT_NAME="/support")
    def test_under_a_path_prefix_too(self):
        response = self.outage("/chat/demo/token")
        assert response.wsgi_request.path == "/support/chat/demo/token"  # not /chat/...: a path check would miss it
        assert response.status_code == 503 and response.json()["error"] == "unavailable"
        legacy = self.outage("/chat/token")
        assert legacy.wsgi_request.path == "/support/chat/token" and legacy.json()["error"] == "unavailable"

    @override_settings(FORCE_SCRIPT_NAME="/chat")
    def test_a_page_gets_the_html_503_even_when_its_path_starts_like_the_api(self):
        with mock.patch("chat.views.bot_get_enabled", side_effect=OperationalError("no such table")):
            response = Client().get("/bots/demo/")
        assert response.wsgi_request.path == "/chat/bots/demo/"
        assert response.status_code == 503 and response["Content-Type"].startswith("text/html")
        assert b"right back" in response.content
