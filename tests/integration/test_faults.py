"""Faults: the action server dies mid-conversation, Rasa restarts, Django's database is gone.

Each time the user is told something sensible and no conversation is lost.
"""

from __future__ import annotations

import sqlite3

import pytest
import requests

from launcher import paths
from launcher.build import rasa_env
from launcher.services import Service, free_port, load_bots_command, migrate_django
from tests.chat_client import ChatClient, fetch_token

pytestmark = pytest.mark.integration

SORRY = "something went wrong on our side"


def user_texts(tracker_db, session_id: str) -> list[str]:
    with sqlite3.connect(tracker_db) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (session_id,)
        ).fetchall()
    import json

    return [json.loads(data)["text"] for (data,) in rows]


def test_action_server_killed_mid_conversation(private_stack):
    token = fetch_token(private_stack.site_url)
    chat = ChatClient(private_stack.rasa_url, private_stack.site_url)
    chat.connect(token.token, token.session_id)
    actions = private_stack.stack["action server"]
    try:
        assert "shipped" in chat.ask("what is the status of order 12345")["text"]
        actions.stop()
        reply = chat.ask("what is the status of order 48213")
        assert SORRY in reply["text"]  # a polite message, not silence
        actions.start()
        actions.wait_ready(120)
        assert "processing" in chat.ask("what is the status of order 48213")["text"]
    finally:
        if actions.proc is None or actions.proc.poll() is not None:
            actions.start()
            actions.wait_ready(120)
        chat.close()
    said = user_texts(private_stack.tracker_db, token.session_id)
    assert said.count("what is the status of order 48213") == 2  # nothing the user said was lost


def test_rasa_restart_keeps_the_conversation(private_stack):
    http = requests.Session()
    token = fetch_token(private_stack.site_url, http)
    chat = ChatClient(private_stack.rasa_url, private_stack.site_url)
    chat.connect(token.token, token.session_id)
    assert "cancel" in chat.ask("I want to cancel my order")["text"].lower()
    chat.close()

    rasa = private_stack.stack["Rasa server"]
    rasa.stop()
    rasa.start()
    rasa.wait_ready(180)

    again = fetch_token(private_stack.site_url, http)  # a reload: same browser session, same conversation
    assert again.session_id == token.session_id
    chat = ChatClient(private_stack.rasa_url, private_stack.site_url)
    chat.connect(again.token, again.session_id)
    assert chat.ask("hello")["text"]
    chat.close()
    said = user_texts(private_stack.tracker_db, token.session_id)
    assert said == ["I want to cancel my order", "hello"], private_stack.log("Rasa server")[-6000:]


def test_django_without_its_database_shows_a_clear_error(tmp_path):
    port = free_port()
    db = tmp_path / "db.sqlite3"
    settings = {
        "DJANGO_SECRET_KEY": "k" * 50,
        "RASA_JWT_SECRET": "s" * 40,
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "DJANGO_DB_PATH": str(db),
        "RASA_SOCKET_URL": "http://127.0.0.1:5005",
    }
    migrate_django(settings)
    django = Service(
        "Django",
        [paths.tool("python"), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        paths.DJANGO_DIR,
        rasa_env(settings),
        f"http://127.0.0.1:{port}/healthz",
        tmp_path / "django.log",
        prepare=[load_bots_command()],  # the demo bot in the registry, as make run has it
    )
    django.start()
    try:
        django.wait_ready(60)
        site = f"http://127.0.0.1:{port}"
        assert requests.get(f"{site}/", timeout=10).status_code == 200
        db.rename(tmp_path / "away.sqlite3")
        db.mkdir()  # the database file is now unusable: "unable to open database file"

        page = requests.get(f"{site}/", timeout=10)
        assert page.status_code == 503
        assert "temporarily unavailable" in page.text
        assert "Traceback" not in page.text and "OperationalError" not in page.text

        http = requests.Session()
        http.get(f"{site}/healthz", timeout=10)
        api = http.post(
            f"{site}/chat/token",
            headers={"X-CSRFToken": "x" * 32, "Cookie": "csrftoken=" + "x" * 32, "Referer": f"{site}/"},
            timeout=10,
        )
        assert api.status_code == 503 and api.json()["error"] == "unavailable"

        db.rmdir()
        (tmp_path / "away.sqlite3").rename(db)
        assert requests.get(f"{site}/", timeout=10).status_code == 200  # recovers by itself
    finally:
        django.stop()
