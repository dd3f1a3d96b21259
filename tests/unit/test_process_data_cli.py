"""The CLI, run for real as ``python -m process_data`` in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from process_data.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "process_data" / "demo" / "demo_corpus.csv"

COMMON_OPTIONS = [
    "--out",
    "--action-map",
    "--responses",
    "--domain-file",
    "--conflicts",
    "--test-fraction",
    "--seed",
    "--test-file",
    "--stories",
    "--min-examples",
    "--max-imbalance",
    "--strict",
    "-q",
    "--quiet",
    "-h",
    "--help",
]
CSV_OPTIONS = [
    *COMMON_OPTIONS,
    "--text-column",
    "--intent-column",
    "--response-column",
    "--category-column",
    "--entity-type-column",
    "--entity-value-column",
    "--entity-start-column",
    "--entity-end-column",
    "--encoding",
    "--delimiter",
]
TELEGRAM_OPTIONS = [*COMMON_OPTIONS, "--server-id", "--server-name", "--pairs-file"]


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "process_data", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0]
    assert proc.stdout == ""
    return lines[0]


def summary_of(stdout: str) -> dict[str, str]:
    """The counts of the summary table: its indented lines before the per-intent table."""
    counts = stdout.split("\nexamples per intent")[0].splitlines()[1:]
    return dict((key.strip(), value) for key, value in (line.rsplit(None, 1) for line in counts))


# --- success ----------------------------------------------------------------------------


def test_success_prints_the_summary_and_writes_the_files(tmp_path: Path) -> None:
    out = tmp_path / "bot"
    proc = run_cli("csv", DEMO, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # the demo corpus converts without warnings
    lines = proc.stdout.splitlines()
    summary = summary_of(proc.stdout)
    assert summary["rows read"] == "400"
    assert summary["kept"] == "400"
    assert summary["intents"] == "20"
    assert summary["entity types"] == "2"
    assert summary["dropped: duplicate"] == "0"
    wrote = [line.removeprefix("wrote ") for line in lines if line.startswith("wrote ")]
    assert wrote == [str(out / "data" / "nlu.yml"), str(out / "data" / "rules.yml"), str(out / "domain.yml")]
    assert all(Path(p).is_file() for p in wrote)


def test_summary_uses_thousands_separators_and_warnings_go_to_stderr(tmp_path: Path) -> None:
    rows = "".join(f"utterance number {i},bulk\n" for i in range(1200))
    src = write(tmp_path / "big.csv", "utterance,intent\n" + rows + "only once,lonely\nutterance number 3,other\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot")
    assert proc.returncode == 0, proc.stderr
    assert summary_of(proc.stdout)["rows read"] == "1,202"
    warnings = proc.stderr.splitlines()
    assert all(w.startswith("warning: ") for w in warnings)
    assert any("'lonely' has only 1 example" in w for w in warnings)
    assert any("line 1203" in w and "line 5" in w for w in warnings)
    assert "warning" not in proc.stdout


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhello,greet\nonly once,lonely\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot", "-q")
    assert proc.returncode == 0
    assert proc.stdout == "" and proc.stderr == ""
    assert (tmp_path / "bot" / "data" / "nlu.yml").is_file()


def test_column_action_map_and_domain_file_options(tmp_path: Path) -> None:
    src = write(
        tmp_path / "c.csv",
        "msg,topic,answer\nwhere is my order,Order Status,\ntrack it,Order Status,\nhello,greet,Hi!\nhey,greet,\n",
    )
    amap = write(tmp_path / "actions.yml", "Order Status: action_check_order_status\n")
    out = tmp_path / "bot"
    proc = run_cli(
        "csv", src, "--out", out,
        "--text-column", "msg", "--intent-column", "topic", "--response-column", "answer",
        "--action-map", amap, "--domain-file", "domain/generated.yml",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    domain = (out / "domain" / "generated.yml").read_text(encoding="utf-8")
    assert not (out / "domain.yml").exists()
    assert 'utter_greet:\n  - text: "Hi!"' in domain
    assert "utter_order_status" not in domain
    assert "- action_check_order_status" in domain
    rules = (out / "data" / "rules.yml").read_text(encoding="utf-8")
    assert "- intent: order_status\n  - action: action_check_order_status\n" in rules
    nlu = (out / "data" / "nlu.yml").read_text(encoding="utf-8")
    assert "    - where is my order\n" in nlu


# --- failures: one line on stderr, exit 2, nothing written ---------------------------------

ENTITY_HEADER = "utterance,intent,entity_type,entity_value,start_offset,end_offset\n"

BAD_INPUTS = {
    "empty": (b"", ()),
    "no-intent-column": (b"utterance,intnt\nhello,greet\n", ("intnt", "--intent-column")),
    "latin-1": ("utterance,intent\ncaf\u00e9,order\n".encode("latin-1"), ("UTF-8",)),
    "binary": (bytes(range(255, -1, -1)), ("UTF-8",)),
    "wrong-field-count": (b"utterance,intent\nhello,greet\nhi,greet,extra\n", (":3:",)),
    "bad-entity": ((ENTITY_HEADER + "order 123,track,order_id,123,5,8\n").encode(), (":2:", "'123'")),
    "empty-intent": (b"utterance,intent\nhello,greet\nhi,\n", (":3:", "empty intent")),
    "no-usable-rows": (b"utterance,intent\n  ,greet\n", ("no usable rows",)),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_error_line_exit_2_and_writes_nothing(tmp_path: Path, case: str) -> None:
    content, needles = BAD_INPUTS[case]
    src = write(tmp_path / f"{case}.csv", content)
    out = tmp_path / "bot"
    proc = run_cli("csv", src, "--out", out)
    assert_one_line_error(proc, f"{case}.csv", *needles)
    assert not out.exists()


def test_missing_input_file(tmp_path: Path) -> None:
    proc = run_cli("csv", tmp_path / "nope.csv", "--out", tmp_path / "bot")
    line = assert_one_line_error(proc, "nope.csv", "not found")
    assert line == f"error: {tmp_path / 'nope.csv'}: file not found"
    assert not (tmp_path / "bot").exists()


def test_misspelled_text_column_suggests_the_right_one(tmp_path: Path) -> None:
    src = write(tmp_path / "bitext.csv", "\ufeffflags,utterance,category,intent\nB,hello,GREETING,greet\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot", "--text-column", "utterence")
    assert_one_line_error(proc, "bitext.csv", "'utterence'", "did you mean 'utterance'?")
    assert not (tmp_path / "bot").exists()


def test_missing_action_map_names_the_map(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhello,greet\nhi,greet\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot", "--action-map", tmp_path / "missing-actions.yml")
    assert_one_line_error(proc, "missing-actions.yml")
    assert not (tmp_path / "bot").exists()


def test_failed_run_leaves_earlier_output_alone(tmp_path: Path) -> None:
    out = tmp_path / "bot"
    assert run_cli("csv", DEMO, "--out", out, "-q").returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = write(tmp_path / "bad.csv", "utterance,intent\nhello,greet\nhi,greet\nbroken,row,here\n")
    proc = run_cli("csv", bad, "--out", out)
    assert_one_line_error(proc, "bad.csv:4:")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_label_without_letters_names_the_file_and_line(tmp_path: Path) -> None:
    src = write(tmp_path / "labels.csv", "utterance,intent\nhello,greet\nhuh,???\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot")
    assert_one_line_error(proc, "labels.csv:3:")


def test_action_map_with_unknown_intent_names_the_map(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhello,greet\nhi,greet\n")
    amap = write(tmp_path / "my-actions.yml", "order_status: action_check_order_status\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot", "--action-map", amap)
    assert_one_line_error(proc, "my-actions.yml", "order_status")


def test_action_map_with_unknown_intent_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhello,greet\nhi,greet\n")
    amap = write(tmp_path / "my-actions.yml", "order_status: action_check_order_status\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot", "--action-map", amap)
    assert_one_line_error(proc, "order_status")
    assert not (tmp_path / "bot").exists()


@pytest.mark.parametrize("where", ["out-is-a-file", "domain-file-is-a-folder"])
def test_unwritable_output_is_one_error_line(tmp_path: Path, where: str) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhello,greet\nhi,greet\n")
    if where == "out-is-a-file":
        out = write(tmp_path / "bot", "not a folder")
        extra: tuple[str, ...] = ()
    else:
        out = tmp_path / "bot"
        (out / "data").mkdir(parents=True)
        extra = ("--domain-file", "data")
    proc = run_cli("csv", src, "--out", out, *extra)
    assert_one_line_error(proc)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    proc = run_cli("csv", DEMO)  # no --out
    assert proc.returncode == 2
    assert "--out" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli()  # no command
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


# --- help ---------------------------------------------------------------------------------


def test_top_level_help() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert "usage: python -m process_data" in proc.stdout
    assert "csv" in proc.stdout
    assert "-h, --help" in proc.stdout


def test_csv_help_mentions_every_option() -> None:
    proc = run_cli("csv", "--help")
    assert proc.returncode == 0
    assert proc.stderr == ""
    for option in CSV_OPTIONS:
        assert option in proc.stdout, option
    assert "input" in proc.stdout
    assert "domain.yml" in proc.stdout  # the --domain-file default


@pytest.mark.parametrize(("command", "options"), [("csv", CSV_OPTIONS), ("telegram", TELEGRAM_OPTIONS)])
def test_help_lists_what_the_parser_defines(command: str, options: list[str]) -> None:
    # Guard against options added to the parser but left out of the lists above (or the help).
    parser = build_parser()
    csv_parser = next(a for a in parser._actions if a.dest == "command").choices[command]
    defined = {opt for action in csv_parser._actions for opt in action.option_strings}
    assert defined == set(options)
    proc = run_cli(command, "--help")
    for action in csv_parser._actions:
        if action.help:
            assert " ".join(action.help.split()[:3]) in " ".join(proc.stdout.split())
