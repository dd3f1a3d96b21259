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


def start_launcher(tmp_path, ports: dict[str, int]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RASA_", "ACTION"))}
    env.update({k: str(v) for k, v in ports.items()})
    cmd = [
        sys.executable,
        "-m",
        "launcher",
        "run",
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
            assert proc.wait(60) == (-signal.SIGKILL if stop == signal.SIGKILL else 0)
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
