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
    "--fold-case",
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


def test_action_map_with_unknown_intent_is_a_warning_naming_the_map(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhello,greet\nhi,greet\n")
    amap = write(tmp_path / "my-actions.yml", "order_status: action_check_order_status\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot", "--action-map", amap)
    assert proc.returncode == 0, proc.stderr
    warning = next(line for line in proc.stderr.splitlines() if "order_status" in line)
    assert "my-actions.yml" in warning and "warning" in warning
    assert "action_check_order_status" not in (tmp_path / "bot" / "domain.yml").read_text(encoding="utf-8")


def test_action_map_with_unknown_intent_under_strict_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhello,greet\nhi,greet\n")
    amap = write(tmp_path / "my-actions.yml", "order_status: action_check_order_status\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot", "--action-map", amap, "--strict")
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


# --- more bad inputs: one line on stderr naming the file, exit 2, nothing written ----------------

MORE_BAD_CSV = {
    "binary-with-nul": (b"\x00\x01\x02\x03" * 64, ("binary data",)),
    "misspelled-header": (b"utterance,intnet\nhello,greet\n", ("columns found: utterance, intnet", "'intnet'")),
    "header-only": (b"utterance,intent\n", ("no usable rows",)),
    "unknown-entity": (b"utterance,intent,entity_type,entity_value\nhi there,greet,name,Bob\n", (":2:", "'Bob'")),
}


@pytest.mark.parametrize("case", list(MORE_BAD_CSV))
def test_more_bad_csv_inputs(tmp_path: Path, case: str) -> None:
    content, needles = MORE_BAD_CSV[case]
    src = write(tmp_path / f"{case}.csv", content)
    proc = run_cli("csv", src, "--out", tmp_path / "bot")
    assert_one_line_error(proc, f"{case}.csv", *needles)
    assert not (tmp_path / "bot").exists()


def test_misspelled_column_flag_names_the_nearest(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent,category\nhi,greet,G\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot", "--category-column", "categroy")
    assert_one_line_error(proc, "c.csv", "no column 'categroy'", "did you mean 'category'?")


def test_strict_fails_on_a_warning_and_writes_nothing(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhello,greet\nhi,greet\nonly once,lonely\n")
    proc = run_cli("csv", src, "--out", tmp_path / "bot", "--strict")
    assert_one_line_error(proc, "c.csv", "--strict", "'lonely' has only 1 example")
    assert not (tmp_path / "bot").exists()


def test_unknown_encoding_flag_is_one_line(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhello,greet\n")
    assert_one_line_error(run_cli("csv", src, "--out", tmp_path / "bot", "--encoding", "nope"), "unknown encoding")


@pytest.mark.parametrize("value", ["1", "-0.2", "abc"])
def test_bad_test_fraction_is_a_usage_error(tmp_path: Path, value: str) -> None:
    proc = run_cli("csv", DEMO, "--out", tmp_path / "bot", "--test-fraction", value)
    assert proc.returncode == 2
    assert "--test-fraction" in proc.stderr
    assert not (tmp_path / "bot").exists()


TELEGRAM_BAD = {
    "empty": (b"", "empty"),
    "not-json": (b"name,intent\n", "not valid JSON"),
    "not-telegram": (b'{"intents": ["greet"], "version": "3.1"}', "not a Telegram Desktop export"),
    "binary": (bytes(range(255, -1, -1)), "not UTF-8"),
    "no-server": (b'{"name": "c", "messages": [{"type": "message", "from_id": "user1", "text": "hi"}]}', "which side"),
}


@pytest.mark.parametrize("case", list(TELEGRAM_BAD))
def test_bad_telegram_inputs(tmp_path: Path, case: str) -> None:
    content, needle = TELEGRAM_BAD[case]
    src = write(tmp_path / f"{case}.json", content)
    proc = run_cli("telegram", src, "--out", tmp_path / "bot")
    assert_one_line_error(proc, f"{case}.json", needle)
    assert not (tmp_path / "bot").exists()


def test_missing_telegram_export(tmp_path: Path) -> None:
    proc = run_cli("telegram", tmp_path / "result.json", "--out", tmp_path / "bot")
    assert_one_line_error(proc, "result.json", "file not found")


def test_telegram_success(tmp_path: Path) -> None:
    export = REPO / "tests" / "golden" / "process_data" / "telegram_full" / "result.json"
    proc = run_cli("telegram", export, "--out", tmp_path / "bot")
    assert proc.returncode == 0, proc.stderr
    assert summary_of(proc.stdout)["messages read"] == "11"
    assert f"wrote {tmp_path / 'bot' / 'telegram_pairs.csv'}" in proc.stdout
    assert all(line.startswith("warning: ") for line in proc.stderr.splitlines())


def test_summary_shows_examples_per_intent_and_no_progress_bar_off_a_terminal(tmp_path: Path) -> None:
    proc = run_cli("csv", DEMO, "--out", tmp_path / "bot", "--test-fraction", "0.2")
    assert proc.returncode == 0, proc.stderr
    per_intent = proc.stdout.split("examples per intent (train / test)\n")[1].split("wrote ")[0].splitlines()
    assert len(per_intent) == 20
    assert all(line.rstrip().endswith(" / 4") for line in per_intent)
    assert proc.stderr == ""  # stderr is a pipe here: no progress bar


# --- column flags win over detection; case variants --------------------------------------------


@pytest.mark.parametrize("intent_column", ["category", "label"])
def test_intent_in_a_column_detection_would_take_for_another_role(tmp_path: Path, intent_column: str) -> None:
    # Banking77's layout: text,category, the intent being in 'category'.
    src = write(
        tmp_path / "train.csv",
        f"text,{intent_column}\nhow do I top up,top_up\ntop up failed,top_up_failed\n"
        "can I top up by card,top_up\nmy top-up did not go through,top_up_failed\n",
    )
    out = tmp_path / "bot"
    proc = run_cli("csv", src, "--out", out, "--text-column", "text", "--intent-column", intent_column, "--strict")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert f"columns: text=text, intent={intent_column})" in proc.stdout.splitlines()[0]
    note = "column 'category' is the intent (--intent-column), so no column is used as the category"
    assert (note in proc.stdout.splitlines()) == (intent_column == "category")
    assert summary_of(proc.stdout)["kept"] == "4"
    assert "- intent: top_up_failed\n" in (out / "data" / "nlu.yml").read_text(encoding="utf-8")


def test_one_column_given_for_two_roles_is_one_error_line(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "text,category\nhi,greet\n")
    proc = run_cli(
        "csv", src, "--out", tmp_path / "bot", "--intent-column", "category", "--category-column", "category"
    )
    assert_one_line_error(proc, "c.csv", "two roles", "--intent-column", "--category-column")
    assert not (tmp_path / "bot").exists()


def test_case_variants_are_kept_unless_fold_case(tmp_path: Path) -> None:
    src = write(
        tmp_path / "c.csv", "utterance,intent\nwhere is my order,track\nWhere is my order,track\nhi,greet\nHi,greet\n"
    )
    proc = run_cli("csv", src, "--out", tmp_path / "kept")
    assert proc.returncode == 0, proc.stderr
    summary = summary_of(proc.stdout)
    assert (summary["kept"], summary["dropped: duplicate"], summary["case variants kept"]) == ("4", "0", "2")
    proc = run_cli("csv", src, "--out", tmp_path / "folded", "--fold-case")
    assert proc.returncode == 0, proc.stderr
    summary = summary_of(proc.stdout)
    assert (summary["kept"], summary["dropped: duplicate"], summary["case variants folded"]) == ("2", "2", "2")
    nlu = (tmp_path / "folded" / "data" / "nlu.yml").read_text(encoding="utf-8")
    assert "Where is my order" not in nlu and "- Hi\n" not in nlu
