"""`make run`'s launcher, as a user runs it: serves, prints the URL, stops everything on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from launcher import paths
from launcher.build import copy_bot_sources
from launcher.services import free_port, port_in_use

pytestmark = pytest.mark.integration


def start_launcher(tmp_path, ports: dict[str, int], command: str = "run") -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RASA_", "ACTION", "SCRIPTED_"))}
    env.update({k: str(v) for k, v in ports.items()})
    cmd = [
        sys.executable,
        "-m",
        "launcher",
        command,
        "--bot-dir",
        str(tmp_path / "bot"),
        "--env-file",
        str(tmp_path / ".env"),
        "--state-dir",
        str(tmp_path / "state"),
    ]
    return subprocess.Popen(cmd, cwd=paths.REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_until_url(proc: subprocess.Popen, timeout: float = 300) -> tuple[str, str]:
    """Read the launcher's output until it prints the URL to open."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(r"Open (http://\S+)", line)
        if match:
            return match.group(1), "".join(seen)
    raise AssertionError("the launcher printed no URL:\n" + "".join(seen))


def test_run_prints_url_serves_and_stops_cleanly_on_ctrl_c(tmp_path):
    copy_bot_sources(tmp_path / "bot")
    ports = {"DJANGO_PORT": free_port(), "RASA_PORT": free_port(), "ACTIONS_PORT": free_port()}
    for attempt, stop in (("first", signal.SIGINT), ("second", signal.SIGTERM), ("third", signal.SIGKILL)):
        proc = start_launcher(tmp_path, ports)
        try:
            url, output = read_until_url(proc)
            assert requests.get(url, timeout=10).status_code == 200
            assert requests.get(f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/", timeout=10).ok
            if attempt == "first":
                assert "wrote development secrets" in output
            else:  # nothing is regenerated or retrained on a second run
                assert "wrote development secrets" not in output
                assert "model up to date" in output and "training the model" not in output
            proc.send_signal(stop)
            # Ctrl-C and kill stop cleanly; even a SIGKILLed launcher takes its servers down with it.
            assert proc.wait(120) == (-signal.SIGKILL if stop == signal.SIGKILL else 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        deadline = time.monotonic() + 60
        while any(port_in_use(p) for p in ports.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        for name, port in ports.items():
            assert not port_in_use(port), f"{name} {port} still answers after {stop.name}"
    assert (tmp_path / "state" / "tracker.sqlite3").exists()
    assert (tmp_path / "bot" / "data" / "nlu.yml").exists()


def test_run_refuses_a_port_in_use(tmp_path):
    import socket

    copy_bot_sources(tmp_path / "bot")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        ports = {"DJANGO_PORT": taken, "RASA_PORT": free_port(), "ACTIONS_PORT": free_port()}
        proc = start_launcher(tmp_path, ports)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert f"port {taken} (DJANGO_PORT) is already in use" in out


def read_until_bot_urls(proc: subprocess.Popen, timeout: float = 600) -> tuple[dict[str, str], str, str]:
    """Read ``run-bots``' output until it has printed one URL per bot and the side-by-side page."""
    seen: list[str] = []
    urls: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if match := re.match(r"\s+([a-z0-9_-]+)\s+Open (http://\S+)", line):
            urls[match.group(1)] = match.group(2)
        if match := re.search(r"all side by side: (http://\S+)", line):
            return urls, match.group(1), "".join(seen)
    raise AssertionError("run-bots printed no URLs:\n" + "".join(seen))


def test_run_bots_serves_three_bots_with_one_url_each_and_stops_them_all(tmp_path):
    from tests.chat_client import ChatClient, fetch_token

    copy_bot_sources(tmp_path / "bot")
    names = ("DJANGO_PORT", "RASA_PORT", "ACTIONS_PORT", "RASA_LOGREG_PORT", "SCRIPTED_BOTS_PORT")
    ports = {name: free_port() for name in names}
    bot_ports = {"demo": ports["RASA_PORT"], "logreg": ports["RASA_LOGREG_PORT"], "faq": ports["SCRIPTED_BOTS_PORT"]}
    for attempt, stop in (("first", signal.SIGINT), ("second", signal.SIGTERM), ("third", signal.SIGKILL)):
        proc = start_launcher(tmp_path, ports, "run-bots")
        try:
            urls, side_by_side, output = read_until_bot_urls(proc)
            site = f"http://127.0.0.1:{ports['DJANGO_PORT']}"
            assert urls == {bot: f"{site}/bots/{bot}/" for bot in ("demo", "logreg", "faq")}
            for bot, url in urls.items():
                page = requests.get(url, timeout=10)
                assert page.status_code == 200 and f"/chat/{bot}/widget.json" in page.text
                config = requests.get(f"{site}/chat/{bot}/widget.json", timeout=10).json()
                assert config["socket_url"] == f"http://127.0.0.1:{bot_ports[bot]}"
            assert requests.get(side_by_side, timeout=10).text.count("data-chat-widget") == 3
            if attempt != "first":  # nothing is retrained: both models are cached
                assert output.count("model up to date") == 2 and "training the model" not in output
            # each bot answers through its own server, with a token the site issued for it
            for bot, question, expected in (
                ("demo", "hello", "help"),
                ("logreg", "hello", "help"),
                ("faq", "how do I pay", "We accept cards"),
            ):
                token = fetch_token(site, bot=bot)
                chat = ChatClient(f"http://127.0.0.1:{bot_ports[bot]}", site)
                try:
                    chat.connect(token.token, token.session_id)
                    assert expected in chat.ask(question)["text"]
                finally:
                    chat.close()
            proc.send_signal(stop)
            # Ctrl-C and kill stop every service cleanly; even a SIGKILLed launcher takes them all down with it.
            assert proc.wait(120) == (-signal.SIGKILL if stop == signal.SIGKILL else 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        deadline = time.monotonic() + 60
        while any(port_in_use(p) for p in ports.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        for name, port in ports.items():
            assert not port_in_use(port), f"{name} {port} still answers after {stop.name}"
    registry = (tmp_path / "state" / "bots.yml").read_text()
    assert "scripted_bots.baselines.FaqBot" in registry and "RASA_JWT_SECRET" in registry
