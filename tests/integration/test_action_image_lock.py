"""The action image's lock file is enough for the actions, past answers included (no Docker engine needed).

actions.Dockerfile installs ``requirements_actions.txt`` with ``--no-deps``, copies a part of the project and
installs it. This test does the same into a fresh virtual environment (the files the Dockerfile copies, the
commands its RUN lines run), builds a reply index there with ``python -m process_data index`` as the compose
``train`` service does, starts the real action server from that environment and asks it for ``action_clarify``
on a message the NLU did not know: the answer must come from the past conversations. A package missing from the
lock (numpy, scipy, scikit-learn, PyYAML…) fails here instead of in a customer's container.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from launcher.services import free_port

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "actions.Dockerfile"

PAIRS = (
    "client,server,chat\n"
    "where is my parcel,It left our warehouse yesterday and arrives on Friday.,c1\n"
    "can I pay by card,Yes: Visa and Mastercard.,c2\n"
)


def _run(args: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600, **kw)  # noqa: S603
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _image_tree(dest: Path) -> None:
    """What the Dockerfile copies into its WORKDIR (``COPY SRC TARGET``), from the working tree."""
    for src, target in re.findall(r"^COPY (\S+) (\S+)$", DOCKERFILE.read_text(), re.M):
        place = dest / target
        if (REPO / src).is_dir():
            shutil.copytree(REPO / src, place, dirs_exist_ok=True)
        else:
            place.mkdir(parents=True, exist_ok=True)  # "." or a folder ("rasa_bot/")
            shutil.copy2(REPO / src, place / Path(src).name)


@pytest.fixture(scope="module")
def action_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("action-image")
    app = root / "app"
    app.mkdir()
    _image_tree(app)
    venv = root / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", str(venv)], cwd=root)
    python = venv / "bin" / "python"
    # the Dockerfile's RUN lines, in its order
    for line in re.findall(r"^RUN (.+)$", DOCKERFILE.read_text(), re.M):
        for part in line.split("&&"):
            words = part.split()
            if words[:1] == ["pip"]:
                _run([str(python), "-m", *words], cwd=app)
    return app, python


def test_the_lock_installs_cleanly_and_holds_what_the_actions_import(action_env):
    app, python = action_env
    assert "No broken requirements" in _run([str(python), "-m", "pip", "check"], cwd=app).stdout
    _run([str(python), "-c", "import rasa_bot.actions, process_data.retrieval, sklearn, scipy, yaml"], cwd=app)


def test_the_action_server_of_the_image_answers_from_past_conversations(action_env, tmp_path):
    app, python = action_env
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(PAIRS, encoding="utf-8")
    models = tmp_path / "models"
    built = _run(
        [str(python), "-m", "process_data", "index", "--settings", str(tmp_path / "none.yml"), "--pairs", str(pairs)]
        + ["--out", str(models), "--current", "retrieval-current.npz"],
        cwd=app,
    )
    assert "built: reply index of 2 past pairs" in built.stdout
    port = free_port()
    env = {
        **os.environ,
        "RETRIEVAL_INDEX": str(models / "retrieval-current.npz"),
        "ACTIONS_DATABASE_URL": f"sqlite:///{tmp_path / 'orders.sqlite3'}",
    }
    server = subprocess.Popen(  # noqa: S603
        [str(python), "-m", "rasa_sdk", "--actions", "rasa_bot.actions", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()  # noqa: S310
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()[-3000:]
                assert time.monotonic() < deadline, "the action server did not start"
                time.sleep(0.5)
        call = {
            "next_action": "action_clarify",
            "sender_id": "c-image",
            "tracker": {
                "sender_id": "c-image",
                "slots": {},
                "latest_message": {"text": "where is my parcel now?", "intent": {"name": "nlu_fallback"}},
                "events": [],
                "paused": False,
                "followup_action": None,
                "active_loop": {},
                "latest_action_name": "action_listen",
            },
            "domain": {"responses": {}, "slots": {}, "intents": [], "entities": [], "actions": []},
            "version": "3.6.21",
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhook",
            data=json.dumps(call).encode(),
            headers={"Content-Type": "application/json"},
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())  # noqa: S310
        texts = [r.get("text") or "" for r in answer["responses"]]
        assert any("It left our warehouse yesterday and arrives on Friday." in t for t in texts), answer
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
