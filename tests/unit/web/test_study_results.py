"""A study's results (issue 16, the Django side): its records as the analysis reads them, ``study_analyze`` and
``study_plan``, the staff results page with its charts, the Markdown report and the live progress."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from studies import services
from studies.analysis import Annotation, Choice, Exclusion, Outcome, Rating, StudyData, analyze
from studies.analysis_data import study_data, study_live_progress
from studies.models import StudyConversation

from tests.unit.web.study_factories import participant_at, study_create

DJANGO_APP = Path(__file__).resolve().parents[3] / "django_app"


def make_conversation(study, *, bot, scenario, answers, success, flags, labels, minutes, done=True):
    """One conversation of a new participant, its fields set by hand (the services' path is tested elsewhere)."""
    p = participant_at(study)
    c = services.conversation_assign(participant=p)
    for i, ticked in enumerate(labels):
        services.message_record(conversation=c, sender="user", text=f"question number {i}")
        bot_message = services.message_record(conversation=c, sender="bot", text=f"answer number {i}")
        if ticked is not None:
            services.annotation_create(message=bot_message, labels=ticked)
    start = timezone.now() - timedelta(hours=1)
    StudyConversation.objects.filter(pk=c.pk).update(
        study_bot=study.study_bots.get(bot_id=bot),
        scenario=study.scenarios.get(key=scenario),
        answers=answers,
        success=success,
        flags=flags,
        status=StudyConversation.Status.COMPLETED if done else StudyConversation.Status.CHATTING,
        started_at=start,
        completed_at=start + timedelta(minutes=minutes) if done else None,
    )
    c.refresh_from_db()
    return c


class StudyResultsData(TestCase):
    """Three completed conversations (one flagged too_fast) and one under way, worked by hand."""

    def setUp(self):
        self.study = study_create(annotation={"required": False, "labels": ["all good", "wrong answer", "rude"]})
        self.c1 = make_conversation(
            self.study,
            bot="alpha",
            scenario="refund",
            answers={"helpful": 4, "solved": "Yes"},
            success=True,
            flags=[],
            labels=[["all good"], ["wrong answer", "rude"]],
            minutes=4,
        )
        self.c2 = make_conversation(
            self.study,
            bot="beta",
            scenario="track",
            answers={"helpful": 2, "solved": "No"},
            success=False,
            flags=[],
            labels=[["rude"]],
            minutes=6,
        )
        self.c3 = make_conversation(
            self.study,
            bot="alpha",
            scenario="track",
            answers={"helpful": 5, "solved": "Yes"},
            success=None,
            flags=["too_fast"],
            labels=[[], None],
            minutes=10,
        )
        self.open = make_conversation(
            self.study,
            bot="beta",
            scenario="refund",
            answers={},
            success=None,
            flags=[],
            labels=[["all good"]],
            minutes=0,
            done=False,
        )

    def expected(self) -> StudyData:
        c1, c2, c3 = self.c1, self.c2, self.c3
        r1, r2, r3 = (str(c.participant_id) for c in (c1, c2, c3))
        return StudyData.of(
            ratings=[
                Rating(c1.chat_id, "alpha", r1, "helpful", 4.0),
                Rating(c2.chat_id, "beta", r2, "helpful", 2.0),
                Rating(c3.chat_id, "alpha", r3, "helpful", 5.0),
            ],
            annotations=[
                Annotation(c1.chat_id, "alpha", 1, r1, frozenset({"all good"})),
                Annotation(c1.chat_id, "alpha", 3, r1, frozenset({"wrong answer", "rude"})),
                Annotation(c2.chat_id, "beta", 1, r2, frozenset({"rude"})),
                Annotation(c3.chat_id, "alpha", 1, r3, frozenset()),
            ],
            outcomes=[Outcome(c1.chat_id, "alpha", "refund", True), Outcome(c2.chat_id, "beta", "track", False)],
            exclusions=[Exclusion(check="too_fast", conversation=c3.chat_id)],
            labels=["all good", "wrong answer", "rude"],
            choices=[
                Choice(c1.chat_id, "alpha", r1, "solved", "Yes"),
                Choice(c2.chat_id, "beta", r2, "solved", "No"),
                Choice(c3.chat_id, "alpha", r3, "solved", "Yes"),
            ],
            options={"solved": ["Yes", "No"]},
        )

    def test_the_records_are_the_ones_worked_by_hand_and_give_the_same_numbers(self):
        data = study_data(self.study)
        assert data == self.expected()
        result = analyze(data, seed=7, draws=300)
        assert result == analyze(self.expected(), seed=7, draws=300)
        # c3 failed too_fast: excluded before every number
        assert result["acceptability"]["checks"]["too_fast"]["conversations"] == 1
        helpful = result["ratings"]["helpful"]
        assert (helpful["alpha"]["n"], helpful["alpha"]["mean"]) == (1, 4.0)
        assert (helpful["beta"]["n"], helpful["beta"]["mean"]) == (1, 2.0)
        assert result["annotations"]["rude"]["alpha"]["count"] == 1 and result["annotations"]["rude"]["alpha"]["n"] == 2
        assert result["annotations"]["rude"]["beta"]["share"] == 1.0
        assert result["success"]["alpha"]["share"] == 1.0 and result["success"]["beta"]["share"] == 0.0

    def test_live_progress(self):
        progress = study_live_progress(self.study)
        assert progress["completed"] == 3 and progress["in_progress"] == 1
        assert progress["median_minutes"] == 6.0
        assert progress["exclusions"] == {"conversations": 1, "checks": {"too_fast": 1}}
        bots = {b["bot"]: (b["completed"], b["quota"], b["open"]) for b in progress["bots"]}
        assert bots == {"alpha": (2, 2, 0), "beta": (1, 2, 1)}
        assert {"bot": "alpha", "scenario": "track", "completed": 1} in progress["scenarios"]

    def test_study_analyze_on_a_study_prints_one_json_object(self):
        out = io.StringIO()
        call_command("study_analyze", "lamps", "--json", "--seed", "7", "--draws", "300", stdout=out)
        result = json.loads(out.getvalue())
        assert {"ratings", "agreement", "pairwise", "bradley_terry", "annotations", "success", "acceptability"} <= set(
            result
        )
        assert result == json.loads(json.dumps(analyze(self.expected(), seed=7, draws=300)))
        out = io.StringIO()
        call_command("study_analyze", "lamps", "--markdown", "--seed", "7", "--draws", "100", stdout=out)
        assert out.getvalue().startswith("# Lamp refunds") and "## Ratings" in out.getvalue()
        with pytest.raises(CommandError, match="--draws: must be at least 1"):
            call_command("study_analyze", "lamps", "--draws", "0")
        with pytest.raises(CommandError, match="no study 'nope'"):
            call_command("study_analyze", "nope")

    def staff(self) -> Client:
        client = Client()
        client.force_login(User.objects.create_superuser("staff", "s@example.org", "pw"))
        return client

    def test_the_results_page_is_for_staff_only(self):
        url = reverse("admin:studies_study_results", args=[self.study.pk])
        login = reverse("admin:login")
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(login)
        participant = Client()
        participant.get(reverse("studies:start", args=["lamps"]))  # a participant's session
        assert participant.session.keys()
        response = participant.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login)
        member = Client()
        member.force_login(User.objects.create_user("someone", "u@example.org", "pw"))
        for name in ("results", "report", "progress", "progress_json"):
            response = member.get(reverse(f"admin:studies_study_{name}", args=[self.study.pk]))
            assert response.status_code == 302 and response["Location"].startswith(login), name

    def test_the_results_page_shows_numbers_and_inline_charts_and_links_the_report(self):
        client = self.staff()
        change = client.get(reverse("admin:studies_study_change", args=[self.study.pk])).content.decode()
        results_url = reverse("admin:studies_study_results", args=[self.study.pk])
        assert results_url in change
        page = client.get(results_url)
        html = page.content.decode()
        assert page.status_code == 200
        assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and "How helpful?" in html
        assert 'name="viewport"' in html and "<script" not in html and "http://cdn" not in html
        for heading in ("Ratings", "Annotations of bot messages", "Scenario success", "Can the study tell"):
            assert heading in html, heading
        assert "4.00" in html and "2.00" in html  # the two means after the exclusion
        assert "too_fast: 1" in html
        report = client.get(reverse("admin:studies_study_report", args=[self.study.pk]))
        assert report["Content-Disposition"] == 'attachment; filename="lamps-results.md"'
        assert report.content.decode().startswith("# Lamp refunds: results")

    def test_the_progress_page_refreshes_itself_and_its_json(self):
        client = self.staff()
        page = client.get(reverse("admin:studies_study_progress", args=[self.study.pk])).content.decode()
        assert '<meta http-equiv="refresh"' in page and "3</strong> completed" in page
        data = client.get(reverse("admin:studies_study_progress_json", args=[self.study.pk])).json()
        assert data == json.loads(json.dumps(study_live_progress(self.study)))
        assert data["in_progress"] == 1


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_study_analyze_reads_csv_files(tmp_path):
    ratings = write(
        tmp_path / "ratings.csv",
        "conversation,bot,rater,question,value\nc1,a,r1,q,4\nc1,a,r2,q,5\nc2,b,r1,q,2\nc2,b,r2,q,1\n",
    )
    pairwise = write(
        tmp_path / "pairwise.csv", "rater,question,bot_a,bot_b,winner\nr1,better,a,b,a\nr2,better,a,b,tie\n"
    )
    annotations = write(tmp_path / "annotations.csv", "conversation,bot,turn,rater,labels\nc1,a,1,r1,rude|slow\n")
    out = io.StringIO()
    call_command(
        "study_analyze",
        "--ratings",
        str(ratings),
        "--pairwise",
        str(pairwise),
        "--annotations",
        str(annotations),
        "--json",
        "--seed",
        "3",
        "--draws",
        "200",
        stdout=out,
    )
    result = json.loads(out.getvalue())
    assert result["ratings"]["q"]["a"]["mean"] == 4.5 and result["meta"]["seed"] == 3
    assert result["agreement"]["q"]["level"] == "ordinal"
    (pair,) = result["pairwise"]
    assert (pair["a"], pair["b"], pair["wins_a"], pair["ties"]) == ("a", "b", 1, 1)
    assert set(result["bradley_terry"]["better"]) == {"a", "b"} and result["annotations"]["rude"]["a"]["share"] == 1.0


def test_study_analyze_names_the_bad_file_line_and_column(tmp_path):
    bad = write(tmp_path / "ratings.csv", "conversation,bot,rater,question,value\nc1,a,r1,q,4\nc2,b,r1,q,lots\n")
    with pytest.raises(CommandError, match=r"ratings\.csv, line 3, column 'value'") as raised:
        call_command("study_analyze", "--ratings", str(bad))
    assert raised.value.returncode == 1
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "manage.py", "study_analyze", "--ratings", str(bad), "--json"],
        cwd=DJANGO_APP,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert "ratings.csv, line 3, column 'value'" in line


def test_study_plan_wraps_the_planner():
    out = io.StringIO()
    call_command("study_plan", "--win-rate", "0.6", "--difference", "0.3", "--json", stdout=out)
    plan = json.loads(out.getvalue())
    assert plan["pairwise"]["decisive_judgements"] == 199 and plan["ratings"]["conversations_per_bot"] > 100
    out = io.StringIO()
    call_command("study_plan", "--win-rate", "0.6", stdout=out)
    assert out.getvalue().startswith("To detect a win rate of 60%")
    with pytest.raises(CommandError, match="must be between 0 and 1"):
        call_command("study_plan", "--win-rate", "1.5")


def test_the_results_page_fits_a_phone_screen(tmp_path):
    """The results page of a study with ratings, judgements, labels and outcomes in headless Chromium at phone and
    desktop widths: nothing wider than the screen (tables scroll inside their box), every chart drawn."""
    import random

    from studies.analysis import Judgement
    from studies.models import Study
    from studies.results_views import results_context

    playwright = pytest.importorskip("playwright.sync_api")
    chromium = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
    rng = random.Random(1)
    bots = ["alpha", "beta", "gamma"]
    data = StudyData.of(
        ratings=[Rating(f"c{i}", bots[i % 3], f"r{i % 7}", "helpful", rng.randint(1, 5)) for i in range(90)],
        judgements=[
            Judgement(
                f"r{i % 5}", "Who would you rather talk to?", *rng.sample(bots, 2), rng.choice(["a", "a", "b", "tie"])
            )
            for i in range(60)
        ],
        annotations=[
            Annotation(f"c{i}", bots[i % 3], 1, f"r{i % 7}", frozenset(rng.sample(["rude", "all good"], 1)))
            for i in range(90)
        ],
        outcomes=[Outcome(f"c{i}", bots[i % 3], "refund", rng.random() < 0.6) for i in range(90)],
        choices=[
            Choice(f"c{i}", bots[i % 3], f"r{i % 7}", "solved", rng.choice(["Yes", "No", "Partly"])) for i in range(90)
        ],
    )
    study = Study(pk=1, slug="demo", title="Demo", questionnaire=[{"id": "helpful", "type": "likert", "text": "How?"}])
    from django.template.loader import render_to_string

    page = tmp_path / "results.html"
    page.write_text(render_to_string("admin/studies/results.html", results_context(study, analyze(data, seed=1))))
    with playwright.sync_playwright() as p:
        try:
            browser = p.chromium.launch(**({"executable_path": chromium} if chromium else {}))
        except Exception as error:  # noqa: BLE001 - no browser on this machine
            pytest.skip(f"no headless Chromium: {error}")
        try:
            for width in (390, 1200):
                tab = browser.new_page(viewport={"width": width, "height": 800})
                tab.goto(page.as_uri())
                assert tab.evaluate("document.documentElement.scrollWidth") <= width
                assert tab.locator("svg").count() == 4  # ratings, multiple choice, win matrix, Bradley-Terry
                assert tab.locator("svg").first.bounding_box()["width"] <= width
                tab.screenshot(path=str(tmp_path / f"results-{width}.png"), full_page=True)
        finally:
            browser.close()
