"""bench/bench_nlu.py's public-benchmark helpers: reading, Rasa training data, metrics, the baseline and the table."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from bench.bench_nlu import (
    FALLBACK,
    OOS_LABEL,
    BenchmarkResult,
    baseline,
    benchmark_dirs,
    benchmark_table,
    metrics,
    read_benchmark,
    write_nlu_data,
)


def test_metrics_count_fallback_as_right_only_for_out_of_scope() -> None:
    gold = ["a", "a", "b", OOS_LABEL, OOS_LABEL, OOS_LABEL]
    pred = ["a", FALLBACK, "b", FALLBACK, OOS_LABEL, "a"]
    raw = ["a", "a", "b", "b", OOS_LABEL, "a"]
    m = metrics(gold, pred, raw)
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(4 / 6)  # a, b, and two out-of-scope caught
    assert m["raw_accuracy"] == pytest.approx(4 / 6)
    assert m["fallback_rate"] == pytest.approx(2 / 6)
    assert m["in_scope_accuracy"] == pytest.approx(2 / 3)  # the fallback on an in-scope "a" is wrong
    assert m["in_scope_raw_accuracy"] == 1.0  # its best intent was right
    assert m["oos_recall"] == pytest.approx(2 / 3)


def test_metrics_without_out_of_scope_examples_have_no_oos_figures() -> None:
    m = metrics(["a", "b"], ["a", FALLBACK], ["a", "b"])
    assert m["accuracy"] == 0.5 and m["raw_accuracy"] == 1.0
    assert "oos_recall" not in m and "in_scope_accuracy" not in m


def test_nlu_data_reads_back_in_rasa_as_written(tmp_path) -> None:
    pairs = [
        ("is there a travel alert for [country]", "travel_alert"),
        ('order the new book titled "ghost work"', "order"),
        ("- starts with a dash: and has a colon", "order"),
        ("# not a comment", "travel_alert"),
        ("what’s up", "greeting"),
    ]
    path = tmp_path / "data" / "nlu.yml"
    write_nlu_data(pairs, path)
    examples = load_data(str(path)).intent_examples
    assert sorted((e.get("text"), e.get("intent")) for e in examples) == sorted(pairs)


def test_benchmark_folders_and_columns(tmp_path) -> None:
    good = tmp_path / "good"
    good.mkdir()
    (good / "train.csv").write_text("text,category\nhello there,greet\n bye ,bye\n,empty\n", encoding="utf-8")
    (good / "test.csv").write_text("utterance,intent\nhi,greet\n", encoding="utf-8")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "train.csv").write_text("text,category\n", encoding="utf-8")
    assert benchmark_dirs(tmp_path) == [good]
    assert read_benchmark(good / "train.csv") == [("hello there", "greet"), ("bye", "bye")]
    assert read_benchmark(good / "test.csv") == [("hi", "greet")]
    (good / "bad.csv").write_text("sentence,label\nx,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match="text and a category"):
        read_benchmark(good / "bad.csv")


def test_baseline_scores_out_of_scope_as_its_own_intent() -> None:
    train = [(f"{w} my card please {i}", "card") for i in range(5) for w in ("block", "freeze")]
    train += [(f"what is the weather {i}", OOS_LABEL) for i in range(5)]
    test = [("freeze my card please", "card"), ("what is the weather like", OOS_LABEL)]
    result = baseline(train, test)
    assert result["accuracy"] == 1.0 and result["oos_recall"] == 1.0 and result["in_scope_accuracy"] == 1.0
    assert result["fit_s"] >= 0


def test_table_marks_the_held_out_benchmark_and_the_gain_over_the_baseline() -> None:
    scores = {"raw_accuracy": 0.93, "accuracy": 0.92, "macro_f1": 0.9, "fallback_rate": 0.01}
    rows = [
        BenchmarkResult("banking77", "default", False, 100, 7, 40.0, 60.0, 900, scores, {"accuracy": 0.91}),
        BenchmarkResult("clinc150_small", "default", True, 100, 7, 40.0, 60.0, 900, scores, {"accuracy": 0.94}),
    ]
    text = "\n".join(benchmark_table(rows))
    assert "| banking77 | default |" in text and "| +2.00 |" in text
    assert "| clinc150_small (held out) |" in text and "| -1.00 |" in text
    assert "Held out: clinc150_small" in text
