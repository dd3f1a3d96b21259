"""The studies analysis: numbers in, numbers out; no Django import.

Run on a study's records (the results page and ``manage.py study_analyze``) or on tidy CSV files from anywhere
(``python -m studies.analysis --ratings R.csv --pairwise P.csv --annotations A.csv``), it gives per-bot ratings with
bootstrap intervals, Krippendorff's alpha, pairwise win rates with exact binomial tests and Holm's adjustment, a
Bradley-Terry ranking on the Elo scale, annotation shares and success rates with Wilson intervals, acceptability
exclusions, multiple-choice shares, rater consistency on repeated check pairs, a sample-size planner with verdicts,
SVG charts and Markdown and HTML reports.
"""

from .acceptability import apply_exclusions
from .agreement import krippendorff_alpha
from .analyze import (
    DEFAULT_DRAWS,
    agreement_summary,
    analyze,
    annotations_summary,
    bradley_terry_summary,
    choices_summary,
    consistency_summary,
    pairwise_summary,
    ratings_summary,
    success_summary,
    verdicts,
)
from .bradley_terry import fit_strengths, to_elo, win_matrix, win_probability
from .charts import bradley_terry_chart, choices_chart, ratings_chart, win_matrix_chart
from .errors import AnalysisError, DataError, PlanningError
from .planning import (
    RatingPlan,
    WinRatePlan,
    binomial_power,
    pairwise_verdict,
    rating_difference_sample_size,
    ratings_verdict,
    t_test_power,
    win_rate_sample_size,
)
from .readers import (
    parse_annotations,
    parse_choices,
    parse_exclusions,
    parse_pairwise,
    parse_ratings,
    parse_success,
    read_annotations,
    read_choices,
    read_exclusions,
    read_pairwise,
    read_ratings,
    read_study,
    read_success,
)
from .records import Annotation, Choice, Exclusion, Judgement, Outcome, Rating, StudyData
from .report import render_html, render_markdown, render_text
from .stats import binomial_test, holm, wilson_interval

__all__ = [
    "DEFAULT_DRAWS",
    "AnalysisError",
    "Annotation",
    "Choice",
    "DataError",
    "Exclusion",
    "Judgement",
    "Outcome",
    "PlanningError",
    "Rating",
    "RatingPlan",
    "StudyData",
    "WinRatePlan",
    "agreement_summary",
    "analyze",
    "annotations_summary",
    "apply_exclusions",
    "binomial_power",
    "binomial_test",
    "bradley_terry_chart",
    "bradley_terry_summary",
    "choices_chart",
    "choices_summary",
    "consistency_summary",
    "fit_strengths",
    "holm",
    "krippendorff_alpha",
    "pairwise_summary",
    "pairwise_verdict",
    "parse_annotations",
    "parse_choices",
    "parse_exclusions",
    "parse_pairwise",
    "parse_ratings",
    "parse_success",
    "rating_difference_sample_size",
    "ratings_chart",
    "ratings_summary",
    "ratings_verdict",
    "read_annotations",
    "read_choices",
    "read_exclusions",
    "read_pairwise",
    "read_ratings",
    "read_study",
    "read_success",
    "render_html",
    "render_markdown",
    "render_text",
    "success_summary",
    "t_test_power",
    "to_elo",
    "verdicts",
    "win_matrix",
    "win_matrix_chart",
    "win_probability",
    "win_rate_sample_size",
    "wilson_interval",
]
