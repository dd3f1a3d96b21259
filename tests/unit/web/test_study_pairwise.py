"""Pairwise-judgement studies (issue 16): the study file's ``kind: pairwise``, loading, material and imports, drawing
pairs for raters, the rater's page (blind), the judgements in the analysis, results, reports and the CSV export; and
multiple-choice questions of chat studies on the results page."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, TestCase
from django.urls import reverse
from studies import pairwise, services
from studies.analysis import analyze, parse_pairwise
from studies.analysis_data import study_data, study_live_progress
from studies.models import JudgedPair, Participant, Study
from studies.pairwise_exports import judgements_csv
from studies.study_file import StudyFileError, parse_study_file

from tests.unit.web.factories import bot_create
from tests.unit.web.study_factories import STUDY, participant_at, study_create, study_text
from tests.unit.web.test_study_results import make_conversation

PAIRWISE = {
    "slug": "lamps-acute",
    "title": "Which assistant is better?",
    "kind": "pairwise",
    "bots": [{"bot": "alpha"}, {"bot": "beta"}, {"bot": "gamma"}],
    "consent": STUDY["consent"],
    "instructions": "Read both conversations and pick the better assistant.",
    "pairwise": {
        "sources": ["lamps"],
        "quota": 3,
        "pairs_per_rater": 4,
        "check_pairs": 1,
        "questions": [
            {"id": "engaging", "text": "Who would you rather talk to?"},
            {"id": "solved", "text": "Who solved the customer's problem?"},
        ],
    },
    "completion": {"code": "ACUTE-7"},
}


def pairwise_text(**changes) -> str:
    import yaml

    data = {**PAIRWISE, **changes}
    return yaml.safe_dump({k: v for k, v in data.items() if v is not None}, sort_keys=False)


def rater_at(study):
    """A rater who has consented (and read the instructions: the pairwise study has no quiz)."""
    from studies import services

    p = participant_at(study)
    return services.instructions_done(participant=p) if p.stage == Participant.Stage.INSTRUCTIONS else p


def problems(text: str) -> list[str]:
    with pytest.raises(StudyFileError) as caught:
        parse_study_file(text, source="p.yml")
    return caught.value.problems


# ---------- the study file ----------


def test_a_pairwise_study_file_reads():
    spec = parse_study_file(pairwise_text())
    assert spec.kind == "pairwise" and [b.bot for b in spec.bots] == ["alpha", "beta", "gamma"]
    assert spec.pairwise == {
        "sources": ["lamps"],
        "questions": PAIRWISE["pairwise"]["questions"],
        "quota": 3,
        "pairs_per_rater": 4,
        "check_pairs": 1,
        "same_scenario": False,
        "reason": True,
    }
    assert spec.source_lines["lamps"] > 1
    assert parse_study_file(study_text()).kind == "chat"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"kind": "duel"}, "field 'kind': must be chat or pairwise, not 'duel'"),
        ({"pairwise": None}, "field 'pairwise': missing (a pairwise study needs it"),
        ({"bots": [{"bot": "alpha"}]}, "field 'bots': a pairwise study compares at least two bots"),
        ({"bots": [{"bot": "alpha", "quota": 3}, {"bot": "beta"}]}, "field 'bots[0].quota': unknown field"),
        ({"questionnaire": [{"id": "x", "type": "text", "text": "?"}]}, "field 'questionnaire': only chat studies"),
        ({"scenarios": [{"id": "s", "text": "t"}]}, "field 'scenarios': only chat studies"),
        ({"pairwise": {**PAIRWISE["pairwise"], "quota": 0}}, "field 'pairwise.quota': must be at least 1"),
        ({"pairwise": {**PAIRWISE["pairwise"], "questions": []}}, "field 'pairwise.questions': ask at least one"),
        (
            {"pairwise": {**PAIRWISE["pairwise"], "check_pairs": 5}},
            "field 'pairwise.check_pairs': is more than pairs_per_rater (4)",
        ),
        (
            {"pairwise": {**PAIRWISE["pairwise"], "questions": [{"id": "a", "text": "?"}, {"id": "a", "text": "!"}]}},
            "field 'pairwise.questions[1].id': question 'a' is defined twice",
        ),
        (
            {"pairwise": {**PAIRWISE["pairwise"], "sources": ["Lamps!"]}},
            "field 'pairwise.sources[0]': a chat study's slug",
        ),
        ({"pairwise": {**PAIRWISE["pairwise"], "winner": "a"}}, "field 'pairwise.winner': unknown field"),
        ({"pairwise": {**PAIRWISE["pairwise"], "same_scenario": "yes"}}, "field 'pairwise.same_scenario': expected"),
    ],
)
def test_pairwise_mistakes_name_their_field_and_line(changes, expected):
    found = problems(pairwise_text(**changes))
    assert any(re.match(r"p\.yml, line \d+: ", p) and expected in p for p in found), found


def test_a_chat_study_has_no_pairwise_section():
    found = problems(study_text(pairwise=PAIRWISE["pairwise"]))
    assert any("field 'pairwise': only pairwise studies have it" in p for p in found), found


# ---------- loading, material, imports ----------


WIDE = [{"bot": "alpha", "quota": 20}, {"bot": "beta", "quota": 20}]


class PairwiseBase(TestCase):
    def setUp(self):
        self.chat = study_create(bots=WIDE)
        bot_create("gamma", label="Gamma Secret Name", socket_url="http://127.0.0.1:5011")
        self.conversations = []
        for bot in ("alpha", "beta"):
            for i in range(3):
                self.conversations.append(self.converse(bot, "refund" if i % 2 else "track"))
        self.study = self.load()
        self.import_gamma()

    def converse(self, bot, scenario, flags=()):
        return make_conversation(
            self.chat,
            bot=bot,
            scenario=scenario,
            answers={"helpful": 4, "solved": "Yes"},
            success=None,
            flags=list(flags),
            labels=[["all good"]],
            minutes=3,
        )

    def load(self, **changes) -> Study:
        return pairwise.study_file_load(spec=parse_study_file(pairwise_text(**changes)), source="p.yml").study

    def import_gamma(self):
        from studies.transcript_file import parse_transcripts

        lines = [
            json.dumps(
                {
                    "id": f"g{i}",
                    "bot": "gamma",
                    "scenario": "refund",
                    "scenario_text": "Your lamp arrived broken: get a refund.",
                    "messages": [
                        {"sender": "user", "text": f"imported question {i}"},
                        {"sender": "bot", "text": "Sure."},
                    ],
                }
            )
            for i in range(3)
        ]
        pairwise.transcripts_import(study=self.study, transcripts=parse_transcripts("\n".join(lines)))


class PairwiseLoading(PairwiseBase):
    def test_the_study_loads_with_its_kind_and_the_material_is_its_sources_and_imports(self):
        assert self.study.kind == Study.Kind.PAIRWISE and self.study.pairwise["quota"] == 3
        material = pairwise.study_material(self.study)
        assert Counter(m.bot for m in material) == {"alpha": 3, "beta": 3, "gamma": 3}
        assert {m.conversation for m in material if m.bot == "gamma"} == {"imported:g0", "imported:g1", "imported:g2"}

    def test_flagged_and_unfinished_conversations_are_no_material(self):
        self.converse("alpha", "refund", flags=["too_fast"])
        unfinished = make_conversation(
            self.chat,
            bot="beta",
            scenario="refund",
            answers={},
            success=None,
            flags=[],
            labels=[],
            minutes=0,
            done=False,
        )
        ids = {m.conversation for m in pairwise.study_material(self.study)}
        assert len(ids) == 9 and unfinished.chat_id not in ids

    def test_a_source_that_is_no_chat_study_is_named_with_its_line(self):
        with pytest.raises(StudyFileError, match=r"p\.yml, line \d+: field 'pairwise.sources\[1\]': no chat study 'x'"):
            self.load(slug="other", pairwise={**PAIRWISE["pairwise"], "sources": ["lamps", "x"]})
        with pytest.raises(StudyFileError, match="no chat study 'lamps-acute'"):
            self.load(slug="third", pairwise={**PAIRWISE["pairwise"], "sources": ["lamps-acute"]})

    def test_the_load_command_and_the_import_command(self):
        out = io.StringIO()
        path = self.tmp_file("p.yml", pairwise_text(slug="cmd-acute"))
        call_command("load_study", path, stdout=out)
        assert "created: pairwise study 'cmd-acute' with bots alpha, beta, gamma (3 judged pairs per pair)" in (
            out.getvalue()
        )
        csv_path = self.tmp_file("t.csv", "transcript,bot,sender,text\nc1,gamma,user,Hi\nc1,gamma,bot,Hello\n")
        out = io.StringIO()
        call_command("import_transcripts", "cmd-acute", csv_path, stdout=out)
        assert "imported 1 transcript into 'cmd-acute'" in out.getvalue()
        bad = self.tmp_file("bad.csv", "transcript,bot,sender,text\nc1,nobody,user,Hi\nc1,nobody,bot,Hello\n")
        with pytest.raises(CommandError, match=r"bad\.csv, line 2: no bot 'nobody' in the registry"):
            call_command("import_transcripts", "cmd-acute", bad)
        with pytest.raises(CommandError, match="is not a pairwise study"):
            call_command("import_transcripts", "lamps", csv_path)

    def tmp_file(self, name, text):
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp())
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def test_the_kind_of_a_study_with_participants_does_not_change(self):
        participant_at(self.study, "consent")
        with pytest.raises(StudyFileError, match="field 'kind': study 'lamps-acute' is a pairwise study"):
            pairwise.study_file_load(spec=parse_study_file(study_text(slug="lamps-acute")), source="p.yml")


# ---------- drawing pairs ----------


class PairDrawing(PairwiseBase):
    def rater(self):
        return rater_at(self.study)

    def judge_all(self, participant, rng, answer="left"):
        pairs = []
        while True:
            pair = pairwise.pair_next(participant=participant, rng=rng)
            if pair is None:
                return pairs
            pairwise.pair_answer(
                participant=participant, token=str(pair.token), answers={"engaging": answer, "solved": "tie"}
            )
            pairs.append(pair)

    def test_quotas_are_filled_without_repeats_and_a_check_pair_swaps_sides(self):
        rng = random.Random(4)
        everyone = []
        for _ in range(5):
            participant = self.rater()
            mine = self.judge_all(participant, rng)
            everyone += mine
            ordinary = [x for x in mine if x.check_of_id is None]
            shown = [frozenset((x.left_conversation, x.right_conversation)) for x in ordinary]
            assert len(shown) == len(set(shown))
            assert all(x.left_bot_id != x.right_bot_id for x in ordinary)
            for check in (x for x in mine if x.check_of_id is not None):
                original = JudgedPair.objects.get(pk=check.check_of_id)
                assert (check.left_conversation, check.right_conversation) == (
                    original.right_conversation,
                    original.left_conversation,
                )
                assert original.position < check.position
        judged = Counter(frozenset((x.left_bot_id, x.right_bot_id)) for x in everyone if x.check_of_id is None)
        assert judged == {
            frozenset(("alpha", "beta")): 3,
            frozenset(("alpha", "gamma")): 3,
            frozenset(("beta", "gamma")): 3,
        }
        # the first two raters judged their 4 pairs and one check pair each
        first = JudgedPair.objects.filter(participant__in=Participant.objects.filter(study=self.study)[:1])
        assert first.count() == 5 and first.exclude(check_of=None).count() == 1

    def test_a_second_tab_gets_the_same_pair_and_a_stale_answer_is_refused(self):
        participant = self.rater()
        pair = pairwise.pair_next(participant=participant)
        assert pairwise.pair_next(participant=participant).pk == pair.pk
        with pytest.raises(pairwise.StudyError, match="Please answer: Who solved"):
            pairwise.pair_answer(participant=participant, token=str(pair.token), answers={"engaging": "left"})
        pairwise.pair_answer(
            participant=participant, token=str(pair.token), answers={"engaging": "left", "solved": "right"}
        )
        pairwise.pair_next(participant=participant)
        with pytest.raises(pairwise.StudyError, match="already answered"):
            pairwise.pair_answer(
                participant=participant, token=str(pair.token), answers={"engaging": "left", "solved": "right"}
            )

    def test_same_scenario_pairs_like_with_like(self):
        study = self.load(slug="same", pairwise={**PAIRWISE["pairwise"], "same_scenario": True, "quota": 9})
        self.import_into(study)
        participant = rater_at(study)
        for pair in self.judge_all(participant, random.Random(1)):
            assert pair.scenario in ("refund", "track")
            assert pairwise.study_material(study)  # material of both scenarios

    def import_into(self, study):
        previous, self.study = self.study, study
        self.import_gamma()
        self.study = previous

    def test_the_judgements_reach_the_analysis_and_the_export(self):
        rng = random.Random(9)
        participant = self.rater()
        self.judge_all(participant, rng, answer="left")
        data = study_data(self.study)
        assert len(data.judgements) == 10  # 5 pairs (one a check) x 2 questions
        assert sum(j.check for j in data.judgements) == 2
        left_wins = [j for j in data.judgements if j.question == "engaging" and not j.check]
        assert all(j.winner == "a" for j in left_wins)
        result = analyze(data, draws=50, seed=1)
        assert result["meta"]["counts"]["judgements"] == 8 and result["meta"]["counts"]["check_judgements"] == 2
        assert sum(e["n"] for e in result["pairwise"] if e["question"] == "engaging") == 4
        assert set(result["bradley_terry"]["engaging"]) <= {"alpha", "beta", "gamma"}
        # always "left", and the check pair swapped the sides: the rater preferred the other conversation
        assert result["consistency"]["engaging"]["consistent"] == 0
        assert result["consistency"]["solved"]["consistent"] == 1  # tie both times
        text = judgements_csv(self.study)
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 10 and {r["winner"] for r in rows if r["question"] == "solved"} == {"tie"}
        assert not re.search(r"PROLIFIC|external", text)
        # the export is the analysis library's pairwise.csv
        assert analyze(type(data).of(judgements=parse_pairwise(text)), draws=50, seed=1) == result
        progress = study_live_progress(self.study)
        assert progress["kind"] == "pairwise" and progress["answered"] == 4 and progress["check_pairs"] == 1
        assert sum(p["judged"] for p in progress["pairs"]) == 4 and progress["material"]["gamma"] == 3


# ---------- the rater's pages ----------


class PairwisePages(PairwiseBase):
    def url(self, name: str) -> str:
        return reverse(f"studies:{name}", args=[self.study.slug])

    def follow(self, response) -> str:
        assert response.status_code == 302, (response.status_code, response.content[:500])
        return response["Location"]

    def test_a_rater_judges_pairs_blind_and_gets_the_code(self):
        seen = []
        client = self.client
        assert self.follow(client.get(self.url("start") + "?PROLIFIC_PID=PID-QQ-1")) == self.url("consent")
        self.follow(client.post(self.url("consent"), {"agree": ["I agree", "I am 18 or older"]}))
        assert self.follow(client.get(self.url("start"))) == self.url("instructions")
        assert self.follow(client.post(self.url("instructions"))) == self.url("judge")
        for name in ("next", "chat", "questionnaire"):  # no chat in a pairwise study
            assert self.follow(client.get(self.url(name))) == self.url("judge")
        page = client.get(self.url("judge"))
        seen.append(page.content.decode())
        html = seen[-1]
        assert page.status_code == 200 and "Conversation A" in html and "Conversation B" in html
        assert "Who would you rather talk to?" in html and "Pair 1 of 5" in html
        pair = JudgedPair.objects.get()
        assert str(pair.token) in html
        # unanswered: the page again with the error, nothing stored
        response = client.post(self.url("judge"), {"token": str(pair.token), "engaging": "left"})
        assert response.status_code == 400 and "Please answer" in response.content.decode()
        seen.append(response.content.decode())
        for _ in range(5):
            pair = JudgedPair.objects.get(participant__study=self.study, answered_at=None)
            answers = {"token": str(pair.token), "engaging": "right", "solved": "tie", "reason": "clearer"}
            self.follow(client.post(self.url("judge"), answers))
            response = client.get(self.url("judge"))
            if response.status_code == 302:
                break
            seen.append(response.content.decode())
        assert self.follow(client.get(self.url("judge"))) == self.url("done")
        done = client.get(self.url("done")).content.decode()
        assert "ACUTE-7" in done
        assert JudgedPair.objects.exclude(answered_at=None).count() == 5
        assert JudgedPair.objects.filter(reason="clearer").count() == 5
        bot_ids = {"alpha", "beta", "gamma"}
        conversation_ids = {c.chat_id for c in self.conversations}
        for html in seen:
            text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
            for name in ("Alpha Secret Name", "Beta Secret Name", "Gamma Secret Name", "PID-QQ-1"):
                assert name not in text
            assert not re.search(r"\b(alpha|beta|gamma)\b", text, re.IGNORECASE), bot_ids
            assert not any(c in text for c in conversation_ids) and "imported:" not in text

    def test_a_rater_may_stop_after_one_pair(self):
        participant = rater_at(self.study)
        session = self.client.session
        session["studies"] = {self.study.slug: str(participant.pk)}
        session.save()
        assert self.client.get(self.url("judge")).status_code == 200
        stop = self.client.post(self.url("judge"), {"action": "finish"})
        assert stop.status_code == 400  # the pair shown is not answered yet
        pair = JudgedPair.objects.get()
        self.follow(self.client.post(self.url("judge"), {"token": str(pair.token), "engaging": "tie", "solved": "tie"}))
        assert "Stop here" in self.client.get(self.url("judge")).content.decode()
        assert self.client.post(self.url("judge"), {"action": "finish"}).status_code == 400  # a pair is open
        JudgedPair.objects.filter(answered_at=None).delete()
        assert self.follow(self.client.post(self.url("judge"), {"action": "finish"})) == self.url("done")

    def test_a_pair_whose_conversation_was_deleted_is_replaced(self):
        participant = rater_at(self.study)
        pair = pairwise.pair_next(participant=participant)
        conversation = pair.left_conversation if not pair.left_conversation.startswith("imported:") else None
        conversation = conversation or pair.right_conversation
        if conversation.startswith("imported:"):
            self.study.imported_transcripts.filter(key=conversation.removeprefix("imported:")).delete()
        else:
            from studies.models import StudyConversation

            StudyConversation.objects.get(chat_id=conversation).participant.delete()
        session = self.client.session
        session["studies"] = {self.study.slug: str(participant.pk)}
        session.save()
        assert self.follow(self.client.get(self.url("judge"))) == self.url("judge")
        assert self.client.get(self.url("judge")).status_code == 200
        assert not JudgedPair.objects.filter(pk=pair.pk).exists()


# ---------- results, reports, admin ----------


class PairwiseResults(PairwiseBase):
    def staff(self) -> Client:
        client = Client()
        client.force_login(User.objects.create_superuser("staff", "s@example.org", "pw"))
        return client

    def test_results_page_reports_and_exports(self):
        rng = random.Random(2)
        for _ in range(2):
            participant = rater_at(self.study)
            while (pair := pairwise.pair_next(participant=participant, rng=rng)) is not None:
                winner = "left" if pair.left_bot_id < pair.right_bot_id else "right"
                pairwise.pair_answer(
                    participant=participant, token=str(pair.token), answers={"engaging": winner, "solved": "left"}
                )
        client = self.staff()
        change = client.get(reverse("admin:studies_study_change", args=[self.study.pk])).content.decode()
        for name in ("results", "report_html", "judgements", "judge"):
            assert reverse(f"admin:studies_study_{name}", args=[self.study.pk]) in change, name
        html = client.get(reverse("admin:studies_study_results", args=[self.study.pk])).content.decode()
        assert "Who would you rather talk to?" in html and "Rater consistency" in html
        assert html.count("<svg") >= 4 and "<script" not in html
        report = client.get(reverse("admin:studies_study_report_html", args=[self.study.pk]))
        assert report["Content-Disposition"] == 'attachment; filename="lamps-acute-results.html"'
        body = report.content.decode()
        assert (
            body.startswith("<!doctype html>")
            and "<svg" in body
            and "http" not in body.replace("http://www.w3.org/2000/svg", "")
        )
        assert "<h3>Who would you rather talk to?</h3>" in body  # the question's text, not its id
        assert (
            "# Which assistant is better?: results"
            in client.get(reverse("admin:studies_study_report", args=[self.study.pk])).content.decode()
        )
        progress_json = client.get(reverse("admin:studies_study_progress_json", args=[self.study.pk])).json()
        assert progress_json["kind"] == "pairwise" and progress_json["raters"] == 2
        assert {(p["a"], p["b"]) for p in progress_json["pairs"]} == {
            ("alpha", "beta"),
            ("alpha", "gamma"),
            ("beta", "gamma"),
        }
        export = client.get(reverse("admin:studies_study_judgements", args=[self.study.pk]))
        assert export["Content-Disposition"] == 'attachment; filename="lamps-acute.judgements.csv"'
        assert export.content.decode().startswith("schema_version,study,rater,rater_source,pair,question,bot_a,bot_b")
        progress = client.get(reverse("admin:studies_study_progress", args=[self.study.pk])).content.decode()
        assert "Judged pairs per pair of bots" in progress
        out = io.StringIO()
        call_command("study_analyze", "lamps-acute", "--json", "--seed", "3", "--draws", "100", stdout=out)
        result = json.loads(out.getvalue())
        engaging = [e for e in result["pairwise"] if e["question"] == "engaging"]
        assert engaging and all(e["wins_b"] == 0 for e in engaging)  # alphabetically first always won
        assert result["bradley_terry"]["engaging"]["alpha"]["rank"] == 1
        out = io.StringIO()
        call_command("study_analyze", "lamps-acute", "--html", "--seed", "3", "--draws", "100", stdout=out)
        assert out.getvalue().startswith("<!doctype html>")


class ChoiceQuestionsOnTheResultsPage(TestCase):
    def test_choice_shares_appear_with_their_chart(self):
        study = study_create(bots=WIDE)
        for i, (bot, solved) in enumerate([("alpha", "Yes"), ("alpha", "No"), ("beta", "No")]):
            make_conversation(
                study,
                bot=bot,
                scenario="refund",
                answers={"helpful": 3 + i % 2, "solved": solved},
                success=None,
                flags=[],
                labels=[],
                minutes=2,
            )
        result = analyze(study_data(study), draws=50, seed=1)
        assert result["choices"]["solved"]["alpha"]["options"]["Yes"]["share"] == 0.5
        assert result["choices"]["solved"]["beta"]["options"]["Yes"]["count"] == 0
        client = Client()
        client.force_login(User.objects.create_superuser("staff2", "t@example.org", "pw"))
        html = client.get(reverse("admin:studies_study_results", args=[study.pk])).content.decode()
        assert "Multiple-choice questions" in html and "Solved?" in html and "50%" in html


# ---------- a rater in a real browser ----------


def _chromium() -> str | None:
    from pathlib import Path

    return next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)


class PairwiseInBrowser(StaticLiveServerTestCase):
    """A rater in headless Chromium: consent, instructions, every pair judged (radio buttons, a reason), the code;
    the pair page fits a phone (the two conversations one above the other) and a desktop (side by side)."""

    def setUp(self):
        PairwiseBase.setUp(self)  # the same material: six chat conversations and three imported ones

    converse = PairwiseBase.converse
    load = PairwiseBase.load
    import_gamma = PairwiseBase.import_gamma

    def test_a_rater_judges_every_pair_in_a_browser(self):
        playwright = pytest.importorskip("playwright.sync_api")
        previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the ORM below runs beside Playwright's event loop
        try:
            with playwright.sync_playwright() as p:
                try:
                    chromium = _chromium()
                    browser = p.chromium.launch(
                        **({"executable_path": chromium} if chromium else {}),
                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                    )
                except Exception as error:  # noqa: BLE001 - no browser on this machine
                    pytest.skip(f"no headless Chromium: {error}")
                try:
                    self.judge_in(browser)
                finally:
                    browser.close()
        finally:
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous

    def judge_in(self, browser):
        tab = browser.new_page(viewport={"width": 390, "height": 800})
        tab.goto(self.live_server_url + reverse("studies:start", args=[self.study.slug]))
        for box in tab.locator("input[name=agree]").all():
            box.check()
        with tab.expect_navigation():
            tab.get_by_role("button", name="I agree, continue").click()
        with tab.expect_navigation():
            tab.get_by_role("button", name="Start").click()
        judged = 0
        while tab.locator("h1", has_text="Compare two conversations").count():
            sides = tab.locator(".judge__side")
            assert sides.count() == 2
            first, second = sides.nth(0).bounding_box(), sides.nth(1).bounding_box()
            if judged == 0:  # a phone: one above the other, nothing wider than the screen
                assert second["y"] >= first["y"] + first["height"] - 1
                assert tab.evaluate("document.documentElement.scrollWidth") <= 390
                tab.set_viewport_size({"width": 1200, "height": 800})
            else:  # a desktop: side by side
                assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"] + first["width"] - 1
            text = tab.locator("main").inner_text()
            assert not re.search(r"\b(alpha|beta|gamma)\b", text, re.IGNORECASE)
            tab.locator("input[name=engaging][value=left]").check()
            tab.locator("input[name=solved][value=tie]").check()
            tab.locator("textarea[name=reason]").fill("more helpful")
            with tab.expect_navigation():
                tab.get_by_role("button", name="Submit and continue").click()
            judged += 1
            assert judged <= 5
        assert judged == 5 and "ACUTE-7" in tab.locator("main").inner_text()
        assert JudgedPair.objects.exclude(answered_at=None).count() == 5
        assert JudgedPair.objects.filter(reason="more helpful").count() == 5


class StaffRaters(PairwiseBase):
    def test_staff_judge_through_the_admin_as_a_rater_of_their_own(self):
        user = User.objects.create_superuser("judge", "j@example.org", "pw")
        client = Client()
        client.force_login(user)
        url = reverse("admin:studies_study_judge", args=[self.study.pk])
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("studies:start", args=[self.study.slug])
        assert client.get(response["Location"])["Location"] == reverse("studies:consent", args=[self.study.slug])
        rater = Participant.objects.get(study=self.study)
        assert rater.external_source == "staff" and rater.external_id_hash and "judge" not in rater.external_id_hash
        client.get(url)  # again (another browser would do the same): the same rater
        assert Participant.objects.filter(study=self.study).count() == 1
        stranger = Client().get(url)
        assert stranger.status_code == 302 and stranger["Location"].startswith(reverse("admin:login"))
        # nobody takes the staff rater over with a crowd link, not even knowing the user's id
        start = reverse("studies:start", args=[self.study.slug])
        for guess in (f"staff-{user.pk}", services.staff_external_id(user.pk)):
            visitor = Client()
            visitor.get(f"{start}?PROLIFIC_PID={guess}")
            assert Participant.objects.filter(study=self.study, external_source="staff").count() == 1
            session = visitor.session.get("studies", {})
            assert str(rater.pk) not in session.values()


def test_the_example_pairwise_file_reads():
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "django_app" / "studies" / "examples" / "demo_pairwise.yml"
    spec = parse_study_file(path.read_text(encoding="utf-8"), source=str(path))
    assert spec.kind == "pairwise" and spec.pairwise["sources"] == ["demo"] and spec.pairwise["same_scenario"]


class AdminEdits(PairwiseBase):
    def test_admin_edits_of_a_pairwise_study_are_held_to_the_files_rules(self):
        from django.core.exceptions import ValidationError

        self.study.full_clean()  # as loaded: valid
        self.study.pairwise = {**self.study.pairwise, "check_pairs": 9}
        with pytest.raises(ValidationError) as caught:
            self.study.full_clean()
        assert "is more than pairs_per_rater (4)" in str(caught.value.message_dict["pairwise"])
        self.study.pairwise = {**self.study.pairwise, "check_pairs": 1, "questions": []}
        with pytest.raises(ValidationError, match="ask at least one question"):
            self.study.full_clean()


def test_study_analyze_reads_choices_csv_and_prints_html(tmp_path):
    path = tmp_path / "choices.csv"
    path.write_text("conversation,bot,rater,question,value\nc1,alpha,r1,solved,Yes\nc2,alpha,r2,solved,No\n")
    out = io.StringIO()
    call_command("study_analyze", "--choices", str(path), "--json", "--seed", "1", "--draws", "10", stdout=out)
    assert json.loads(out.getvalue())["choices"]["solved"]["alpha"]["options"]["No"]["share"] == 0.5
    out = io.StringIO()
    call_command("study_analyze", "--choices", str(path), "--html", "--draws", "10", stdout=out)
    assert out.getvalue().startswith("<!doctype html>") and "<svg" in out.getvalue()
