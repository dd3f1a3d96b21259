"""Human-evaluation studies: a study, its bots and scenarios, its participants and what they entered.

A study is loaded from a YAML file (``studies.study_file``, ``manage.py load_study``) and can be edited in the
admin. Participants are anonymous; an external id (Prolific, MTurk) is kept only as a keyed hash.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class Study(models.Model):
    """One study: what participants see and do, and how conversations are assigned."""

    class Assignment(models.TextChoices):
        BALANCED = "balanced", "Random, balanced by quotas"
        CHOICE = "choice", "Participant's choice"

    class Kind(models.TextChoices):
        CHAT = "chat", "Chat with the bots"
        PAIRWISE = "pairwise", "Judge pairs of finished conversations"

    slug = models.SlugField(unique=True, help_text="The study's id in URLs and files.")
    title = models.CharField(max_length=200)
    active = models.BooleanField(default=True, help_text="Inactive studies take no new participants.")
    blind = models.BooleanField(default=True, help_text="Participants see 'Assistant A/B', never the bots' names.")
    assignment = models.CharField(max_length=10, choices=Assignment.choices, default=Assignment.BALANCED)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHAT)
    pairwise = models.JSONField(
        default=dict,
        blank=True,
        help_text="A pairwise study's settings: sources, questions, quota ... (docs/studies.md).",
    )
    min_turns = models.PositiveIntegerField(default=1, help_text="User messages before a conversation may end.")
    max_turns = models.PositiveIntegerField(default=20, help_text="User messages at most per conversation.")
    max_conversations = models.PositiveIntegerField(default=1, help_text="Conversations at most per participant.")
    idle_timeout_minutes = models.PositiveIntegerField(
        default=30, help_text="A conversation idle this long no longer holds a place in its bot's quota."
    )
    consent_version = models.CharField(max_length=50)
    consent_text = models.TextField()
    consent_checkboxes = models.JSONField(default=list, blank=True, help_text="Statements that must all be ticked.")
    instructions = models.TextField(blank=True)
    quiz = models.JSONField(default=list, blank=True, help_text="[{text, options: [...], answer}]")
    quiz_pass_mark = models.PositiveIntegerField(default=0, help_text="Correct answers needed to pass.")
    annotation_labels = models.JSONField(default=list, blank=True)
    annotation_required = models.BooleanField(default=False)
    questionnaire = models.JSONField(default=list, blank=True, help_text="[{id, type, text, ...}]")
    completion_code = models.CharField(max_length=100)
    completion_url = models.URLField(blank=True)
    invite_token = models.CharField(max_length=100, blank=True, help_text="When set, the invite link must carry it.")
    transforms = models.JSONField(
        default=dict, blank=True, help_text='Message transforms by side: {"user": [...], "bot": [...]}.'
    )
    acceptability = models.JSONField(
        default=dict, blank=True, help_text="Thresholds of the acceptability checks (studies.acceptability.Rules)."
    )
    source = models.TextField(blank=True, help_text="The YAML file last loaded.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title

    #: The model field behind each part of the study file the checker names (the rest share their names).
    _FIELD_OF = {
        "consent.text": "consent_text",
        "consent.version": "consent_version",
        "consent.checkboxes": "consent_checkboxes",
        "consent": "consent_text",
        "limits.min_turns": "min_turns",
        "limits.max_turns": "max_turns",
        "limits.max_conversations": "max_conversations",
        "limits.idle_timeout_minutes": "idle_timeout_minutes",
        "quiz.pass_mark": "quiz_pass_mark",
        "quiz": "quiz",
        "annotation.labels": "annotation_labels",
        "annotation": "annotation_labels",
        "completion.code": "completion_code",
        "completion.url": "completion_url",
        "invite": "invite_token",
    }

    @property
    def is_pairwise(self) -> bool:
        return self.kind == self.Kind.PAIRWISE

    def clean(self) -> None:
        """The admin's edits are held to the study file's rules (quiz, questionnaire, labels, limits ...)."""
        from django.core.exceptions import ValidationError

        from .study_file import check_study_values

        values = {f.name: getattr(self, f.name) for f in self._meta.fields}
        # bots and scenarios are checked by their own inlines
        values["bots"] = [{"bot": "x"}, {"bot": "y"}] if self.kind == self.Kind.PAIRWISE else [{"bot": "x", "quota": 1}]
        values["scenarios"] = []
        errors: dict[str, list[str]] = {}
        for problem in check_study_values(values):
            path = problem.removeprefix("field '").split("'")[0].split("[")[0]
            head = path.split(".")[0]
            name = self._FIELD_OF.get(path) or self._FIELD_OF.get(head) or (head if head in values else None)
            errors.setdefault(name or "__all__", []).append(problem)
        if errors:
            raise ValidationError(errors)


class StudyBot(models.Model):
    """A bot compared in a study, with its neutral name and its quota of completed conversations."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="study_bots")
    bot = models.ForeignKey("bots.Bot", on_delete=models.PROTECT, related_name="study_entries")
    neutral_label = models.CharField(max_length=100, help_text="What participants see when the study is blind.")
    quota = models.PositiveIntegerField(help_text="Completed conversations wanted.")
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True, help_text="Off when a reload dropped it (its data stays).")

    class Meta:
        ordering = ["study", "position"]
        constraints = [models.UniqueConstraint(fields=["study", "bot"], name="studybot_unique_bot")]

    def __str__(self) -> str:
        return f"{self.study.slug}: {self.bot_id} ({self.neutral_label})"

    @property
    def participant_label(self) -> str:
        """The name participants see: neutral when the study is blind."""
        return self.neutral_label if self.study.blind else self.bot.display_label


class Scenario(models.Model):
    """A customer task shown before a chat, with an optional success check read from the Rasa tracker."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="scenarios")
    key = models.SlugField()
    text = models.TextField()
    success_action = models.CharField(max_length=100, blank=True, help_text="An action that must have run.")
    success_slot = models.CharField(max_length=100, blank=True, help_text="A slot that must be set.")
    success_value = models.CharField(max_length=200, blank=True, help_text="…to this value (empty: any value).")
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["study", "position"]
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="scenario_unique_key")]

    def __str__(self) -> str:
        return f"{self.study.slug}: {self.key}"

    @property
    def has_check(self) -> bool:
        return bool(self.success_action or self.success_slot)


class Participant(models.Model):
    """One anonymous participant of one study, known by their session (and an external id's keyed hash)."""

    class Stage(models.TextChoices):
        CONSENT = "consent", "Consent"
        QUIZ = "quiz", "Quiz"
        INSTRUCTIONS = "instructions", "Instructions"
        CONVERSATIONS = "conversations", "Conversations"
        DONE = "done", "Done"
        FAILED_QUIZ = "failed_quiz", "Failed the quiz"
        DECLINED = "declined", "Declined consent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    external_source = models.CharField(max_length=20, blank=True, help_text="prolific, mturk or empty.")
    external_id_hash = models.CharField(max_length=64, blank=True, help_text="HMAC-SHA256 of the external id.")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.CONSENT)
    consent_version = models.CharField(max_length=50, blank=True)
    consent_checked = models.JSONField(default=list, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    quiz_answers = models.JSONField(default=list, blank=True)
    quiz_score = models.PositiveIntegerField(null=True, blank=True)
    quiz_passed = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "external_id_hash"],
                condition=~Q(external_id_hash=""),
                name="participant_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.study.slug}: {self.id}"


class StudyConversation(models.Model):
    """One conversation of a participant with one study bot, on a scenario."""

    class Status(models.TextChoices):
        CHATTING = "chatting", "Chatting"
        RATING = "rating", "Answering the questionnaire"
        COMPLETED = "completed", "Completed"
        ABANDONED = "abandoned", "Abandoned"

    #: Statuses of a conversation still under way (at most one per participant).
    OPEN = (Status.CHATTING, Status.RATING)

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="conversations")
    study_bot = models.ForeignKey(StudyBot, on_delete=models.PROTECT, related_name="conversations")
    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    chat = models.OneToOneField("chat.Conversation", on_delete=models.PROTECT, related_name="study_conversation")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHATTING)
    user_turns = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(auto_now_add=True)
    chat_ended_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    success = models.BooleanField(null=True, blank=True, help_text="The scenario's check; empty when none ran.")
    tracker_error = models.CharField(max_length=300, blank=True)
    flags = models.JSONField(default=list, blank=True, help_text="Acceptability checks the participant's side failed.")
    answers = models.JSONField(default=dict, blank=True, help_text="The questionnaire's answers by question id.")

    class Meta:
        ordering = ["started_at"]
        constraints = [
            # two tabs cannot open two conversations for one participant
            models.UniqueConstraint(
                fields=["participant"], condition=Q(status__in=["chatting", "rating"]), name="one_open_conversation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} with {self.study_bot.bot_id}"


class Message(models.Model):
    """A message of a study conversation, with what Rasa made of it (user) or did (bot)."""

    class Sender(models.TextChoices):
        USER = "user", "Participant"
        BOT = "bot", "Bot"

    conversation = models.ForeignKey(StudyConversation, on_delete=models.CASCADE, related_name="messages")
    index = models.PositiveIntegerField()
    sender = models.CharField(max_length=4, choices=Sender.choices)
    text = models.TextField(help_text="After the study's transforms: what the bot got, or what the participant saw.")
    before_transforms = models.TextField(blank=True, help_text="What was typed, or the bot's reply, when different.")
    sent_at = models.DateTimeField(help_text="When the browser showed it.")
    intent = models.CharField(max_length=100, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    actions = models.JSONField(default=list, blank=True, help_text="User messages: the actions Rasa ran after it.")
    tracker_text = models.TextField(
        blank=True,
        help_text="Rasa bots: the reply as Rasa's tracker recorded it, when the page's differs.",
    )

    class Meta:
        ordering = ["conversation", "index"]
        constraints = [models.UniqueConstraint(fields=["conversation", "index"], name="message_unique_index")]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.index} {self.sender}"


class Annotation(models.Model):
    """The labels a participant ticked on one bot message."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="annotation")
    labels = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.message}: {', '.join(self.labels)}"


class BlockedId(models.Model):
    """A soft block: an external id (kept as its keyed hash) turned away politely by one study, or by all."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, null=True, blank=True, related_name="blocked_ids")
    external_id_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "blocked external id"
        constraints = [models.UniqueConstraint(fields=["study", "external_id_hash"], name="blockedid_unique")]

    def __str__(self) -> str:
        return f"{self.study.slug if self.study else 'all studies'}: {self.external_id_hash[:12]}…"


class ImportedTranscript(models.Model):
    """A finished conversation brought in from elsewhere (``manage.py import_transcripts``): material a pairwise
    study shows its raters beside the conversations of the chat studies it names."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="imported_transcripts")
    key = models.CharField(max_length=100, help_text="The transcript's id in the imported file.")
    bot = models.ForeignKey("bots.Bot", on_delete=models.PROTECT, related_name="+")
    scenario = models.CharField(max_length=100, blank=True, help_text="A scenario's id, to pair like with like.")
    scenario_text = models.TextField(blank=True)
    messages = models.JSONField(default=list, help_text='[{"sender": "user"|"bot", "text": ...}]')
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "key"]
        constraints = [models.UniqueConstraint(fields=["study", "key"], name="importedtranscript_unique_key")]

    def __str__(self) -> str:
        return f"{self.study.slug}: {self.key} ({self.bot_id})"


class JudgedPair(models.Model):
    """Two finished conversations of two different bots shown side by side to one rater, and the rater's answers.

    ``left_conversation`` and ``right_conversation`` name the material: a chat study's conversation by its chat id,
    or an imported transcript as ``imported:<key>``. A check pair (``check_of``) shows an earlier pair again, sides
    swapped, to measure the rater's consistency.
    """

    class Answer(models.TextChoices):
        LEFT = "left", "Left"
        RIGHT = "right", "Right"
        TIE = "tie", "Tie"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="pairs")
    position = models.PositiveIntegerField(help_text="1 for the rater's first pair, 2 for the next ...")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="Names the pair in its form.")
    left_conversation = models.CharField(max_length=120)
    right_conversation = models.CharField(max_length=120)
    left_bot = models.ForeignKey("bots.Bot", on_delete=models.PROTECT, related_name="+")
    right_bot = models.ForeignKey("bots.Bot", on_delete=models.PROTECT, related_name="+")
    scenario = models.CharField(max_length=100, blank=True)
    check_of = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="checks", help_text="The pair repeated."
    )
    answers = models.JSONField(default=dict, blank=True, help_text="Question id -> left, right or tie.")
    reason = models.TextField(blank=True)
    assigned_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["participant", "position"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "position"], name="judgedpair_unique_position"),
            # two tabs cannot open two pairs for one rater
            models.UniqueConstraint(fields=["participant"], condition=Q(answered_at=None), name="judgedpair_one_open"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} #{self.position}: {self.left_bot_id} vs {self.right_bot_id}"
