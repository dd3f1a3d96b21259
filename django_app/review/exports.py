"""The review inbox's files: training data from the corrections, test stories from reviewed conversations.

The planning and rendering are pure (``review.training``, ``review.stories``); this module reads the database
(through ``review.selectors``) and the bot's files, and writes atomically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from process_data.writers import write_files

from .models import ReviewConversation
from .selectors import reviewed_examples
from .stories import Verdict, one_step_rules, render_stories, story_steps
from .training import (
    ExportPlan,
    RedactionOptions,
    corpus_labels,
    domain_intents,
    plan_export,
    render_nlu,
    write_export,
)

#: Where the export writes, relative to the bot folder.
NLU_FILE = "data/review_nlu.yml"
DOMAIN_FILE = "domain/review.yml"
STORIES_FILE = "tests/review_stories.yml"


def default_bot_dir() -> Path:
    """The repository's Rasa project (``rasa_bot/`` beside ``django_app/``), or ``REVIEW_BOT_DIR``."""
    configured = getattr(settings, "REVIEW_BOT_DIR", None)
    return Path(configured) if configured else Path(settings.BASE_DIR).parent / "rasa_bot"


@dataclass
class TrainingExport:
    plan: ExportPlan
    files: list[Path]
    out_of_scope: int


def training_plan(
    *,
    bot_dir: Path,
    bot: str | None = None,
    out_of_scope_intent: str | None = None,
    options: RedactionOptions | None = None,
) -> tuple[ExportPlan, int]:
    """What an export of the corrections would write beside ``bot_dir``'s corpus, and the out-of-scope count.

    Raises:
        process_data.ConversionError: A file of the bot cannot be read (naming it).
    """
    corpus = corpus_labels(sorted((bot_dir / "data").rglob("*.yml")))
    domain_files = [bot_dir / "domain.yml"] if (bot_dir / "domain.yml").is_file() else []
    domain_files += sorted((bot_dir / "domain").rglob("*.yml")) if (bot_dir / "domain").is_dir() else []
    reviewed = reviewed_examples(bot=bot, out_of_scope_intent=out_of_scope_intent)
    plan = plan_export(reviewed.examples, corpus, known_intents=domain_intents(domain_files), options=options)
    plan.conflicts = reviewed.conflicts + plan.conflicts
    return plan, reviewed.out_of_scope


def training_export(
    *,
    bot_dir: Path,
    nlu: Path | None = None,
    csv_path: Path | None = None,
    domain: Path | None = None,
    bot: str | None = None,
    out_of_scope_intent: str | None = None,
    options: RedactionOptions | None = None,
    test_file: Path | None = None,
) -> TrainingExport:
    """Export the corrections as training data beside the bot's corpus (see docs/review.md).

    De-duplicated against every NLU file under ``bot_dir/data`` (the export's own excepted), so running it twice
    writes the same bytes. Messages whose reviewers disagree are reported with the corpus's conflicts.
    ``test_file``: also write every reviewed message with its reviewed intent (the new examples and those the
    corpus already had) as an NLU file, to measure a model on (``launcher.review_train``).

    Raises:
        process_data.ConversionError: A file of the bot cannot be read (naming it).
    """
    nlu = nlu or bot_dir / NLU_FILE
    domain = domain or bot_dir / DOMAIN_FILE
    plan, out_of_scope = training_plan(
        bot_dir=bot_dir, bot=bot, out_of_scope_intent=out_of_scope_intent, options=options
    )
    files = write_export(plan, nlu=nlu, csv_path=csv_path, domain=domain)
    if test_file is not None:
        write_files({test_file: render_nlu(ExportPlan(kept=plan.kept + plan.duplicates))})
        files.append(test_file)
    return TrainingExport(plan, files, out_of_scope)


def conversation_verdicts(conversation: ReviewConversation) -> dict[int, Verdict] | None:
    """The agreed verdict per corrected message; None when reviewers disagree on one of them."""
    from process_data.model import Entity

    verdicts: dict[int, Verdict] = {}
    for message in conversation.messages.prefetch_related("corrections"):
        corrections = list(message.corrections.all())
        if not corrections:
            continue
        if len({c.verdict for c in corrections}) > 1:
            return None
        c = corrections[0]
        entities = tuple(
            Entity(e["start"], e["end"], e["entity"], e.get("value", ""))
            for e in c.entities
            if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
        )
        verdicts[message.index] = Verdict("" if c.out_of_scope else c.intent, entities)
    return verdicts


@dataclass
class StoryExport:
    path: Path
    stories: int
    skipped: list[str]


def stories_text(
    conversations: Iterable[ReviewConversation], *, bot_dir: Path, options: RedactionOptions | None = None
) -> tuple[str, int, list[str]]:
    """The test-stories file of these conversations, how many stories it holds, and why the others were left out."""
    rules = one_step_rules(sorted((bot_dir / "data").rglob("*.yml")))
    stories: dict[str, list[str]] = {}
    skipped: list[str] = []
    for conversation in conversations:
        name = f"review {conversation.chat_id}"
        if not conversation.events:
            skipped.append(f"{name}: no tracker events (a message was deleted at the user's request)")
            continue
        verdicts = conversation_verdicts(conversation)
        if verdicts is None:
            skipped.append(f"{name}: reviewers disagree on a message")
            continue
        steps = story_steps({"events": conversation.events}, verdicts, rules, options)
        if not steps:
            skipped.append(f"{name}: nothing to check (its first message is out of scope or not understood)")
            continue
        stories[name] = steps
    return render_stories(stories), len(stories), skipped


def story_export(
    *,
    conversations: Iterable[ReviewConversation],
    bot_dir: Path,
    path: Path | None = None,
    options: RedactionOptions | None = None,
) -> StoryExport:
    """Write the conversations' test stories to ``path`` (default ``bot_dir/tests/review_stories.yml``) atomically."""
    path = path or bot_dir / STORIES_FILE
    text, count, skipped = stories_text(conversations, bot_dir=bot_dir, options=options)
    write_files({path: text})
    return StoryExport(path, count, skipped)
