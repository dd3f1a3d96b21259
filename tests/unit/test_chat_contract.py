"""The token contract between the site and the bots: each bot server accepts only tokens for itself."""

from __future__ import annotations

import time

import jwt
import pytest

from chat_contract import DEFAULT_BOT_ID, MAX_TOKEN_LIFETIME, MIN_KEY_LENGTH
from chat_contract.tokens import TokenRejected, issue_token, new_conversation_id, opaque_audience, verify_token

KEY = "k" * 40
SID = new_conversation_id()


def signed(**claims) -> str:
    return jwt.encode(claims, KEY, algorithm="HS256")


def test_a_token_is_accepted_by_its_own_bot_only_even_with_a_shared_secret():
    token, expires = issue_token(SID, bot_id="bot-a", secret=KEY, lifetime=600)
    grant = verify_token(token, key=KEY, audience="bot-a")
    assert (grant.conversation_id, grant.bot_id, grant.expires_at) == (SID, "bot-a", expires)
    with pytest.raises(TokenRejected, match=r"token for another bot \(aud 'bot-a'\)"):
        verify_token(token, key=KEY, audience="bot-b")


def test_a_server_of_several_bots_accepts_each_of_them_and_says_which():
    for bot in ("echo", "faq"):
        token, _ = issue_token(SID, bot_id=bot, secret=KEY, lifetime=600)
        assert verify_token(token, key=KEY, audience={"echo", "faq"}).bot_id == bot
    token, _ = issue_token(SID, bot_id="demo", secret=KEY, lifetime=600)
    with pytest.raises(TokenRejected, match="another bot"):
        verify_token(token, key=KEY, audience={"echo", "faq"})


def test_an_anonymous_token_does_not_name_its_bot_and_only_that_bot_accepts_it():
    token, _ = issue_token(SID, bot_id="logreg", secret=KEY, lifetime=600, anonymous=True)
    aud = jwt.decode(token, options={"verify_signature": False})["aud"]
    assert aud == opaque_audience("logreg", KEY) and "logreg" not in aud and len(aud) == 34
    assert opaque_audience("logreg", "x" * 40) != aud != opaque_audience("demo", KEY)  # keyed and per bot
    assert verify_token(token, key=KEY, audience="logreg").bot_id == "logreg"
    assert verify_token(token, key=KEY, audience={"demo", "logreg"}).bot_id == "logreg"
    with pytest.raises(TokenRejected, match="another bot"):
        verify_token(token, key=KEY, audience="demo")
    # another server that shares the bot's id but not its secret refuses it (the signature, then the audience)
    with pytest.raises(TokenRejected, match="bad signature"):
        verify_token(token, key="y" * 40, audience="logreg")
    forged = signed(sub=SID, aud=opaque_audience("logreg", "y" * 40), exp=int(time.time()) + 60)
    with pytest.raises(TokenRejected, match="another bot"):
        verify_token(forged, key=KEY, audience="logreg")


AUDIENCE_ATTACKS = {
    "no aud": signed(sub=SID, exp=int(time.time()) + 60),
    "aud of another bot": signed(sub=SID, aud="other", exp=int(time.time()) + 60),
    "aud a list naming this bot and another": signed(sub=SID, aud=["demo", "other"], exp=int(time.time()) + 60),
    "aud a list of this bot alone": signed(sub=SID, aud=["demo"], exp=int(time.time()) + 60),
    "aud empty": signed(sub=SID, aud="", exp=int(time.time()) + 60),
    "aud a number": signed(sub=SID, aud=7, exp=int(time.time()) + 60),
    "aud that differs in case": signed(sub=SID, aud="Demo", exp=int(time.time()) + 60),
}


@pytest.mark.parametrize("attack", list(AUDIENCE_ATTACKS))
def test_tokens_not_for_exactly_this_bot_are_refused(attack):
    with pytest.raises(TokenRejected):
        verify_token(AUDIENCE_ATTACKS[attack], key=KEY, audience="demo")


def test_the_refusal_never_echoes_an_untrusted_audience():
    token = signed(sub=SID, aud="<script>" * 3, exp=int(time.time()) + 60)
    with pytest.raises(TokenRejected) as caught:
        verify_token(token, key=KEY, audience="demo")
    assert "<script>" not in str(caught.value)


def test_the_earlier_rules_hold():
    now = int(time.time())
    cases = {
        "bad signature": jwt.encode({"sub": SID, "aud": "demo", "exp": now + 60}, "x" * 40, algorithm="HS256"),
        "token expired": signed(sub=SID, aud="demo", exp=now - 1),
        f"exp more than {MAX_TOKEN_LIFETIME} s away": signed(sub=SID, aud="demo", exp=now + MAX_TOKEN_LIFETIME + 60),
        "missing claim 'sub'": signed(aud="demo", exp=now + 60),
        "sub is not a conversation id": signed(sub="../x", aud="demo", exp=now + 60),
        "nbf in the future": signed(sub=SID, aud="demo", exp=now + 60, nbf=now + 60),
        "invalid token": jwt.encode({"sub": SID, "aud": "demo", "exp": now + 60}, KEY, algorithm="HS512"),
    }
    for reason, token in cases.items():
        with pytest.raises(TokenRejected, match=reason.split(" (")[0]):
            verify_token(token, key=KEY, audience="demo")


def test_a_server_must_say_which_audience_it_serves():
    with pytest.raises(ValueError, match="audience"):
        verify_token(signed(sub=SID, aud="demo", exp=int(time.time()) + 60), key=KEY, audience=set())


def test_the_channels_take_their_audience_from_credentials():
    from rasa_bot.channels.secure_rest import SecureRestInput
    from rasa_bot.channels.secure_socketio import SecureSocketIOInput

    for channel in (SecureSocketIOInput, SecureRestInput):
        assert channel.from_credentials({"jwt_key": KEY}).audience == DEFAULT_BOT_ID
        assert channel.from_credentials({"jwt_key": KEY, "audience": ""}).audience == DEFAULT_BOT_ID
        assert channel.from_credentials({"jwt_key": KEY, "audience": "logreg"}).audience == "logreg"
        with pytest.raises(ValueError, match="audience must be a bot id"):
            channel.from_credentials({"jwt_key": KEY, "audience": "Not A Bot"})
        with pytest.raises(ValueError, match=f"at least {MIN_KEY_LENGTH} characters"):
            channel.from_credentials({"jwt_key": "k" * (MIN_KEY_LENGTH - 1)})
        with pytest.raises(ValueError, match=f"between 1 and {MAX_TOKEN_LIFETIME} seconds"):
            channel.from_credentials({"jwt_key": KEY, "max_token_lifetime": MAX_TOKEN_LIFETIME + 1})


def test_the_channel_checks_tokens_against_its_audience():
    from rasa_bot.channels.secure_socketio import SecureSocketIOInput

    channel = SecureSocketIOInput.from_credentials({"jwt_key": KEY, "audience": "logreg"})
    token, _ = issue_token(SID, bot_id="logreg", secret=KEY, lifetime=600)
    assert channel._verify(token).bot_id == "logreg"
    demo_token, _ = issue_token(SID, bot_id="demo", secret=KEY, lifetime=600)
    with pytest.raises(TokenRejected, match="another bot"):
        channel._verify(demo_token)
