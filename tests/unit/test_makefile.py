"""`make` explains what to install when no Python 3.10 is there, instead of failing obscurely."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from launcher import paths


@pytest.fixture
def project(tmp_path):
    for name in ("Makefile", "requirements.txt", "requirements_rasa.txt", "pyproject.toml"):
        shutil.copy(paths.REPO / name, tmp_path / name)
    return tmp_path


def make(project, *args):
    return subprocess.run(
        ["make", "-C", str(project), ".venv/.installed", *args], capture_output=True, text=True, timeout=60
    )


def test_no_python310_found(project):
    done = make(project, "PYTHON310=")
    assert done.returncode != 0
    assert "Python 3.10 is needed" in done.stdout and "pyenv install 3.10" in done.stdout
    assert not (project / ".venv").exists()


def test_wrong_python_version(project):
    if sys.version_info[:2] == (3, 10):
        other = shutil.which("python3.11") or shutil.which("python3.12")
        if other is None:
            pytest.skip("no non-3.10 Python to pass")
    else:
        other = sys.executable
    done = make(project, f"PYTHON310={other}")
    assert done.returncode != 0 and "is not Python 3.10" in done.stdout
