"""The notebook runs top to bottom, headless: convert, chart, train, evaluate (table and confusion matrix), talk."""

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
    assert "deliver" in last.lower()
    parsed = "".join(o.get("text", "") for o in nb.cells[-2].outputs)
    assert "'I want to cancel my order'" in parsed and "cancel_order" in parsed
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 2, "the intent chart and the confusion matrix were not both drawn"
    tables = [
        o["data"]["text/html"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if "<table>" in o.get("data", {}).get("text/html", "")
    ]
    assert tables and "precision" in tables[0] and "cancel_order" in tables[0], "no evaluation report table"
    accuracy = float(tables[0].split("accuracy ", 1)[1].split(",", 1)[0])
    assert accuracy > 0.5, f"held-out accuracy {accuracy}: the evaluation looks broken"


def test_make_notebook_serves_on_loopback_without_a_browser_with_the_project_kernel():
    makefile = (paths.REPO / "Makefile").read_text()
    recipe = makefile.split("\nnotebook:", 1)[1].split("\n\n", 1)[0]
    assert "--ServerApp.ip=127.0.0.1" in recipe and "--no-browser" in recipe
    assert "$(PY) -m ipykernel install" in recipe and "--name python3" in recipe
    server_lock = (paths.REPO / "jupyter" / "requirements-server.txt").read_text().splitlines()
    assert all("==" in line for line in server_lock if line and not line.startswith("#"))
