"""The studies app: the YAML format and its errors, the services a participant goes through, the pages, exports."""

from __future__ import annotations

import csv
import io
import json
import random
import re
from datetime import timedelta
from unittest import mock

import pytest
from chat.models import Conversation
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from studies import services
from studies.exports import conversation_records, export_text
from studies.models import Message, Participant, Study, StudyConversation
from studies.study_file import StudyFileError, parse_study_file
from studies.tracker import reply_differences, reply_groups, success_check, user_turns

from tests.unit.web.study_factories import participant_at, study_bots, study_create, study_text

# ---------- the YAML format ----------


def problems(text: str) -> list[str]:
    with pytest.raises(StudyFileError) as caught:
        parse_study_file(text, source="s.yml")
    return caught.value.problems


def test_the_example_file_reads():
    spec = parse_study_file(study_text())
    assert [(b.bot, b.quota, b.label) for b in spec.bots] == [("alpha", 2, "Assistant A"), ("beta", 2, "Assistant B")]
    assert spec.scenarios[1].success_slot == "order_id" and spec.scenarios[1].success_value == "10023"
    assert spec.quiz_pass_mark == 2 and spec.annotation_required and spec.consent_version == "v1"
    assert spec.questionnaire[2]["required"] is False and spec.questionnaire[0]["labels"] == ["Not at all", "Very"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slug: [\n", "s.yml, line 2: not valid YAML"),
        ("", "s.yml: the file is empty"),
        ("- a\n- b\n", "s.yml, line 1: field '': expected a mapping"),
        (study_text(colour="red"), "field 'colour': unknown field"),
        (study_text(title=None), "field 'title': missing (required)"),
        (study_text(slug="Not A Slug"), "field 'slug': lower-case letters"),
        (study_text(blind="yes please"), "field 'blind': expected true or false"),
        (study_text(assignment="lottery"), "field 'assignment': must be balanced or choice"),
        (study_text(bots=[]), "field 'bots': name at least one bot"),
        (study_text(bots={"alpha": 2}), "field 'bots': expected a list"),
        (study_text(bots=[{"bot": "alpha", "quota": 0}]), "field 'bots[0].quota': must be at least 1"),
        (study_text(bots=[{"bot": "alpha", "quota": "many"}]), "field 'bots[0].quota': expected a whole number"),
        (study_text(bots=[{"bot": "alpha", "quota": 1}] * 2), "field 'bots[1].bot': bot 'alpha' is listed twice"),
        (study_text(bots=[{"quota": 1}]), "field 'bots[0].bot': missing (required)"),
        (study_text(scenarios=[{"id": "a", "text": "t", "success": {}}]), "field 'scenarios[0].success': name an"),
        (
            study_text(scenarios=[{"id": "a", "text": "t", "success": {"action": "x", "value": "1"}}]),
            "field 'scenarios[0].success.value': a value needs the slot",
        ),
        (
            study_text(scenarios=[{"id": "a", "text": "t"}] * 2),
            "field 'scenarios[1].id': scenario 'a' is defined twice",
        ),
        (study_text(limits={"min_turns": 4, "max_turns": 2}), "field 'limits.max_turns': is less than"),
        (study_text(limits={"idle_timeout_minutes": 0}), "field 'limits.idle_timeout_minutes': must be at least 1"),
        (study_text(consent={"version": "1"}), "field 'consent.text': missing (required)"),
        (study_text(consent={"version": "1", "text": "t", "checkboxes": "I agree"}), "'consent.checkboxes': expected"),
        (
            study_text(quiz={"pass_mark": 1, "questions": [{"text": "q", "options": ["a", "b"], "answer": "c"}]}),
            "field 'quiz.questions[0].answer': 'c' is not one of the options",
        ),
        (
            study_text(quiz={"pass_mark": 2, "questions": [{"text": "q", "options": ["a", "b"], "answer": "a"}]}),
            "field 'quiz.pass_mark': is more than the 1 question(s)",
        ),
        (study_text(annotation={"labels": []}), "field 'annotation.labels': give at least one label"),
        (study_text(annotation={"labels": ["a", "a"]}), "field 'annotation.labels': a label is listed twice"),
        (study_text(questionnaire=[{"id": "q", "type": "slider", "text": "t"}]), "'questionnaire[0].type': must be"),
        (
            study_text(questionnaire=[{"id": "q", "type": "likert", "text": "t", "labels": ["low"]}]),
            "field 'questionnaire[0].labels': a Likert scale needs its two end labels",
        ),
        (
            study_text(questionnaire=[{"id": "q", "type": "choice", "text": "t", "options": ["only"]}]),
            "field 'questionnaire[0].options': give at least two options",
        ),
        (
            study_text(questionnaire=[{"id": "q", "type": "text", "text": "t", "scale": 5}]),
            "field 'questionnaire[0].scale': only likert questions have scale",
        ),
        (study_text(completion={"url": "https://x.org"}), "field 'completion.code': missing (required)"),
        (study_text(completion={"code": "C", "url": "ftp://x"}), "field 'completion.url': expected an http://"),
    ],
)
def test_each_kind_of_mistake_names_its_field_and_line(text, expected):
    found = problems(text)
    assert any(expected in p for p in found), found
    assert all(p.startswith("s.yml") for p in found)


def test_every_mistake_of_a_file_is_listed_with_its_own_line():
    text = study_text(slug="Bad Slug", limits={"min_turns": "two"}, completion={"url": "x"})
    found = problems(text)
    lines = {p.split(":")[0] + ":" + p.split(":")[1] for p in found}
    assert len(found) >= 3 and len(lines) == len(found)


class LoadTests(TestCase):
    def test_a_blind_studys_bot_at_an_address_that_names_it_is_refused(self):
        study_bots()
        from bots.models import Bot

        Bot.objects.filter(id="beta").update(socket_url="https://chat.example.org", socket_path="/bots/beta/socket.io")
        with pytest.raises(
            StudyFileError,
            match=r"line \d+: field 'bots\[1\].bot': the study is blind but bot 'beta' is reached at "
            r"https://chat.example.org/bots/beta/socket.io, which names it \('beta'\)",
        ):
            services.study_load(spec=parse_study_file(study_text()))
        assert not Study.objects.exists()
        Bot.objects.filter(id="beta").update(socket_path="/b/socket.io")
        Bot.objects.filter(id="alpha").update(socket_url="http://secret-name.internal:5005", label="Secret Name")
        with pytest.raises(StudyFileError, match=r"bots\[0\].bot.*names it \('Secret Name'\)"):
            services.study_load(spec=parse_study_file(study_text()))
        Bot.objects.filter(id="alpha").update(socket_url="http://10.0.0.7:5005")
        assert services.study_load(spec=parse_study_file(study_text())).created
        # a study that is not blind may show the bots' names anywhere
        Bot.objects.filter(id="beta").update(socket_path="/bots/beta/socket.io")
        services.study_load(spec=parse_study_file(study_text(slug="open", blind=False)))

    def test_an_unknown_bot_is_named_with_its_line_and_nothing_is_written(self):
        study_bots()
        spec = parse_study_file(study_text(bots=[{"bot": "alpha", "quota": 1}, {"bot": "ghost", "quota": 1}]))
        with pytest.raises(StudyFileError, match=r"line \d+: field 'bots\[1\].bot': no bot 'ghost' in the registry"):
            services.study_load(spec=spec)
        assert not Study.objects.exists()

    def test_loading_again_updates_the_study_and_turns_off_what_it_drops(self):
        study = study_create()
        spec = parse_study_file(study_text(title="New title", bots=[{"bot": "beta", "quota": 5}], scenarios=[]))
        result = services.study_load(spec=spec)
        assert not result.created and result.study.pk == study.pk and result.study.title == "New title"
        assert {(sb.bot_id, sb.quota, sb.active) for sb in study.study_bots.all()} == {
            ("alpha", 2, False),
            ("beta", 5, True),
        }
        assert not study.scenarios.filter(active=True).exists()

    def test_the_command_loads_and_reports_mistakes_in_one_message(self):
        study_bots()
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            good, bad = Path(folder, "good.yml"), Path(folder, "bad.yml")
            good.write_text(study_text(), encoding="utf-8")
            bad.write_text(study_text(assignment="lottery", limits={"max_turns": 0}), encoding="utf-8")
            out = io.StringIO()
            call_command("load_study", str(good), stdout=out)
            assert "created: study 'lamps' with bots alpha (2), beta (2)" in out.getvalue()
            with pytest.raises(CommandError, match=r"2 mistakes, nothing loaded:\n.*bad.yml, line \d+: field 'assig"):
                call_command("load_study", str(bad))
            with pytest.raises(CommandError, match="cannot read"):
                call_command("load_study", str(Path(folder, "missing.yml")))


# ---------- participants ----------


class ParticipantTests(TestCase):
    def setUp(self):
        self.study = study_create()

    def test_an_external_id_is_kept_only_as_a_keyed_hash_and_finds_the_same_participant(self):
        p = services.participant_enrol(study=self.study, source="prolific", external_id="5f1e2d3c4b5a")
        row = json.dumps(list(Participant.objects.filter(pk=p.pk).values())[0], default=str)
        assert "5f1e2d3c4b5a" not in row and len(p.external_id_hash) == 64
        assert p.external_id_hash == services.external_id_hash("5f1e2d3c4b5a")
        assert services.participant_enrol(study=self.study, source="prolific", external_id="5f1e2d3c4b5a").pk == p.pk
        assert services.participant_enrol(study=self.study).pk != p.pk

    def test_the_external_id_comes_from_the_platforms_parameters(self):
        assert services.external_id_from({"PROLIFIC_PID": "abc", "STUDY_ID": "s"}) == ("prolific", "abc")
        assert services.external_id_from({"workerId": "W1", "assignmentId": "A"}) == ("mturk", "W1")
        assert services.external_id_from({"workerId": "ASSIGNMENT_ID_NOT_AVAILABLE"}) == ("", "")
        assert services.external_id_from({}) == ("", "")

    def test_a_closed_study_or_a_wrong_invite_takes_no_one(self):
        self.study.invite_token = "letmein"
        self.study.save()
        with pytest.raises(services.StudyClosed, match="link is not valid"):
            services.participant_enrol(study=self.study, invite="guess")
        assert services.participant_enrol(study=self.study, invite="letmein")
        self.study.active = False
        self.study.save()
        with pytest.raises(services.StudyClosed, match="closed"):
            services.participant_enrol(study=self.study, invite="letmein")

    def test_consent_needs_every_box_and_keeps_the_texts_version(self):
        p = participant_at(self.study, "consent")
        with pytest.raises(services.StudyError, match="tick every box"):
            services.consent_record(participant=p, checked=["I agree"])
        p = services.consent_record(participant=p, checked=["I agree", "I am 18 or older"])
        assert p.consent_version == "v1" and p.consented_at is not None and p.stage == "quiz"

    def test_failing_the_quiz_ends_participation_and_cannot_be_retried(self):
        p = participant_at(self.study, "quiz")
        with pytest.raises(services.StudyError, match="answer every question"):
            services.quiz_grade(participant=p, answers=["A customer"])
        p = services.quiz_grade(participant=p, answers=["A customer", "Never"])
        assert p.stage == "failed_quiz" and p.quiz_score == 1 and p.quiz_passed is False and p.finished_at
        p = services.quiz_grade(participant=p, answers=["A customer", "After each reply"])
        assert p.stage == "failed_quiz" and p.quiz_score == 1
        with pytest.raises(services.StudyError):
            services.conversation_assign(participant=p)


# ---------- conversations ----------


class AssignmentTests(TestCase):
    def setUp(self):
        self.study = study_create()

    def complete(self, participant, rng=None):
        c = services.conversation_assign(participant=participant, rng=rng or random.Random(1))
        user = services.message_record(conversation=c, sender="user", text="hello")
        bot = services.message_record(conversation=c, sender="bot", text="Hi! How can I help?")
        services.annotation_create(message=bot, labels=["all good"])
        services.conversation_finish(conversation=c)
        services.questionnaire_submit(conversation=c, answers={"helpful": "4", "solved": "Yes"})
        assert user.index == 0 and bot.index == 1
        return c

    def test_the_bot_furthest_from_its_quota_and_never_one_the_participant_had(self):
        first = self.complete(participant_at(self.study))
        p = participant_at(self.study)
        second = services.conversation_assign(participant=p, rng=random.Random(2))
        assert second.study_bot != first.study_bot  # the other bot is furthest from its quota
        services.message_record(conversation=second, sender="user", text="x")
        services.conversation_finish(conversation=second)
        services.questionnaire_submit(conversation=second, answers={"helpful": "1", "solved": "No"})
        third = services.conversation_assign(participant=p, rng=random.Random(3))
        assert third.study_bot == first.study_bot  # both at 1 of 2; this participant had the other

    def test_a_second_tab_gets_the_same_conversation_and_counts_once(self):
        p = participant_at(self.study)
        one = services.conversation_assign(participant=p)
        two = services.conversation_assign(participant=Participant.objects.get(pk=p.pk))
        assert one.pk == two.pk and StudyConversation.objects.count() == 1 and Conversation.objects.count() == 1

    def test_quotas_fill_and_then_nobody_gets_a_conversation(self):
        for _ in range(4):
            self.complete(participant_at(self.study))
        counts = {sb.bot_id: sb.conversations.filter(status="completed").count() for sb in self.study.study_bots.all()}
        assert counts == {"alpha": 2, "beta": 2}
        with pytest.raises(services.QuotasFull, match="all the conversations it needs"):
            services.conversation_assign(participant=participant_at(self.study))

    def test_an_idle_conversation_gives_its_place_back(self):
        self.study.study_bots.update(quota=1)
        idle = services.conversation_assign(participant=participant_at(self.study))
        other = services.conversation_assign(participant=participant_at(self.study))
        with pytest.raises(services.QuotasFull):
            services.conversation_assign(participant=participant_at(self.study))
        StudyConversation.objects.filter(pk=idle.pk).update(last_activity_at=timezone.now() - timedelta(hours=1))
        again = services.conversation_assign(participant=participant_at(self.study))
        assert again.study_bot == idle.study_bot != other.study_bot

    def test_over_the_per_participant_limit_the_participant_is_told(self):
        p = participant_at(self.study)
        self.complete(p)
        self.complete(p)
        with pytest.raises(services.LimitReached, match=r"most conversations this study allows \(2\)"):
            services.conversation_assign(participant=p)
        assert services.participation_finish(participant=p).stage == "done"

    def test_in_a_choice_study_the_participant_picks_an_open_bot(self):
        self.study.assignment = Study.Assignment.CHOICE
        self.study.save()
        p = participant_at(self.study)
        with pytest.raises(services.StudyError, match="choose an assistant"):
            services.conversation_assign(participant=p)
        beta = self.study.study_bots.get(bot_id="beta")
        assert services.conversation_assign(participant=p, study_bot=beta).study_bot == beta

    def test_scenarios_are_balanced_per_bot(self):
        self.study.study_bots.update(quota=4)
        self.study.study_bots.filter(bot_id="beta").update(active=False)
        scenarios = [self.complete(participant_at(self.study)).scenario.key for _ in range(4)]
        assert sorted(scenarios) == ["refund", "refund", "track", "track"]

    def test_turn_limits_required_labels_and_the_questionnaires_checks(self):
        c = services.conversation_assign(participant=participant_at(self.study))
        with pytest.raises(services.StudyError, match="at least 1 messages"):
            services.conversation_finish(conversation=c)
        services.message_record(conversation=c, sender="user", text="one")
        bot = services.message_record(conversation=c, sender="bot", text="reply")
        with pytest.raises(services.StudyError, match="label the assistant's last reply"):
            services.message_record(conversation=c, sender="user", text="two")
        for wrong, message in ((["rude", "nice"], "Unknown label: nice"), ([], "tick at least one")):
            with pytest.raises(services.StudyError, match=message):
                services.annotation_create(message=bot, labels=wrong)
        with pytest.raises(services.StudyError, match="Only the assistant"):
            services.annotation_create(message=c.messages.get(index=0), labels=["rude"])
        assert services.annotation_create(message=bot, labels=["rude", "all good"]).labels == ["all good", "rude"]
        services.message_record(conversation=c, sender="user", text="two")
        services.message_record(conversation=c, sender="user", text="three")
        with pytest.raises(services.StudyError, match="limit of 3 messages"):
            services.message_record(conversation=c, sender="user", text="four")
        services.conversation_finish(conversation=c)
        with pytest.raises(services.StudyError, match="chat is over"):
            services.message_record(conversation=c, sender="bot", text="late")
        for answers, message in (
            ({"solved": "Yes"}, "Please answer: How helpful"),
            ({"helpful": "6", "solved": "Yes"}, "point on the scale"),
            ({"helpful": "3", "solved": "Maybe"}, "one of the options"),
        ):
            with pytest.raises(services.StudyError, match=message):
                services.questionnaire_submit(conversation=c, answers=answers)
        done = services.questionnaire_submit(conversation=c, answers={"helpful": "3", "solved": "No", "comments": ""})
        assert done.status == "completed" and done.answers == {"helpful": 3, "solved": "No"}


# ---------- the Rasa tracker ----------

TRACKER = {
    "sender_id": "c1",
    "slots": {"order_id": "10023", "email": None},
    "events": [
        {"event": "action", "name": "action_session_start"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hello", "parse_data": {"intent": {"name": "greet", "confidence": 0.97}}},
        {"event": "action", "name": "utter_greet"},
        {"event": "bot", "text": "Hi!"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "refund please", "parse_data": {"intent": {"name": "refund", "confidence": 0.8}}},
        {"event": "action", "name": "action_refund"},
        {"event": "action", "name": "utter_done"},
        {"event": "bot", "text": "Done, refunded."},
        {"event": "action", "name": "action_listen"},
    ],
}


def test_the_tracker_gives_intents_confidences_and_actions_per_user_message():
    turns = user_turns(TRACKER)
    assert [(t.text, t.intent, t.confidence, t.actions) for t in turns] == [
        ("hello", "greet", 0.97, ["utter_greet"]),
        ("refund please", "refund", 0.8, ["action_refund", "utter_done"]),
    ]


def test_the_pieces_of_a_split_reply_are_one_reply_and_repeated_replies_stay_apart():
    whole = "Your order shipped. It arrives Friday."
    shown = [
        ("Hi!", ""),
        ("your order shipped.", whole),  # sentences + lowercase
        ("it arrives friday.", whole),
        ("your order shipped.", whole),  # the same reply again: a new one, the last was complete
        ("it arrives friday.", whole),
        ("ok", "OK"),
    ]
    assert reply_groups(shown) == [[0], [1, 2], [3, 4], [5]]
    assert reply_differences(shown, ["Hi!", whole, whole, "OK"]) == ({}, "")
    differing, problem = reply_differences(shown, ["Hi!", whole, "Something else.", "OK"])
    assert differing == {3: "Something else.", 4: "Something else."}
    assert problem == "2 bot messages differ from the tracker's replies (the first at #3)"
    assert reply_differences(shown[:1], ["Hi!", "Bye!"])[1] == "the page recorded 1 bot replies, Rasa's tracker has 2"


@pytest.mark.parametrize(
    ("action", "slot", "value", "expected"),
    [
        ("action_refund", "", "", True),
        ("action_cancel", "", "", False),
        ("", "order_id", "10023", True),
        ("", "order_id", "99999", False),
        ("", "order_id", "", True),
        ("", "email", "", False),
        ("action_refund", "order_id", "10023", True),
    ],
)
def test_success_checks(action, slot, value, expected):
    assert success_check(action=action, slot=slot, value=value, tracker=TRACKER) is expected


class TrackerAndExportTests(TestCase):
    def setUp(self):
        self.study = study_create()
        self.study.study_bots.filter(bot_id="beta").update(active=False)
        self.participant = participant_at(self.study, external_id="PID-1")

    def run_conversation(self, fetch):
        c = services.conversation_assign(participant=self.participant, rng=random.Random(0))
        services.message_record(conversation=c, sender="user", text="hello")
        bot = services.message_record(conversation=c, sender="bot", text="Hi!")
        services.annotation_create(message=bot, labels=["all good"])
        services.message_record(conversation=c, sender="user", text="refund please")
        bot = services.message_record(conversation=c, sender="bot", text="Done, refunded.")
        services.annotation_create(message=bot, labels=["wrong answer", "rude"])
        with (
            mock.patch.dict("os.environ", {"ALPHA_API_TOKEN": "api-token"}),
            mock.patch("studies.services.tracker_fetch", side_effect=fetch) as fetched,
        ):
            services.conversation_finish(conversation=c)
        services.questionnaire_submit(conversation=c, answers={"helpful": "2", "solved": "No", "comments": "slow, ok"})
        return c, fetched

    def test_rasa_data_comes_from_the_tracker_and_exports_hold_exactly_what_was_entered(self):
        c, fetched = self.run_conversation(lambda **kw: TRACKER)
        assert fetched.call_args.kwargs == {
            "api_url": "http://127.0.0.1:5999",
            "token": "api-token",
            "conversation_id": c.chat_id,
        }
        c.refresh_from_db()
        assert c.success is True  # refund: action_refund ran; track: order_id holds 10023
        first = c.messages.get(index=0)
        assert (first.intent, first.confidence, first.actions) == ("greet", 0.97, ["utter_greet"])

        rows = list(csv.DictReader(io.StringIO(export_text(self.study, "messages"))))
        assert [(r["turn"], r["text"], r["user_text"], r["user_intent"], r["labels"]) for r in rows] == [
            ("1", "Hi!", "hello", "greet", "all good"),
            ("2", "Done, refunded.", "refund please", "refund", "wrong answer|rude"),
        ]
        assert {r["bot"] for r in rows} == {"alpha"} and rows[1]["actions"] == "action_refund|utter_done"
        (conversation,) = csv.DictReader(io.StringIO(export_text(self.study, "conversations")))
        assert conversation["q_helpful"] == "2" and conversation["q_solved"] == "No"
        assert conversation["q_comments"] == "slow, ok" and conversation["user_turns"] == "2"
        assert conversation["consent_version"] == "v1" and conversation["schema_version"] == "1"
        (record,) = [json.loads(line) for line in export_text(self.study, "jsonl").splitlines()]
        assert record == next(conversation_records(self.study))
        assert record["answers"] == {"helpful": 2, "solved": "No", "comments": "slow, ok"}
        assert [m["labels"] for m in record["messages"] if m["sender"] == "bot"] == [
            ["all good"],
            ["wrong answer", "rude"],
        ]
        everything = export_text(self.study, "jsonl") + export_text(self.study, "messages")
        assert "PID-1" not in everything and self.participant.external_id_hash not in everything

    def test_a_tracker_that_cannot_be_read_is_recorded_and_the_participant_goes_on(self):
        from studies.tracker import TrackerUnavailable

        def down(**kw):
            raise TrackerUnavailable("Rasa's HTTP API is unreachable (refused)")

        c, _ = self.run_conversation(down)
        c.refresh_from_db()
        assert c.status == "completed" and c.success is None and "unreachable" in c.tracker_error

    def test_a_tracker_with_other_user_messages_than_the_page_is_flagged(self):
        shorter = {**TRACKER, "events": TRACKER["events"][:5]}
        c, _ = self.run_conversation(lambda **kw: shorter)
        c.refresh_from_db()
        assert c.tracker_error == (
            "the page recorded 2 user messages, Rasa's tracker has 1; "
            "the page recorded 2 bot replies, Rasa's tracker has 1"
        )
        assert c.messages.get(index=0).intent == "greet"

    def test_bot_replies_the_page_made_up_are_caught_and_the_trackers_text_kept(self):
        forged = {**TRACKER, "events": [dict(e) for e in TRACKER["events"]]}
        forged["events"][-2]["text"] = "Sorry, I cannot refund that."  # what the bot really said
        c, _ = self.run_conversation(lambda **kw: forged)
        c.refresh_from_db()
        assert c.tracker_error == "1 bot messages differ from the tracker's replies (the first at #1)"
        assert [m.tracker_text for m in c.messages.filter(sender="bot")] == ["", "Sorry, I cannot refund that."]
        rows = list(csv.DictReader(io.StringIO(export_text(self.study, "messages"))))
        assert [(r["text"], r["tracker_text"]) for r in rows] == [
            ("Hi!", ""),
            ("Done, refunded.", "Sorry, I cannot refund that."),
        ]
        (record,) = [json.loads(line) for line in export_text(self.study, "jsonl").splitlines()]
        assert [m.get("tracker_text") for m in record["messages"] if m["sender"] == "bot"] == [
            None,
            "Sorry, I cannot refund that.",
        ]

    def test_replies_that_agree_with_the_tracker_leave_no_trace(self):
        c, _ = self.run_conversation(lambda **kw: TRACKER)
        c.refresh_from_db()
        assert c.tracker_error == "" and not c.messages.exclude(tracker_text="").exists()

    def test_deleting_a_participant_by_external_id_removes_them_from_the_database_and_exports(self):
        c, _ = self.run_conversation(lambda **kw: TRACKER)
        out = io.StringIO()
        call_command("delete_participant", "PID-1", stdout=out)
        assert "deleted 1 participant record" in out.getvalue()
        assert not Participant.objects.exists() and not Message.objects.exists()
        assert not Conversation.objects.filter(id=c.chat_id).exists()
        assert export_text(self.study, "jsonl") == ""
        with pytest.raises(CommandError, match="no participant"):
            call_command("delete_participant", "PID-1")

    def test_the_export_command_writes_every_kind(self):
        import tempfile
        from pathlib import Path

        self.run_conversation(lambda **kw: TRACKER)
        with tempfile.TemporaryDirectory() as folder:
            out = io.StringIO()
            call_command("export_study", "lamps", "--out", folder, stdout=out)
            names = sorted(p.name for p in Path(folder).iterdir())
            assert names == [
                "lamps.conversations.csv",
                "lamps.conversations.jsonl",
                "lamps.judgements.csv",
                "lamps.messages.csv",
            ]
            assert Path(folder, "lamps.judgements.csv").read_text().startswith("schema_version,study,rater,")
            assert "lamps.messages.csv: 2 rows" in out.getvalue()
            with pytest.raises(CommandError, match="no study 'nope'"):
                call_command("export_study", "nope", "--out", folder)
            with pytest.raises(CommandError, match="name one study, or give --all"):
                call_command("export_study", "lamps", "--all", "--out", folder)
            call_command("export_study", "--all", "--kind", "jsonl", "--out", folder, stdout=out)
            combined = Path(folder, "all-studies.conversations.jsonl").read_text(encoding="utf-8")
            assert combined == export_text(self.study, "jsonl")


# ---------- the pages ----------


class PageTests(TestCase):
    def setUp(self):
        self.study = study_create()
        self.client = Client()

    def url(self, name: str) -> str:
        return reverse(f"studies:{name}", args=[self.study.slug])

    def follow(self, response) -> str:
        assert response.status_code == 302, response.status_code
        return response["Location"]

    def test_a_participant_goes_from_consent_to_the_code_and_never_sees_a_bot_name(self):
        seen = []

        def get(name):
            response = self.client.get(self.url(name))
            seen.append(response.content.decode())
            return response

        assert self.follow(
            self.client.get(self.url("start") + "?PROLIFIC_PID=PID-ZX-9&STUDY_ID=S&SESSION_ID=X")
        ) == self.url("consent")
        assert get("consent").status_code == 200
        assert self.client.post(self.url("consent"), {"agree": ["I agree"]}).status_code == 400
        self.follow(self.client.post(self.url("consent"), {"agree": ["I agree", "I am 18 or older"]}))
        assert self.follow(self.client.get(self.url("start"))) == self.url("quiz")
        get("quiz")
        answers = {"q0": "A customer", "q1": "After each reply"}
        assert self.follow(self.client.post(self.url("quiz"), answers)) == self.url("instructions")
        self.follow(self.client.post(self.url("instructions")))
        get("next")
        assert self.follow(self.client.post(self.url("next"), {"action": "start"})) == self.url("chat")
        page = get("chat")
        assert "Chat with Assistant" in page.content.decode()
        config = self.client.get(self.url("widget-config")).json()
        assert config["label"] in ("Assistant A", "Assistant B") and config["bot"].startswith("study-lamps-")
        grant = self.client.post(self.url("token")).json()
        current = StudyConversation.objects.get()
        assert grant["session_id"] == current.chat_id and grant["bot"] == config["bot"]
        # the token, which the participant can decode, does not name the bot; the bot's server still accepts it
        import jwt
        from django.conf import settings

        from chat_contract import TokenRejected, verify_token

        claims = jwt.decode(grant["token"], options={"verify_signature": False})
        assert re.fullmatch(r"x-[0-9a-f]{32}", claims["aud"]) and not re.search(r"alpha|beta", grant["token"])
        bot_id = current.study_bot.bot_id
        other = {"alpha": "beta", "beta": "alpha"}[bot_id]
        assert verify_token(grant["token"], key=settings.RASA_JWT_SECRET, audience=bot_id).bot_id == bot_id
        with pytest.raises(TokenRejected, match="another bot"):
            verify_token(grant["token"], key=settings.RASA_JWT_SECRET, audience=other)

        def post(name, data):
            return self.client.post(self.url(name), json.dumps(data), content_type="application/json")

        assert post("message", {"sender": "user", "text": "hi", "ts": 1767225600000}).json()["turns"] == 1
        bot = post("message", {"sender": "bot", "text": "Hello!"}).json()
        assert post("message", {"sender": "user", "text": "again"}).status_code == 409  # label first
        assert post("message", {"sender": "robot", "text": "x"}).status_code == 400
        assert post("annotate", {"message": bot["id"], "labels": ["nope"]}).status_code == 409
        assert post("annotate", {"message": "x", "labels": []}).status_code == 400
        assert post("annotate", {"message": bot["id"], "labels": ["all good"]}).status_code == 200
        # a reload mid-chat continues the same conversation
        assert self.follow(self.client.get(self.url("start"))) == self.url("chat")
        assert self.client.post(self.url("token")).json()["session_id"] == current.chat_id
        assert Message.objects.get(index=0).sent_at.year == 2026

        assert self.follow(self.client.post(self.url("finish-chat"))) == self.url("questionnaire")
        get("questionnaire")
        assert self.client.post(self.url("questionnaire"), {"helpful": "5"}).status_code == 400
        assert self.follow(self.client.post(self.url("questionnaire"), {"helpful": "5", "solved": "Yes"})) == self.url(
            "next"
        )
        page = get("next").content.decode()
        assert "Conversations completed: 1 of at most 2" in page
        assert self.follow(self.client.post(self.url("next"), {"action": "finish"})) == self.url("done")
        done = get("done").content.decode()
        assert "LAMP-42" in done and "https://example.org/complete?cc=LAMP-42" in done
        for html in seen:
            text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)  # random letters
            for name in ("Alpha Secret Name", "Beta Secret Name", "PID-ZX-9"):
                assert name not in text
            assert not re.search(r"\b(alpha|beta)\b", text)

    def test_failing_the_quiz_is_polite_final_and_survives_a_new_tab(self):
        participant_url = self.url("start") + "?PROLIFIC_PID=P10"
        self.client.get(participant_url)
        self.client.post(self.url("consent"), {"agree": ["I agree", "I am 18 or older"]})
        done = self.follow(self.client.post(self.url("quiz"), {"q0": "A clerk", "q1": "Never"}))
        assert done == self.url("done")
        assert "not the right fit" in self.client.get(done).content.decode()
        assert self.follow(self.client.get(self.url("quiz"))) == self.url("done")
        other = Client()  # a new browser with the same worker id
        assert self.follow(other.get(participant_url)) == self.url("done")
        assert Participant.objects.get().stage == "failed_quiz"

    def test_over_the_limit_the_page_says_so(self):
        p = participant_at(self.study)
        session = self.client.session
        session["studies"] = {"lamps": str(p.pk)}
        session.save()
        self.study.max_conversations = 1
        self.study.save()
        c = services.conversation_assign(participant=p)
        services.message_record(conversation=c, sender="user", text="hi")
        services.conversation_finish(conversation=c)
        services.questionnaire_submit(conversation=c, answers={"helpful": "1", "solved": "No"})
        page = self.client.get(self.url("next")).content.decode()
        assert "most conversations this study allows (1)" in page
        response = self.client.post(self.url("next"), {"action": "start"})
        assert response.status_code == 409 and "most conversations" in response.content.decode()

    def test_unknown_studies_and_strangers_get_nothing(self):
        assert self.client.get(reverse("studies:start", args=["nope"])).status_code == 404
        assert self.follow(self.client.get(self.url("chat"))) == self.url("start")
        assert self.client.get(self.url("widget-config")).status_code == 404
        assert self.client.post(self.url("token")).status_code == 404

    def test_the_admin_and_its_exports_are_for_staff_only(self):
        export = reverse("admin:studies_study_export", args=[self.study.pk, "jsonl"])
        assert "/login/" in self.follow(self.client.get(export))
        from django.contrib.auth.models import User

        staff = User.objects.create_superuser("staff", "s@example.org", "pw")
        self.client.force_login(staff)
        response = self.client.get(export)
        assert response.status_code == 200 and response["Content-Disposition"].endswith('lamps.conversations.jsonl"')
        assert self.client.get(reverse("admin:studies_study_change", args=[self.study.pk])).status_code == 200
        assert self.client.get(reverse("admin:studies_delete_participant")).status_code == 200


# ---------- acceptability checks and the soft block list ----------


def said(*items):
    """(sender, text, seconds after the start) -> the checks' messages."""
    from datetime import datetime
    from datetime import timezone as tz

    from studies.acceptability import Said

    start = datetime(2026, 1, 1, tzinfo=tz.utc)
    return [Said(s, t, start + timedelta(seconds=at)) for s, t, at in items]


REPLY = "Order 12345, placed on 2 November for delivery to Lisbon, is shipped."


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (
            said(("user", "where is my order 12345", 0), ("bot", REPLY, 2), ("user", "thanks, when will it come", 30)),
            [],
        ),
        (said(("user", "order", 0), ("bot", REPLY, 2), ("user", "ok", 30)), ["few_words"]),
        (
            said(("user", "where is my order", 0), ("bot", REPLY, 2), ("user", "Where  is my ORDER", 30)),
            ["repeated_message"],
        ),
        (
            said(("user", "where is my order", 0), ("bot", REPLY, 2), ("user", f"you said {REPLY.lower()}", 40)),
            ["pasted_bot_text"],
        ),
        (
            said(("user", "where is my order", 0), ("bot", REPLY, 2), ("user", "and when will it arrive", 3)),
            ["too_fast"],
        ),
    ],
)
def test_acceptability_checks(messages, expected):
    from studies.acceptability import failed_checks

    assert failed_checks(messages) == expected


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"min_mean_words": "many"}, "field 'acceptability.min_mean_words': expected a number"),
        ({"max_words_per_second": 0}, "field 'acceptability.max_words_per_second': must be at least 0.1"),
        ({"speed": 3}, "field 'acceptability.speed': unknown field"),
    ],
)
def test_acceptability_settings_mistakes(rules, expected):
    assert any(expected in p for p in problems(study_text(acceptability=rules)))


class AcceptabilityAndBlockTests(TestCase):
    def setUp(self):
        self.study = study_create(acceptability={"min_mean_words": 3})

    def test_the_checks_are_recorded_per_conversation_and_exported(self):
        assert self.study.acceptability == {"min_mean_words": 3}
        p = participant_at(self.study)
        c = services.conversation_assign(participant=p)
        services.message_record(conversation=c, sender="user", text="hi there")
        services.conversation_finish(conversation=c)
        services.questionnaire_submit(conversation=c, answers={"helpful": "3", "solved": "No"})
        c.refresh_from_db()
        assert c.flags == ["few_words"]
        (row,) = csv.DictReader(io.StringIO(export_text(self.study, "conversations")))
        assert row["flags"] == "few_words"
        assert json.loads(export_text(self.study, "jsonl"))["acceptability"] == ["few_words"]

    def test_a_blocked_id_is_turned_away_politely_and_only_its_hash_is_kept(self):
        out = io.StringIO()
        call_command("block_participant", "BAD-1", "--study", "lamps", stdout=out)
        assert "blocked 1 new in study 'lamps'" in out.getvalue()
        with pytest.raises(services.StudyClosed, match="not available to you"):
            services.participant_enrol(study=self.study, source="prolific", external_id="BAD-1")
        from studies.models import BlockedId

        assert list(BlockedId.objects.values_list("external_id_hash", flat=True)) == [
            services.external_id_hash("BAD-1")
        ]
        response = Client().get(reverse("studies:start", args=["lamps"]) + "?PROLIFIC_PID=BAD-1")
        assert response.status_code == 403 and "not available to you" in response.content.decode()
        call_command("block_participant", "BAD-1", "--study", "lamps", "--unblock", stdout=out)
        assert services.participant_enrol(study=self.study, source="prolific", external_id="BAD-1")
        call_command("block_participant", "BAD-2", stdout=out)  # every study
        with pytest.raises(services.StudyClosed):
            services.participant_enrol(study=self.study, external_id="BAD-2")
        with pytest.raises(CommandError, match="no study"):
            call_command("block_participant", "X", "--study", "nope")


class SettingsAndAdminExportTests(TestCase):
    def test_the_deploy_check_names_a_missing_or_short_key(self):
        from django.test import override_settings
        from studies.checks import studies_id_key

        assert studies_id_key(None) == []
        for value, state in ((None, "is not set"), ("short", "is shorter than 32")):
            with override_settings(STUDIES_ID_KEY=value):
                (error,) = studies_id_key(None)
                assert error.id == "studies.E001" and state in error.msg

    def test_without_the_key_a_worker_is_told_politely_and_nothing_is_stored(self):
        from django.test import override_settings

        study = study_create()
        with override_settings(STUDIES_ID_KEY=None):
            with pytest.raises(Exception, match="STUDIES_ID_KEY is not set"):
                services.participant_enrol(study=study, external_id="W1")
            response = Client().get(reverse("studies:start", args=["lamps"]) + "?workerId=W1")
        assert response.status_code == 503 and "cannot take participants right now" in response.content.decode()
        assert not Participant.objects.exists()

    def test_staff_export_several_studies_in_one_file(self):
        from django.contrib.auth.models import User

        study = study_create()
        other = services.study_load(spec=parse_study_file(study_text(slug="other", title="Other"))).study
        for s in (study, other):
            p = participant_at(s)
            c = services.conversation_assign(participant=p)
            services.message_record(conversation=c, sender="user", text="where is my order")
            services.conversation_finish(conversation=c)
            services.questionnaire_submit(conversation=c, answers={"helpful": "5", "solved": "Yes"})
        client = Client()
        client.force_login(User.objects.create_superuser("staff", "s@example.org", "pw"))
        response = client.post(
            reverse("admin:studies_study_changelist"),
            {"action": "export_jsonl", "_selected_action": [study.pk, other.pk]},
        )
        assert response.status_code == 200 and response["Content-Disposition"].endswith('studies.conversations.jsonl"')
        records = [json.loads(line) for line in response.content.decode().splitlines()]
        assert sorted(r["study"] for r in records) == ["lamps", "other"]


class IdleTimeoutTests(TestCase):
    def test_an_idle_chat_is_abandoned_does_not_count_and_a_new_one_is_offered(self):
        study = study_create()
        p = participant_at(study)
        client = Client()
        session = client.session
        session["studies"] = {"lamps": str(p.pk)}
        session.save()
        first = services.conversation_assign(participant=p)
        services.message_record(conversation=first, sender="user", text="hello there")
        StudyConversation.objects.filter(pk=first.pk).update(last_activity_at=timezone.now() - timedelta(minutes=31))
        with pytest.raises(services.TimedOut, match="timed out"):
            services.message_record(conversation=first, sender="user", text="still there?")
        first.refresh_from_db()
        assert first.status == "abandoned"
        assert client.get(reverse("studies:chat", args=["lamps"]))["Location"] == reverse(
            "studies:next", args=["lamps"]
        )
        page = client.get(reverse("studies:next", args=["lamps"])).content.decode()
        assert "Your last chat timed out after 30 minutes" in page and "Conversations completed: 0 of at most 2" in page
        second = services.conversation_assign(participant=p)
        assert second.pk != first.pk and second.status == "chatting"
        third_try = services.conversation_assign(participant=p)
        assert third_try.pk == second.pk  # still one open conversation

    def test_a_questionnaire_answered_after_the_place_went_to_someone_else_never_puts_a_bot_over_quota(self):
        study = study_create(bots=[{"bot": "alpha", "quota": 1}])
        first, second = participant_at(study), participant_at(study)
        c1 = services.conversation_assign(participant=first)
        services.message_record(conversation=c1, sender="user", text="hello there")
        services.conversation_finish(conversation=c1)  # in the questionnaire, then away for 31 minutes
        StudyConversation.objects.filter(pk=c1.pk).update(last_activity_at=timezone.now() - timedelta(minutes=31))
        c2 = services.conversation_assign(participant=second)  # the idle place is free: alpha's last one
        services.message_record(conversation=c2, sender="user", text="hi")
        services.conversation_finish(conversation=c2)
        services.questionnaire_submit(conversation=c2, answers={"helpful": "4", "solved": "Yes"})
        late = services.questionnaire_submit(conversation=c1, answers={"helpful": "2", "solved": "No"})
        assert late.status == "abandoned" and late.flags[-1] == services.LATE_FLAG
        assert late.answers == {"helpful": 2, "solved": "No"}  # kept
        assert study.study_bots.get().conversations.filter(status="completed").count() == 1
        assert "Your last chat timed out" in self._next_page(first)

    def test_a_late_questionnaire_still_counts_while_its_bot_has_places(self):
        study = study_create(bots=[{"bot": "alpha", "quota": 2}])
        p = participant_at(study)
        c = services.conversation_assign(participant=p)
        services.message_record(conversation=c, sender="user", text="hello there")
        services.conversation_finish(conversation=c)
        StudyConversation.objects.filter(pk=c.pk).update(last_activity_at=timezone.now() - timedelta(hours=3))
        done = services.questionnaire_submit(conversation=c, answers={"helpful": "2", "solved": "No"})
        assert done.status == "completed" and services.LATE_FLAG not in done.flags

    def _next_page(self, participant) -> str:
        client = Client()
        session = client.session
        session["studies"] = {participant.study.slug: str(participant.pk)}
        session.save()
        return client.get(reverse("studies:next", args=[participant.study.slug])).content.decode()

    def test_the_message_endpoint_says_timed_out(self):
        study = study_create()
        p = participant_at(study)
        client = Client()
        session = client.session
        session["studies"] = {"lamps": str(p.pk)}
        session.save()
        c = services.conversation_assign(participant=p)
        StudyConversation.objects.filter(pk=c.pk).update(last_activity_at=timezone.now() - timedelta(hours=2))
        response = client.post(
            reverse("studies:message", args=["lamps"]),
            json.dumps({"sender": "user", "text": "hi"}),
            content_type="application/json",
        )
        assert response.status_code == 409 and response.json()["error"] == "timed_out"


class ChoicePageTests(TestCase):
    def test_the_participant_picks_an_assistant_by_its_neutral_name(self):
        study = study_create(assignment="choice")
        p = participant_at(study)
        client = Client()
        session = client.session
        session["studies"] = {"lamps": str(p.pk)}
        session.save()
        page = client.get(reverse("studies:next", args=["lamps"])).content.decode()
        assert "Choose who to talk to" in page and "Assistant A" in page and "Assistant B" in page
        assert "Alpha Secret Name" not in page and "Beta Secret Name" not in page
        refused = client.post(reverse("studies:next", args=["lamps"]), {"action": "start", "bot": "999"})
        assert refused.status_code == 409 and "choose one of the assistants" in refused.content.decode()
        beta = study.study_bots.get(bot_id="beta")
        started = client.post(reverse("studies:next", args=["lamps"]), {"action": "start", "bot": str(beta.pk)})
        assert started["Location"] == reverse("studies:chat", args=["lamps"])
        assert StudyConversation.objects.get().study_bot == beta
        assert "Chat with Assistant B" in client.get(reverse("studies:chat", args=["lamps"])).content.decode()


# ---------- message transforms ----------


@pytest.mark.parametrize(
    ("chains", "expected"),
    [
        ({"user": ["shout"]}, "field 'transforms.user[0]': no transform 'shout' (registered: lowercase, sentences"),
        ({"user": ["lowercase", "sentences"]}, "field 'transforms.user[1]': 'sentences' applies to bot messages only"),
        ({"bot": ["typos"]}, "field 'transforms.bot[0]': 'typos' applies to user messages only"),
        ({"both": ["lowercase"]}, "field 'transforms.both': unknown field"),
        ({"bot": "lowercase"}, "field 'transforms.bot': expected a list"),
    ],
)
def test_transform_mistakes(chains, expected):
    assert any(expected in p for p in problems(study_text(transforms=chains)))


class TransformTests(TestCase):
    def test_the_chains_reach_the_page_and_both_texts_are_recorded_and_exported(self):
        study = study_create(transforms={"user": ["typos", "lowercase"], "bot": ["sentences"]})
        assert study.transforms == {"user": ["typos", "lowercase"], "bot": ["sentences"]}
        p = participant_at(study)
        client = Client()
        session = client.session
        session["studies"] = {"lamps": str(p.pk)}
        session.save()
        services.conversation_assign(participant=p)
        page = client.get(reverse("studies:chat", args=["lamps"])).content.decode()
        assert '"transforms": {"user": ["typos", "lowercase"], "bot": ["sentences"]}' in page

        def post(data):
            return client.post(
                reverse("studies:message", args=["lamps"]), json.dumps(data), content_type="application/json"
            )

        assert post({"sender": "user", "text": "wehre is my order", "before": "Where is my order"}).status_code == 200
        bot = post({"sender": "bot", "text": "It ships today.", "before": "It ships today. Anything else?"}).json()
        assert post({"sender": "bot", "text": "same", "before": "same"}).status_code == 200
        assert post({"sender": "bot", "text": "x", "before": 5}).status_code == 400
        assert [(m.text, m.before_transforms) for m in Message.objects.order_by("index")] == [
            ("wehre is my order", "Where is my order"),
            ("It ships today.", "It ships today. Anything else?"),
            ("same", ""),
        ]
        c = StudyConversation.objects.get()
        services.annotation_create(message=Message.objects.get(pk=bot["id"]), labels=["all good"])
        services.annotation_create(message=Message.objects.get(index=2), labels=["all good"])
        services.conversation_finish(conversation=c)
        services.questionnaire_submit(conversation=c, answers={"helpful": "4", "solved": "Yes"})
        rows = list(csv.DictReader(io.StringIO(export_text(study, "messages"))))
        assert (
            rows[0]["user_text"] == "wehre is my order"
            and rows[0]["user_text_before_transforms"] == "Where is my order"
        )
        assert rows[0]["text_before_transforms"] == "It ships today. Anything else?"
        record = json.loads(export_text(study, "jsonl"))
        assert record["transforms"] == study.transforms
        assert [m["before_transforms"] for m in record["messages"]] == [
            "Where is my order",
            "It ships today. Anything else?",
            None,
        ]


def test_every_registered_transform_has_its_step_in_the_page_script():
    from pathlib import Path

    from studies.transforms import TRANSFORMS

    script = (Path(__file__).parents[3] / "django_app/studies/static/studies/study.js").read_text(encoding="utf-8")
    section = script[script.index("var TRANSFORMS = {") : script.index("var config =")]
    user, bot = section.split("bot: {")
    for t in TRANSFORMS.values():
        for side, text in (("user", user), ("bot", bot)):
            assert (f"{t.name}: function" in text) == (side in t.sides), (t.name, side)


class AdminEditTests(TestCase):
    def test_admin_edits_are_held_to_the_study_files_rules_and_name_the_field(self):
        from django.core.exceptions import ValidationError

        study = study_create()
        study.full_clean()  # as loaded: valid
        cases = [
            ("quiz", [{"text": "q", "options": ["a", "b"], "answer": "c"}], "quiz", "'c' is not one of the options"),
            ("quiz_pass_mark", 9, "quiz_pass_mark", "is more than the 2 question(s)"),
            ("questionnaire", [{"id": "q", "type": "slider", "text": "t"}], "questionnaire", "must be one of"),
            ("max_turns", 0, "max_turns", None),
            ("consent_checkboxes", "I agree", "consent_checkboxes", "expected a list"),
            ("transforms", {"user": ["shout"]}, "transforms", "no transform 'shout'"),
            ("completion_url", "https://ok.example/x", None, None),
        ]
        for field, value, where, text in cases:
            edited = Study.objects.get(pk=study.pk)
            setattr(edited, field, value)
            if where is None:
                edited.full_clean()
                continue
            with pytest.raises(ValidationError) as caught:
                edited.full_clean()
            assert where in caught.value.message_dict, (field, caught.value.message_dict)
            if text:
                assert any(text in m for m in caught.value.message_dict[where]), caught.value.message_dict

    def test_the_admin_form_shows_the_mistake(self):
        from django.contrib.auth.models import User

        study = study_create()
        client = Client()
        client.force_login(User.objects.create_superuser("staff", "s@example.org", "pw"))
        url = reverse("admin:studies_study_change", args=[study.pk])
        form = client.get(url).context["adminform"].form
        data = {k: v for k, v in form.initial.items() if v is not None}
        for name in ("consent_checkboxes", "quiz", "annotation_labels", "questionnaire", "acceptability", "transforms"):
            data[name] = json.dumps(getattr(study, name))
        data["quiz_pass_mark"] = 9
        for prefix in ("study_bots", "scenarios"):
            data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
        data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
        response = client.post(url, data)
        assert response.status_code == 200 and "is more than the 2 question(s)" in response.content.decode()
