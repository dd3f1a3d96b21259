"""The channel freezes the startup heap, so full collections skip the loaded model's objects."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from rasa_bot.channels.secure_socketio import SecureSocketIOInput

KEY = "k" * 40


def test_freezing_takes_the_startup_objects_out_of_full_collections():
    # in a child process: freezing this test process would hide its garbage from the collector
    script = textwrap.dedent(
        """
        import gc
        from rasa_bot.channels.secure_socketio import freeze_startup_heap

        model = [[i] for i in range(200_000)]  # stands for the loaded model (lists are tracked)
        tracked = len(gc.get_objects())
        frozen = freeze_startup_heap()
        after = len(gc.get_objects())
        garbage = [[] for _ in range(3)]
        garbage[0].append(garbage)  # a cycle created after start-up is still collected
        del garbage
        print(tracked, frozen, after, gc.collect())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    tracked, frozen, after, collected = map(int, out.split())
    assert frozen >= 200_000
    assert after < tracked - 200_000
    assert collected >= 4


@pytest.mark.parametrize(
    ("value", "expected"), [(None, True), (True, True), (False, False), ("false", False), ("0", False), ("yes", True)]
)
def test_freezing_can_be_turned_off_in_credentials(value, expected):
    credentials = {"jwt_key": KEY}
    if value is not None:
        credentials["freeze_startup_heap"] = value
    assert SecureSocketIOInput.from_credentials(credentials).freeze_startup_heap is expected
