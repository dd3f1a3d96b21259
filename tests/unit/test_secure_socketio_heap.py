"""The channel tunes the garbage collector: the start-up heap frozen, young collections rarer."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from rasa_bot.channels.secure_socketio import SecureSocketIOInput

KEY = "k" * 40


def test_tuning_takes_the_startup_objects_out_of_full_collections():
    # in a child process: freezing this test process would hide its garbage from the collector
    script = textwrap.dedent(
        """
        import gc
        import weakref

        import rasa_bot.channels.secure_socketio as channel

        model = [[i] for i in range(200_000)]  # stands for the loaded model (lists are tracked)
        tracked = len(gc.get_objects())
        frozen = channel.tune_collector_for_serving()
        after = len(gc.get_objects())
        assert gc.get_threshold()[0] == channel.SERVING_GC_THRESHOLD0

        class Node:
            pass

        freed = []
        node = Node()
        node.me = node  # a reference cycle created after start-up...
        weakref.finalize(node, freed.append, True)
        del node
        gc.collect()
        assert freed == [True]  # ...is still collected
        print(tracked, frozen, after)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    tracked, frozen, after = map(int, out.split())
    assert frozen >= 200_000
    assert after < tracked - 200_000


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("", True), (True, True), (False, False), ("false", False), ("0", False), ("yes", True)],
)
def test_tuning_can_be_turned_off_in_credentials(value, expected):
    credentials = {"jwt_key": KEY}
    if value is not None:
        credentials["tune_garbage_collector"] = value
    assert SecureSocketIOInput.from_credentials(credentials).tune_garbage_collector is expected
