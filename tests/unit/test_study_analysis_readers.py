"""studies.analysis readers: the tidy CSV files as issue 16 names their columns, and errors naming file/line/column."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from studies.analysis import (
    Annotation,
    DataError,
    Exclusion,
    Judgement,
    Outcome,
    Rating,
    parse_annotations,
    parse_exclusions,
    parse_pairwise,
    parse_ratings,
    parse_success,
    read_pairwise,
    read_ratings,
    read_study,
)

RATINGS_HEADER = "conversation,bot,rater,question,value\n"
PAIRWISE_HEADER = "rater,question,bot_a,bot_b,winner\n"
ANNOTATIONS_HEADER = "conversation,bot,turn,rater,labels\n"


def error_of(parse, text: str, source: str = "f.csv") -> DataError:
    with pytest.raises(DataError) as caught:
        parse(text, source)
    return caught.value


# --- good files ---------------------------------------------------------------------------------------------------


def test_ratings_are_read_with_numbers_and_any_column_order():
    text = "value,question,rater,bot,conversation,extra\n4,Helpful?,r1,A,c1,x\n3.5, Helpful? ,r2,A,c1,y\n"
    assert parse_ratings(text) == [
        Rating("c1", "A", "r1", "Helpful?", 4.0),
        Rating("c1", "A", "r2", "Helpful?", 3.5),
    ]


def test_pairwise_winner_is_a_b_or_tie_and_conversations_are_optional():
    text = PAIRWISE_HEADER + "r1,q,A,B,a\nr1,q,A,B,B\nr2,q,B,A,Tie\n"
    assert [j.winner for j in parse_pairwise(text)] == ["a", "b", "tie"]
    with_conversations = "rater,question,bot_a,bot_b,winner,conversation_a,conversation_b\nr1,q,A,B,a,c1,c2\n"
    assert parse_pairwise(with_conversations) == [Judgement("r1", "q", "A", "B", "a", "c1", "c2")]


def test_annotation_labels_split_on_bars_and_may_be_empty():
    text = ANNOTATIONS_HEADER + 'c1,A,0,r1,wrong answer|rude\nc1,A,1,r1,\nc1,A,2,r1," rude | "\n'
    assert parse_annotations(text) == [
        Annotation("c1", "A", 0, "r1", frozenset({"wrong answer", "rude"})),
        Annotation("c1", "A", 1, "r1", frozenset()),
        Annotation("c1", "A", 2, "r1", frozenset({"rude"})),
    ]


def test_success_and_exclusions():
    assert parse_success("conversation,bot,scenario,success\nc1,A,s1,1\nc2,A,s1,False\nc3,B,s2,yes\n") == [
        Outcome("c1", "A", "s1", True),
        Outcome("c2", "A", "s1", False),
        Outcome("c3", "B", "s2", True),
    ]
    assert parse_exclusions("check,conversation,rater\nfast,c1,\nrepeat,,r9\n") == [
        Exclusion("fast", "c1", None),
        Exclusion("repeat", None, "r9"),
    ]
    assert parse_exclusions("check,rater\nfast,r1\n") == [Exclusion("fast", None, "r1")]


def test_a_header_only_file_is_no_data_and_blank_lines_and_a_bom_are_fine(tmp_path):
    assert parse_ratings(RATINGS_HEADER) == []
    path = tmp_path / "ratings.csv"
    path.write_bytes(("\ufeff" + RATINGS_HEADER + "\nc1,A,r1,q,5\n\n").encode())
    assert read_ratings(path) == [Rating("c1", "A", "r1", "q", 5.0)]


def test_read_study_reads_whichever_files_are_given(tmp_path):
    (tmp_path / "p.csv").write_text(PAIRWISE_HEADER + "r1,q,A,B,a\n")
    data = read_study(pairwise=tmp_path / "p.csv")
    assert len(data.judgements) == 1 and data.ratings == () and data.annotations == ()


# --- bad files: file, line, column --------------------------------------------------------------------------------


def test_missing_column_names_the_column_on_the_header_line():
    error = error_of(parse_ratings, "conversation,bot,rater,question\nc1,A,r1,q\n", "ratings.csv")
    assert (error.file, error.line, error.column) == ("ratings.csv", 1, "value")
    assert str(error).startswith("ratings.csv, line 1, column 'value': is missing from the header")


def test_non_numeric_value_names_line_and_column():
    error = error_of(parse_ratings, RATINGS_HEADER + "c1,A,r1,q,4\nc2,A,r1,q,good\n", "ratings.csv")
    assert (error.file, error.line, error.column) == ("ratings.csv", 3, "value")
    assert "'good' is not a number" in str(error)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_values_are_refused(value):
    error = error_of(parse_ratings, RATINGS_HEADER + f"c1,A,r1,q,{value}\n")
    assert (error.line, error.column) == (2, "value")


def test_unknown_winner_names_line_and_column_and_the_allowed_values():
    error = error_of(parse_pairwise, PAIRWISE_HEADER + "r1,q,A,B,a\n\nr1,q,A,B,left\n", "pairwise.csv")
    assert (error.file, error.line, error.column) == ("pairwise.csv", 4, "winner")
    assert "'left' is not one of a, b, tie" in str(error)


def test_same_bot_on_both_sides_is_refused():
    error = error_of(parse_pairwise, PAIRWISE_HEADER + "r1,q,A,A,a\n")
    assert (error.line, error.column) == (2, "bot_b")


@pytest.mark.parametrize("parse", [parse_ratings, parse_pairwise, parse_annotations, parse_success, parse_exclusions])
@pytest.mark.parametrize("text", ["", "\n\n", "  \n"])
def test_empty_file_is_an_error_on_line_1(parse, text):
    error = error_of(parse, text, "x.csv")
    assert (error.file, error.line, error.column) == ("x.csv", 1, None)
    assert "the file is empty; expected a header line" in str(error)


def test_empty_required_cell_names_its_column():
    error = error_of(parse_ratings, RATINGS_HEADER + "c1,,r1,q,4\n")
    assert (error.line, error.column) == (2, "bot")


def test_short_and_long_rows():
    short = error_of(parse_ratings, RATINGS_HEADER + "c1,A,r1\n")
    assert (short.line, short.column) == (2, "question")
    long = error_of(parse_ratings, RATINGS_HEADER + "c1,A,r1,q,4,extra\n")
    assert (long.line, long.column) == (2, None) and "6 fields, the header 5" in str(long)


def test_turn_must_be_a_whole_number_and_success_a_yes_or_no():
    error = error_of(parse_annotations, ANNOTATIONS_HEADER + "c1,A,1.5,r1,\n")
    assert (error.line, error.column) == (2, "turn")
    error = error_of(parse_success, "conversation,bot,scenario,success\nc1,A,s,maybe\n")
    assert (error.line, error.column) == (2, "success")


def test_exclusion_needs_a_conversation_or_a_rater():
    error = error_of(parse_exclusions, "check,conversation,rater\nfast,,\n")
    assert (error.line, error.column) == (2, "conversation")
    error = error_of(parse_exclusions, "conversation,rater\nc1,\n")
    assert (error.line, error.column) == (1, "check")


def test_duplicate_header_column():
    error = error_of(parse_ratings, "conversation,bot,rater,question,value,bot\n")
    assert (error.line, error.column) == (1, "bot")


def test_line_numbers_count_physical_lines_across_quoted_newlines():
    text = RATINGS_HEADER + 'c1,A,r1,"a question\nover two lines",4\nc2,A,r1,q,x\n'
    error = error_of(parse_ratings, text)
    assert (error.line, error.column) == (4, "value")


def test_broken_quoting_is_reported_with_its_line():
    error = error_of(parse_ratings, RATINGS_HEADER + 'c1,A,r1,q,4\nc2,"A"x,r1,q,4\n')
    assert error.line == 3 and "not valid CSV" in str(error)


def test_bytes_that_are_not_utf8_are_reported_with_their_line(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_bytes(RATINGS_HEADER.encode() + b"c1,A,r1,q,4\nc2,Caf\xe9,r1,q,4\n")
    with pytest.raises(DataError) as caught:
        read_ratings(path)
    assert (caught.value.file, caught.value.line) == (str(path), 3)


def test_a_missing_file_is_a_data_error_naming_it(tmp_path):
    with pytest.raises(DataError) as caught:
        read_pairwise(tmp_path / "nope.csv")
    assert caught.value.file == str(tmp_path / "nope.csv")


# --- property: what is written comes back -------------------------------------------------------------------------

names = st.text(alphabet=string.ascii_letters + string.digits + " ,\"'?é-", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s.strip()
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, names, names, names, st.integers(1, 7)), max_size=15))
def test_ratings_written_as_csv_come_back(rows):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["conversation", "bot", "rater", "question", "value"])
    writer.writerows(rows)
    assert parse_ratings(buffer.getvalue()) == [Rating(c, b, r, q, float(v)) for c, b, r, q, v in rows]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(names, names, st.sampled_from(["a", "b", "tie"])).filter(lambda t: t[0] != t[1]), max_size=15)
)
def test_judgements_written_as_csv_come_back(rows):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["rater", "question", "bot_a", "bot_b", "winner"])
    writer.writerows(["r", "q", a, b, w] for a, b, w in rows)
    assert parse_pairwise(buffer.getvalue()) == [Judgement("r", "q", a, b, w) for a, b, w in rows]  # type: ignore[arg-type]
