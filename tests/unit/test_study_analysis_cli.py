"""``python -m studies.analysis`` and ``python -m studies.analysis plan``: output, errors as one line, help."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from studies.analysis import analyze, read_study
from studies.analysis.cli import analyze_parser, main, plan_parser

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    contents = {
        "ratings": "conversation,bot,rater,question,value\n"
        + "".join(f"c{i},{'AB'[i % 2]},r{i % 3},Helpful?,{i % 5 + 1}\n" for i in range(20)),
        "pairwise": "rater,question,bot_a,bot_b,winner\n"
        + "".join(f"r{i % 4},Who?,A,B,{'aabt'[i % 4].replace('t', 'tie')}\n" for i in range(24)),
        "annotations": "conversation,bot,turn,rater,labels\nc0,A,0,r1,rude|wrong\nc1,B,0,r1,\nc0,A,0,r2,rude\n",
        "success": "conversation,bot,scenario,success\nc0,A,s1,1\nc1,B,s1,0\n",
        "exclusions": "check,conversation,rater\ntoo fast,c3,\n",
    }
    paths = {}
    for name, text in contents.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    return paths


def arguments(files: dict[str, Path]) -> list[str]:
    return [part for name, path in files.items() for part in (f"--{name}", str(path))]


def test_json_is_one_object_equal_to_the_library_result(files, capsys):
    assert main([*arguments(files), "--json", "--seed", "3", "--draws", "200"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = analyze(read_study(**files), seed=3, draws=200)
    assert printed == json.loads(json.dumps(expected))
    assert printed["acceptability"]["records"]["ratings"] == 1


def test_text_summary_by_default_and_markdown_on_request(files, capsys):
    assert main([*arguments(files), "--seed", "1", "--draws", "100"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Study results\n") and "Verdicts" in text and "Helpful?" in text
    assert main([*arguments(files), "--seed", "1", "--draws", "100", "--markdown"]) == 0
    assert capsys.readouterr().out.startswith("# Study results\n")


def test_charts_are_written_as_svg_files(files, tmp_path, capsys):
    folder = tmp_path / "charts"
    assert main(["--ratings", str(files["ratings"]), "--pairwise", str(files["pairwise"]), "--charts", str(folder),
                 "--draws", "100", "--json"]) == 0  # fmt: skip
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["bradley-terry-who.svg", "pairwise-who.svg", "ratings-helpful.svg"]
    assert all((folder / n).read_text().startswith("<svg ") for n in names)
    assert "wrote" in capsys.readouterr().err


def test_a_bad_file_is_one_line_on_stderr_and_exit_status_1(files, capsys):
    files["ratings"].write_text("conversation,bot,rater,question,value\nc1,A,r1,q,4\nc2,A,r1,q,great\n")
    assert main(["--ratings", str(files["ratings"])]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err
        == f"error: {files['ratings']}, line 3, column 'value': 'great' is not a number (write it like 4 or 3.5)\n"
    )


def test_no_input_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--json"])
    assert exited.value.code == 2 and "give at least one of" in capsys.readouterr().err


def test_plan_text_and_json(capsys):
    assert main(["plan", "--win-rate", "0.6"]) == 0
    assert "199 decisive judgements per pair of bots" in capsys.readouterr().out
    assert main(["plan", "--win-rate", "0.6", "--tie-rate", "0.2", "--difference", "0.3", "--sd", "1", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["pairwise"]["decisive_judgements"] == 199 and answer["pairwise"]["judgements"] == 249
    assert answer["ratings"]["conversations_per_bot"] == 176


def test_plan_errors(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["plan"])
    assert exited.value.code == 2 and "give --win-rate" in capsys.readouterr().err
    assert main(["plan", "--difference", "0", "--sd", "1"]) == 1
    assert capsys.readouterr().err.startswith("error: the difference to detect must be a non-zero number")


@pytest.mark.parametrize("parser", [analyze_parser(), plan_parser()])
def test_every_option_has_help_text(parser: argparse.ArgumentParser):
    for action in parser._actions:
        assert action.help, action.option_strings


def test_the_module_runs_as_a_real_process(files):
    run = [sys.executable, "-m", "studies.analysis"]
    done = subprocess.run(
        [*run, "--pairwise", str(files["pairwise"]), "--json", "--seed", "5", "--draws", "100"],
        cwd=REPO / "django_app",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["pairwise"][0]["wins_a"] == 12
    helped = subprocess.run([*run, "plan", "--help"], cwd=REPO / "django_app", capture_output=True, text=True)
    assert helped.returncode == 0 and "--win-rate" in helped.stdout
    helped = subprocess.run([*run, "--help"], cwd=REPO / "django_app", capture_output=True, text=True)
    assert helped.returncode == 0 and "plan --help" in helped.stdout
    failed = subprocess.run(
        [*run, "--ratings", str(files["pairwise"])], cwd=REPO / "django_app", capture_output=True, text=True
    )
    assert failed.returncode == 1 and "Traceback" not in failed.stderr and len(failed.stderr.splitlines()) == 1
