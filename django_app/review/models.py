"""The review inbox: conversations read from a bot's tracker, their user messages, and reviewers' corrections.

A conversation is imported from Rasa's HTTP API (``review.services.conversation_import``); each user message
keeps what Rasa made of it (intent, confidence, the two runners-up, entities) and what followed (actions, bot
replies). Reviewers correct messages one :class:`Correction` each; two reviewers who disagree are both kept
and shown as a conflict (``review.selectors.message_conflicts``), never overwritten.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Tag(models.Model):
    """A label a reviewer puts on a conversation (``refund``, ``rude``, ``new-intent`` ...)."""

    name = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReviewConversation(models.Model):
    """One conversation imported for review, with the flags the inbox sorts by."""

    class Source(models.TextChoices):
        LIVE = "live", "Live site"
        STUDY = "study", "Study"

    chat = models.OneToOneField(
        "chat.Conversation",
        on_delete=models.CASCADE,  # a conversation deleted on request takes its review with it
        related_name="review",
    )
    bot = models.ForeignKey("bots.Bot", on_delete=models.PROTECT, related_name="reviews")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.LIVE)
    started_at = models.DateTimeField(null=True, blank=True, help_text="The first user message's time.")
    imported_at = models.DateTimeField(auto_now=True)
    user_messages = models.PositiveIntegerField(default=0)
    fallbacks = models.PositiveIntegerField(default=0, help_text="Messages that hit the fallback or clarification.")
    low_confidence = models.PositiveIntegerField(default=0, help_text="Messages below the confidence threshold.")
    annotations = models.PositiveIntegerField(default=0, help_text="Participants' per-turn labels (studies).")
    handoff = models.BooleanField(default=False, help_text="The bot handed the customer over to a person.")
    unsuccessful = models.BooleanField(default=False, help_text="Ended without success (see docs/review.md).")
    min_confidence = models.FloatField(null=True, blank=True)
    intents = models.JSONField(default=list, blank=True, help_text="The intents Rasa predicted, for filtering.")
    priority = models.PositiveIntegerField(default=0, help_text="Higher first in the inbox.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    reviewed = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    events = models.JSONField(
        default=list,
        blank=True,
        help_text="The tracker's events at import (for its test story); emptied on a deletion.",
    )

    class Meta:
        ordering = ["reviewed", "-priority", "-started_at"]
        verbose_name = "conversation to review"
        verbose_name_plural = "conversations to review"

    def __str__(self) -> str:
        return f"{self.chat_id} with {self.bot_id}"


class ReviewMessage(models.Model):
    """One user message as Rasa understood it, and what the bot did next."""

    conversation = models.ForeignKey(ReviewConversation, on_delete=models.CASCADE, related_name="messages")
    index = models.PositiveIntegerField(help_text="0 for the conversation's first user message.")
    text = models.TextField()
    sent_at = models.DateTimeField(null=True, blank=True)
    intent = models.CharField(max_length=100, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    runners_up = models.JSONField(default=list, blank=True, help_text="[{name, confidence}], the next two intents.")
    entities = models.JSONField(default=list, blank=True, help_text="[{entity, value, start, end}]")
    actions = models.JSONField(default=list, blank=True, help_text="The actions Rasa ran after it.")
    replies = models.JSONField(default=list, blank=True, help_text="The bot's replies after it.")
    annotation_labels = models.JSONField(default=list, blank=True, help_text="Study participants' labels.")
    fallback = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted at the user's request: its text is gone and it is never exported."
    )

    class Meta:
        ordering = ["conversation", "index"]
        constraints = [models.UniqueConstraint(fields=["conversation", "index"], name="reviewmessage_unique_index")]

    def __str__(self) -> str:
        return f"{self.conversation.chat_id}#{self.index}"


class Correction(models.Model):
    """One reviewer's verdict on one message: the intent it should have had, its entities, or out of scope."""

    message = models.ForeignKey(ReviewMessage, on_delete=models.CASCADE, related_name="corrections")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="corrections")
    intent = models.CharField(max_length=64, blank=True, help_text="Empty when out of scope.")
    out_of_scope = models.BooleanField(default=False)
    entities = models.JSONField(default=list, blank=True, help_text="[{entity, value, start, end}] in the text.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["message", "created_at"]
        constraints = [models.UniqueConstraint(fields=["message", "reviewer"], name="correction_one_per_reviewer")]

    def __str__(self) -> str:
        verdict = "out of scope" if self.out_of_scope else self.intent
        return f"{self.message}: {verdict} ({self.reviewer})"

    @property
    def verdict(self) -> tuple:
        """What two corrections must share to agree."""
        ents = sorted((e.get("entity"), e.get("start"), e.get("end")) for e in self.entities or [])
        return (self.out_of_scope, self.intent, tuple(ents))
