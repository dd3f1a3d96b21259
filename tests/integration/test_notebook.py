"""The notebook runs top to bottom, headless, and ends talking to a trained bot."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from launcher import paths

pytestmark = pytest.mark.integration

NOTEBOOK = paths.REPO / "jupyter" / "walkthrough.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")


def test_notebook_runs_and_the_bot_answers(demo_bot):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    last = next(o["data"]["text/plain"] for o in nb.cells[-1].outputs if o["output_type"] == "execute_result")
    assert "cancel" in last.lower()
    parsed = "".join(o.get("text", "") for o in nb.cells[-2].outputs)
    assert "'I want to cancel my order'" in parsed and "cancel_order" in parsed
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the intent chart was not drawn"
