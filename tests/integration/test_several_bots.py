"""Several bots on one site (``make run-bots``'s stack): each answers with its own tokens, refuses the others'.

The two Rasa servers and the scripted-bot server share one JWT secret, so only
the audience (``aud`` = the bot id) tells their tokens apart: every token the site
issues for one bot is refused by every other bot's server.
"""

from __future__ import annotations

import itertools

import jwt
import pytest
import requests
import socketio

from tests.attack_log import ATTACKS
from tests.chat_client import ChatClient, fetch_token

pytestmark = pytest.mark.integration

BOTS = ("demo", "logreg", "faq")


def test_the_registry_holds_what_runs(several_bots):
    page = requests.get(f"{several_bots.site_url}/bots/", timeout=10)
    assert page.status_code == 200
    assert [b for b in BOTS if f"/chat/{b}/widget.json" in page.text] == list(BOTS)
    for bot in BOTS:
        config = requests.get(f"{several_bots.site_url}/chat/{bot}/widget.json", timeout=10).json()
        assert config["socket_url"] == several_bots.bot_urls[bot]


@pytest.mark.parametrize("bot", BOTS)
def test_each_bot_answers_its_own_conversation(several_bots, bot):
    token = fetch_token(several_bots.site_url, bot=bot)
    claims = jwt.decode(token.token, several_bots.jwt_secret, algorithms=["HS256"], audience=bot)
    assert claims["sub"] == token.session_id
    chat = ChatClient(several_bots.bot_urls[bot], several_bots.site_url)
    try:
        chat.connect(token.token, token.session_id)
        reply = chat.ask("I want to cancel my order")["text"]
    finally:
        chat.close()
    # the two Rasa bots run the demo's domain; the scripted FAQ answers from its list
    assert ("To cancel an order" in reply) if bot == "faq" else ("order" in reply.lower())


def test_one_visitor_has_one_conversation_per_bot(several_bots):
    http = requests.Session()
    ids = {bot: fetch_token(several_bots.site_url, http, bot=bot).session_id for bot in BOTS}
    assert len(set(ids.values())) == len(BOTS)
    assert {bot: fetch_token(several_bots.site_url, http, bot=bot).session_id for bot in BOTS} == ids


@pytest.mark.parametrize(("issued_for", "presented_to"), list(itertools.permutations(BOTS, 2)))
def test_a_token_for_one_bot_is_refused_by_another_with_the_same_secret(several_bots, issued_for, presented_to):
    token = fetch_token(several_bots.site_url, bot=issued_for)
    chat = ChatClient(several_bots.bot_urls[presented_to], several_bots.site_url)
    try:
        chat.connect(token.token, token.session_id, timeout=3)
        refused = False
    except socketio.exceptions.ConnectionError:
        refused = True
    finally:
        chat.close()
    ATTACKS.append((f"token for {issued_for} presented to {presented_to} (shared secret)", refused))
    assert refused, f"{presented_to} accepted a token issued for {issued_for}"
    # and the bot it was issued for still takes it
    own = ChatClient(several_bots.bot_urls[issued_for], several_bots.site_url)
    try:
        own.connect(token.token, token.session_id)
    finally:
        own.close()


def test_the_rasa_servers_say_which_bot_they_serve(several_bots):
    for bot in ("demo", "logreg"):
        log = several_bots.server(bot).log_tail(200_000)
        assert f"tokens for bot {bot!r} only (their aud)" in log
