"""The review inbox: import from a real HTTP tracker API, corrections and conflicts, deletion, export, admin pages."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
from pathlib import Path
from unittest import mock

import pytest
import yaml
from chat.models import Conversation
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone
from review import services
from review.exports import story_export, training_export
from review.models import Correction, ReviewConversation, ReviewMessage
from review.selectors import inbox, message_conflict, reviewed_examples
from review.services import ReviewError
from review.training import RedactionOptions

from process_data.redact import Redactor
from tests.review_trackers import misunderstood_tracker
from tests.unit.web.factories import bot_create
from tests.unit.web.study_factories import participant_at, study_create

TOKEN_ENV = "REVIEW_TEST_API_TOKEN"


class TrackerServer:
    """A real HTTP server answering ``GET /conversations/<id>/tracker`` as Rasa's API does (token required)."""

    def __init__(self, trackers: dict[str, dict]) -> None:
        self.trackers = trackers
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the handler's API
                path, _, query = self.path.partition("?")
                parts = path.strip("/").split("/")
                if query != "token=secret-token&include_events=ALL":  # every event, before a /restart too
                    self.send_response(401)
                    self.end_headers()
                    return
                tracker = outer.trackers.get(parts[1]) if len(parts) == 3 else None
                body = json.dumps(tracker or {"sender_id": parts[1], "events": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TrackerServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReviewTestCase(TestCase):
    def setUp(self):
        patcher = mock.patch.dict(os.environ, {TOKEN_ENV: "secret-token"})
        patcher.start()
        self.addCleanup(patcher.stop)
        self.bot = bot_create("demo", api_url="http://127.0.0.1:9", api_token_env=TOKEN_ENV)
        self.chat = Conversation.objects.create(id="c1", bot=self.bot)
        self.alice = User.objects.create_user("alice", is_staff=True)
        self.bob = User.objects.create_user("bob", is_staff=True)

    def imported(self, tracker=None) -> ReviewConversation:
        return services.conversation_import(chat=self.chat, tracker=tracker or misunderstood_tracker())


class ImportTests(ReviewTestCase):
    def test_import_keeps_what_rasa_predicted_and_flags_the_conversation(self):
        review = self.imported()
        assert (review.user_messages, review.fallbacks, review.low_confidence) == (3, 1, 2)
        assert review.handoff and review.unsuccessful and review.priority > 0 and review.source == "live"
        m = review.messages.get(index=1)
        assert m.intent == "nlu_fallback" and m.fallback and m.actions == ["action_clarify"]
        assert [r["name"] for r in m.runners_up] == ["check_order_status", "track_refund"]
        assert m.entities[0]["value"] == "5342765"
        assert review.started_at.year == 2025

    def test_from_the_http_api_of_the_bot(self):
        with TrackerServer({"c1": misunderstood_tracker()}) as server:
            self.bot.api_url = server.url
            self.bot.save()
            reviews = services.conversations_import(chats=[Conversation.objects.get(id="c1")])
        assert reviews[0].messages.count() == 3

    def test_unreachable_api_is_a_clear_error_and_nothing_is_half_written(self):
        other = bot_create("other", api_url=f"http://127.0.0.1:{closed_port()}", api_token_env=TOKEN_ENV)
        Conversation.objects.create(id="c2", bot=other)
        with TrackerServer({"c1": misunderstood_tracker()}) as server:
            self.bot.api_url = server.url
            self.bot.save()
            with pytest.raises(ReviewError, match=r"bot 'other', conversation 'c2': .*unreachable.*nothing"):
                services.conversations_import(chats=list(Conversation.objects.order_by("id")))
            with pytest.raises(CommandError, match="unreachable"):
                call_command("review_import")
        assert ReviewConversation.objects.count() == 0 and ReviewMessage.objects.count() == 0

    def test_a_bot_without_api_or_token_is_named(self):
        bot = bot_create("noapi")
        chat = Conversation.objects.create(id="c3", bot=bot)
        with pytest.raises(ReviewError, match="'noapi' has no Rasa HTTP API"):
            services.conversation_import(chat=chat)
        with mock.patch.dict(os.environ, {TOKEN_ENV: ""}), pytest.raises(ReviewError, match=TOKEN_ENV):
            services.conversation_import(chat=self.chat)

    def test_reimport_keeps_corrections_and_a_tracker_that_lost_messages_imports_nothing(self):
        review = self.imported()
        services.correction_set(message=review.messages.get(index=2), reviewer=self.alice, intent="human_handoff")
        review = self.imported()  # again: predictions refreshed, the correction kept
        assert review.messages.get(index=2).corrections.get().intent == "human_handoff"
        tracker = misunderstood_tracker()
        cut = next(i for i, e in enumerate(tracker["events"]) if e.get("text") == "talk to a human")
        shorter = {**tracker, "events": tracker["events"][:cut]}
        reset = {**tracker, "events": []}  # a tracker store that was reset answers an empty tracker
        for other in (shorter, reset):
            with pytest.raises(ReviewError, match=r"no longer holds message (0|2) as it was imported"):
                self.imported(other)
        swapped = misunderstood_tracker()
        first = next(e for e in swapped["events"] if e.get("event") == "user")
        first["text"] = "something else entirely"  # the same position, another text: not the message reviewed
        with pytest.raises(ReviewError, match="no longer holds message 0"):
            self.imported(swapped)
        message = review.messages.get(index=2)
        assert message.deleted_at is None and message.text == "talk to a human" and message.corrections.exists()
        assert ReviewConversation.objects.get(pk=review.pk).events  # nothing was touched

    def test_a_message_deleted_at_the_users_request_stays_deleted_when_imported_again(self):
        review = self.imported()
        services.correction_set(message=review.messages.get(index=2), reviewer=self.alice, intent="human_handoff")
        services.message_delete(message=review.messages.get(index=2))
        review = self.imported()  # still in Rasa's tracker: it stays deleted here
        gone = review.messages.get(index=2)
        assert gone.deleted_at is not None and gone.text == "" and not gone.corrections.exists()
        assert ReviewConversation.objects.get(pk=review.pk).events == []

    def test_study_conversations_bring_participants_labels_and_success(self):
        from studies.models import Annotation, Message, StudyConversation

        study = study_create()
        participant = participant_at(study)
        chat = Conversation.objects.create(id="s1", bot_id="alpha")
        sc = StudyConversation.objects.create(
            participant=participant, study_bot=study.study_bots.get(bot_id="alpha"), chat=chat, success=False
        )
        now = timezone.now()
        for i, (sender, text) in enumerate([("user", "hello there"), ("bot", "Hi!"), ("user", "where"), ("bot", "?")]):
            m = Message.objects.create(conversation=sc, index=i, sender=sender, text=text, sent_at=now)
            if i in (1, 3):
                Annotation.objects.create(message=m, labels=["All good"] if i == 1 else ["wrong answer"])
        review = services.conversation_import(chat=chat, tracker=misunderstood_tracker("s1"))
        assert review.source == "study" and review.annotations == 1 and review.unsuccessful
        assert review.messages.get(index=1).annotation_labels == ["wrong answer"]
        assert review.messages.get(index=0).annotation_labels == ["All good"]  # shown, but puts nothing up the inbox
        with self.settings(REVIEW_OK_LABELS=[]):
            assert services.conversation_import(chat=chat, tracker=misunderstood_tracker("s1")).annotations == 2
        # a participant deleted on request takes the review, its messages and corrections with them
        services.correction_set(message=review.messages.get(index=1), reviewer=self.alice, intent="check_order_status")
        from studies.models import Participant
        from studies.services import participants_delete

        participants_delete(participants=Participant.objects.filter(pk=participant.pk))
        assert not ReviewConversation.objects.filter(chat_id="s1").exists()
        assert not ReviewMessage.objects.filter(conversation__chat_id="s1").exists() and not Correction.objects.exists()


class CorrectionTests(ReviewTestCase):
    def test_two_reviewers_who_disagree_are_both_kept_as_a_conflict(self):
        message = self.imported().messages.get(index=1)
        services.correction_set(message=message, reviewer=self.alice, intent="check_order_status")
        services.correction_set(message=message, reviewer=self.alice, intent="check_order_status")  # her own: replaced
        assert not message_conflict(message)
        services.correction_set(message=message, reviewer=self.bob, intent="track_refund")
        assert message_conflict(message) and message.corrections.count() == 2
        reviewed = reviewed_examples()
        assert (
            reviewed.examples == []
            and "reviewers disagree (alice: check_order_status, bob: track_refund)" in (reviewed.conflicts[0])
        )
        assert list(inbox(problem="fallback")) == [message.conversation]

    def test_unsafe_intent_names_entities_and_deleted_messages_are_refused(self):
        review = self.imported()
        message = review.messages.get(index=1)
        for bad in ("Check Order!", "utter_greet", "a\nb", "../x"):
            with pytest.raises(ReviewError, match="not safe|reserved"):
                services.correction_set(message=message, reviewer=self.alice, intent=bad)
        with pytest.raises(ReviewError, match="choose an intent"):
            services.correction_set(message=message, reviewer=self.alice, intent="")
        with pytest.raises(ReviewError, match="own words"):
            services.correction_set(message=message, reviewer=self.alice, intent="greet", annotated="other words")
        with pytest.raises(ReviewError, match="entity name"):
            services.correction_set(
                message=message,
                reviewer=self.alice,
                intent="greet",
                annotated="wheres my parcel [5342765](Order Id), mail me at jo@example.com",
            )
        services.message_delete(message=message)
        with pytest.raises(ReviewError, match="deleted at the user's request"):
            services.correction_set(message=message, reviewer=self.alice, intent="greet")
        assert not Correction.objects.exists()

    def test_entities_fixed_with_markup_and_out_of_scope(self):
        review = self.imported()
        m0, m1 = review.messages.get(index=0), review.messages.get(index=1)
        c = services.correction_set(
            message=m1,
            reviewer=self.alice,
            intent="check_order_status",
            annotated="wheres my parcel [5342765](order_id), mail me at [jo@example.com](email)",
        )
        assert [(e["entity"], e["start"], e["end"]) for e in c.entities] == [("order_id", 17, 24), ("email", 37, 51)]
        c = services.correction_set(message=m0, reviewer=self.alice, out_of_scope=True, intent="ignored")
        assert c.out_of_scope and c.intent == ""
        assert reviewed_examples().out_of_scope == 1
        assert reviewed_examples(out_of_scope_intent="out_of_scope").examples[0].intent == "out_of_scope"

    def test_tags_and_reviewed(self):
        review = self.imported()
        services.conversation_tag(conversation=review, names=["refund", " Rude ", ""])
        assert sorted(t.name for t in review.tags.all()) == ["refund", "rude"]
        with pytest.raises(ReviewError, match="tag"):
            services.conversation_tag(conversation=review, names=["no spaces please"])
        services.conversation_mark_reviewed(conversation=review, reviewer=self.alice)
        review.refresh_from_db()
        assert review.reviewed and review.reviewed_by == self.alice
        assert list(inbox(tag="refund", reviewed=True)) == [review] and list(inbox(intent="greet")) == [review]
        assert list(inbox(intent="cancel_order")) == [] and list(inbox(bot="other")) == []


def bot_dir(tmp: Path) -> Path:
    (tmp / "data").mkdir(parents=True)
    (tmp / "domain").mkdir()
    (tmp / "data" / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello there\n'
        "- intent: check_order_status\n  examples: |\n    - where is my order\n"
        "- intent: human_handoff\n  examples: |\n    - talk to a person\n",
        encoding="utf-8",
    )
    (tmp / "data" / "rules.yml").write_text(
        'version: "3.1"\nrules:\n- rule: r\n  steps:\n  - intent: check_order_status\n'
        "  - action: action_check_order_status\n",
        encoding="utf-8",
    )
    (tmp / "domain" / "generated.yml").write_text(
        'version: "3.1"\nintents:\n- greet\n- check_order_status\n- human_handoff\n', encoding="utf-8"
    )
    return tmp


class ExportTests(ReviewTestCase):
    def test_export_dedups_redacts_keeps_metadata_and_is_idempotent(self):
        review = self.imported()
        services.correction_set(message=review.messages.get(index=0), reviewer=self.alice, intent="greet")
        services.correction_set(message=review.messages.get(index=1), reviewer=self.alice, intent="check_order_status")
        services.correction_set(message=review.messages.get(index=2), reviewer=self.bob, intent="ask_for_human")
        root = bot_dir(Path(self.tmp()))
        result = training_export(bot_dir=root, csv_path=root / "review.csv")
        nlu = (root / "data" / "review_nlu.yml").read_bytes()
        again = training_export(bot_dir=root, csv_path=root / "review.csv")
        assert (root / "data" / "review_nlu.yml").read_bytes() == nlu
        assert len(result.plan.kept) == len(again.plan.kept) == 2 and len(result.plan.duplicates) == 1
        data = yaml.safe_load(nlu)
        texts = {e["text"]: (b["intent"], e["metadata"]) for b in data["nlu"] for e in b["examples"]}
        assert texts["wheres my parcel [5342765](order_id), mail me at (email)"][0] == "check_order_status"
        assert texts["talk to a human"][1] == {
            "reviewer": "bob",
            "reviewed_at": timezone.now().date().isoformat(),
            "source": "conversation c1 message 2",
        }
        assert b"jo@example.com" not in nlu and b"jo@example.com" not in (root / "review.csv").read_bytes()
        assert yaml.safe_load((root / "domain" / "review.yml").read_text())["intents"] == ["ask_for_human"]

    def test_export_reports_corpus_conflicts_and_skips_deleted_messages(self):
        review = self.imported()
        services.correction_set(message=review.messages.get(index=0), reviewer=self.alice, intent="goodbye")
        services.correction_set(message=review.messages.get(index=2), reviewer=self.alice, intent="human_handoff")
        services.message_delete(message=review.messages.get(index=2))
        root = bot_dir(Path(self.tmp()))
        out = self.call("review_export", "--bot-dir", str(root), "--order-numbers", "placeholder")
        assert (
            "conflict: conversation c1 message 0: 'hello there' is 'goodbye' for alice, the corpus says 'greet'" in out
        )
        assert "0 examples exported" in out
        assert not (root / "data" / "review_nlu.yml").exists()  # nothing to add: the bot's data stays as it was

    def test_order_placeholders_and_team_names(self):
        review = self.imported()
        services.correction_set(message=review.messages.get(index=1), reviewer=self.alice, intent="check_order_status")
        root = bot_dir(Path(self.tmp()))
        options = RedactionOptions(redactor=Redactor(order_numbers=True), order_placeholders=True)
        result = training_export(bot_dir=root, options=options)
        assert [e.text for e in result.plan.kept] == ["wheres my parcel 1234567, mail me at (email)"]
        self.call("review_export", "--bot-dir", str(root), "--order-numbers", "redact")
        assert "wheres my parcel (order)" in (root / "data" / "review_nlu.yml").read_text()

    def test_story_of_a_reviewed_conversation(self):
        review = self.imported()
        services.correction_set(message=review.messages.get(index=1), reviewer=self.alice, intent="check_order_status")
        root = bot_dir(Path(self.tmp()))
        result = story_export(conversations=[review], bot_dir=root)
        steps = yaml.safe_load(result.path.read_text())["stories"][0]["steps"]
        assert steps[-1] == {"action": "action_check_order_status"} and result.stories == 1
        services.message_delete(message=review.messages.get(index=0))
        review.refresh_from_db()
        result = story_export(conversations=[review], bot_dir=root)
        assert result.stories == 0 and "deleted" in result.skipped[0]

    def test_export_command_errors(self):
        with pytest.raises(CommandError, match="not a Rasa project"):
            call_command("review_export", "--bot-dir", self.tmp())
        root = bot_dir(Path(self.tmp()))
        with pytest.raises(CommandError, match="not safe"):
            call_command("review_export", "--bot-dir", str(root), "--out-of-scope-intent", "Out Of Scope")

    def tmp(self) -> str:
        import tempfile

        path = tempfile.mkdtemp(prefix="review-")
        self.addCleanup(__import__("shutil").rmtree, path, True)
        return path

    def call(self, *args: str) -> str:
        import io

        out = io.StringIO()
        call_command(*args, stdout=out)
        return out.getvalue()


class AdminTests(ReviewTestCase):
    def setUp(self):
        super().setUp()
        self.staff = User.objects.create_superuser("staff", "s@example.org", "pw")
        self.client = Client()
        self.client.force_login(self.staff)
        self.review = self.imported()

    def page(self) -> str:
        return reverse("admin:review_reviewconversation_change", args=[self.review.pk])

    def test_inbox_lists_and_filters(self):
        url = reverse("admin:review_reviewconversation_changelist")
        for query in ("", "?problem=fallback", "?problem=handoff", "?intent=greet", "?reviewed__exact=0"):
            response = self.client.get(url + query)
            assert response.status_code == 200 and response.context["cl"].result_count == 1, query
            assert "c1" in response.content.decode()
        for query in ("?problem=annotated", "?intent=cancel_order", "?reviewed__exact=1"):
            assert self.client.get(url + query).context["cl"].result_count == 0, query

    def test_review_page_shows_predictions_and_saves_a_correction(self):
        html = self.client.get(self.page()).content.decode()
        assert "check_order_status (0.28)" in html and "action_clarify" in html and "Did you mean" in html
        message = self.review.messages.get(index=1)
        p = f"m{message.pk}"
        form = {
            "action": "correct",
            "message": message.pk,
            f"{p}-message": message.pk,
            f"{p}-intent": "check_order_status",
        }
        form[f"{p}-annotated"] = "wheres my parcel [5342765](order_id), mail me at jo@example.com"
        response = self.client.post(self.page(), form, follow=True)
        assert "Message 2: saved." in response.content.decode()
        assert Correction.objects.get(message=message).intent == "check_order_status"
        form[f"{p}-intent"] = "Bad Name"
        response = self.client.post(self.page(), form, follow=True)
        assert "is not safe" in response.content.decode()
        response = self.client.post(self.page(), {"action": "reviewed"}, follow=True)
        assert "Marked reviewed." in response.content.decode()

    def test_import_page(self):
        url = reverse("admin:review_reviewconversation_import")
        assert url in self.client.get(reverse("admin:review_reviewconversation_changelist")).content.decode()
        assert self.client.get(url).status_code == 200
        Conversation.objects.create(id="c9", bot=self.bot)
        response = self.client.post(url, {"bot": "demo"}, follow=True)  # the bot's API (port 9) is unreachable
        assert "unreachable" in response.content.decode() and not ReviewConversation.objects.filter(chat_id="c9")
        with TrackerServer({"c1": misunderstood_tracker(), "c9": misunderstood_tracker("c9")}) as server:
            self.bot.api_url = server.url
            self.bot.save()
            response = self.client.post(url, {"bot": "demo", "since": "2020-01-01"}, follow=True)
        assert "2 conversations imported." in response.content.decode()
        assert ReviewConversation.objects.get(chat_id="c9").messages.count() == 3

    def test_training_data_download(self):
        message = self.review.messages.get(index=1)
        services.correction_set(message=message, reviewer=self.staff, intent="check_order_status")
        services.correction_set(message=self.review.messages.get(index=0), reviewer=self.staff, intent="goodbye")
        import tempfile

        root = bot_dir(Path(tempfile.mkdtemp(prefix="review-")))
        self.addCleanup(__import__("shutil").rmtree, root, True)
        url = reverse("admin:review_reviewconversation_training_data")
        assert url in self.client.get(reverse("admin:review_reviewconversation_changelist")).content.decode()
        with self.settings(REVIEW_BOT_DIR=str(root)):
            response = self.client.get(url)
        text = response.content.decode()
        assert response["Content-Disposition"] == 'attachment; filename="review_nlu.yml"'
        assert "# conflict: conversation c1 message 0: 'hello there' is 'goodbye'" in text
        data = yaml.safe_load(text)
        assert data["nlu"][0]["intent"] == "check_order_status" and "jo@example.com" not in text
        assert not (root / "data" / "review_nlu.yml").exists()  # a download writes nothing

    def test_only_staff(self):
        outsider = Client()
        outsider.force_login(User.objects.create_user("visitor"))
        response = outsider.get(self.page())
        assert response.status_code == 302 and "login" in response["Location"]

    def test_staff_who_may_only_view_cannot_mark_conversations_reviewed(self):
        from django.contrib.auth.models import Permission

        viewer = User.objects.create_user("viewer", is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_reviewconversation"))
        client = Client()
        client.force_login(viewer)
        url = reverse("admin:review_reviewconversation_changelist")
        assert client.get(url).status_code == 200
        action = {"action": "mark_reviewed", "_selected_action": [self.review.pk]}
        client.post(url, action)
        assert not ReviewConversation.objects.get(pk=self.review.pk).reviewed
        self.client.post(url, action)  # a reviewer who may change it
        assert ReviewConversation.objects.get(pk=self.review.pk).reviewed


@pytest.mark.parametrize("name", ["review_import", "review_export", "review_story"])
def test_every_command_and_option_has_help(name):
    from django.core.management import load_command_class

    command = load_command_class("review", name)
    parser = command.create_parser("manage.py", name)
    assert len(command.help) > 40
    own = [a for a in parser._actions if a.dest not in {"help", "version", "verbosity", "settings", "pythonpath"}]
    own = [a for a in own if a.dest not in {"traceback", "no_color", "force_color", "skip_checks"}]
    assert own and all(a.help for a in own), [a.dest for a in own if not a.help]
