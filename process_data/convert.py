"""Pure conversion: labelled examples in, cleaned :class:`TrainingData` out.

The hot path runs once per corpus row, so it avoids per-character Python
loops: a text that is already clean (the common case) is recognised with one
regular-expression search and, for non-ASCII text, a set difference against
characters already known to be fine. Only texts that need changing go through
the character-by-character :func:`normalize`, which keeps entity offsets aligned.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import ConversionError
from .model import Entity, Example, TrainingData

ConflictPolicy = Literal["first", "majority", "drop"]
CONFLICT_POLICIES: tuple[str, ...] = ("first", "majority", "drop")

_UNSAFE_NAME = re.compile(r"[^a-z0-9_]+")
# Markup Rasa would read as an entity annotation inside a training example.
_MARKUP = str.maketrans({"[": "(", "]": ")"})
# Characters normalisation changes: control characters, C1 controls, no-break
# space, brackets (besides whitespace runs, checked apart).
_NEEDS_CLEANING = re.compile(r"[\x00-\x1f\x7f-\xa0\[\]]").search
# Anything but printable ASCII other than brackets: the quick test of the hot
# path; a match sends the text to the careful test (it may be non-ASCII).
_NOT_PLAIN = re.compile(r"[^ -Z\\^-~]").search
_new_tuple = tuple.__new__
# Control characters that are not whitespace (whitespace ones become spaces instead).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
# Characters normalisation keeps as they are (a space only once runs and ends are ruled out).
_known_good: set[str] = {chr(c) for c in range(0x20, 0x7F)} - {"[", "]"}
_name_cache: dict[str, str] = {}


@dataclass(frozen=True)
class CleaningOptions:
    """How :func:`build_training_data` cleans and checks examples (``--conflicts``, ``--fold-case`` ...).

    Attributes:
        conflicts: A text under two intents (compared ignoring case) is kept under the ``first``,
            under the ``majority`` of its rows, or ``drop``-ped from all of them.
        fold_case: Treat texts that differ only in case as duplicates (keep the first). Off by
            default: Rasa counts ``Hi`` and ``hi`` as two examples, and the case-aware features
            of the CRF entity extractor learn from both.
        min_examples: Warn about an intent with fewer examples than this.
        max_imbalance: Warn when the largest intent has more than this many times the examples
            of the smallest (0: never).
    """

    conflicts: ConflictPolicy = "first"
    fold_case: bool = False
    min_examples: int = 2
    max_imbalance: float = 10.0

    def __post_init__(self) -> None:
        if self.conflicts not in CONFLICT_POLICIES:
            raise ValueError(f"conflicts must be one of {CONFLICT_POLICIES}, not {self.conflicts!r}")


DEFAULT_CLEANING = CleaningOptions()


def safe_name(name: str) -> str:
    """Turn a label into a Rasa-safe identifier (lower snake_case), deterministically.

    Raises:
        ConversionError: The label has no letter or digit.
    """
    cached = _name_cache.get(name)
    if cached is not None:
        return cached
    cleaned = _UNSAFE_NAME.sub("_", name.strip().lower()).strip("_")
    if not cleaned:
        raise ConversionError(f"label '{name}' has no letters or digits to name an intent with")
    if len(_name_cache) < 100_000:
        _name_cache[name] = cleaned
    return cleaned


def _clean_char(ch: str) -> str:
    if ch.isspace():
        return " "
    if unicodedata.category(ch) in _DROPPED_CATEGORIES:
        return ""
    return ch


def is_clean(text: str) -> bool:
    """Whether :func:`normalize` would leave ``text`` exactly as it is (and it is not empty)."""
    if not text or text[0] == " " or text[-1] == " " or "  " in text:
        return False
    if _NOT_PLAIN(text) is None:
        return True
    if _NEEDS_CLEANING(text) is not None:
        return False
    if text.isascii():
        return True
    for ch in set(text).difference(_known_good):
        if ch.isspace() or unicodedata.category(ch) in _DROPPED_CATEGORIES:
            return False
        if len(_known_good) < 50_000:
            _known_good.add(ch)
    return True


def normalize(text: str, entities: tuple[Entity, ...] = ()) -> tuple[str, tuple[Entity, ...]]:
    """Collapse whitespace, drop control characters, keep entity offsets aligned.

    Square brackets become parentheses so that no text reads as entity markup,
    and entity types become safe names.

    Args:
        text: The raw utterance.
        entities: Annotations with offsets into ``text``.

    Returns:
        The cleaned text and the entities with offsets into it.
    """
    if is_clean(text) and all(e.value == e.value.strip() and e.value for e in entities):
        return text, tuple(
            e if _name_cache.get(e.type) == e.type else Entity(e.start, e.end, safe_name(e.type), e.value)
            for e in entities
        )
    if not entities:
        return clean_plain(text), ()
    out: list[str] = []
    mapping: list[int] = []  # original index -> index in output
    pending_space = False
    for ch in text:
        mapping.append(len(out) + (1 if pending_space and out else 0))
        c = _clean_char(ch).translate(_MARKUP)
        if c == " ":
            pending_space = True
            continue
        if not c:
            continue
        if pending_space and out:
            out.append(" ")
        pending_space = False
        out.append(c)
    mapping.append(len(out))
    cleaned = "".join(out)
    moved = []
    for ent in entities:
        start = mapping[ent.start]
        end = mapping[ent.end]
        value = cleaned[start:end].strip()
        if not value:
            continue
        start = cleaned.index(value, start)
        moved.append(Entity(start, start + len(value), safe_name(ent.type), value))
    return cleaned, tuple(moved)


def clean_plain(text: str) -> str:
    """:func:`normalize` for a text without entities, without a per-character Python loop.

    Brackets become parentheses, control characters that are not whitespace
    are deleted by one regular expression, surrogates, private-use and
    unassigned characters by a translation table built from the few distinct
    characters not yet known to be fine, and whitespace collapses with
    ``str.split``, which splits on exactly the characters ``str.isspace`` accepts.
    """
    return " ".join(_drop_odd(_CONTROL.sub("", text.translate(_MARKUP))).split())


def _drop_odd(text: str) -> str:
    if text.isascii():
        return text
    odd = {}
    for ch in set(text).difference(_known_good):
        if ch.isspace():
            continue
        if unicodedata.category(ch) in _DROPPED_CATEGORIES:
            odd[ord(ch)] = None
        elif len(_known_good) < 50_000:
            _known_good.add(ch)
    return text.translate(odd) if odd else text


def clean_text(text: str) -> str:
    """Collapse whitespace and drop control and non-characters (for responses; brackets are kept)."""
    if is_clean(text):
        return text
    return " ".join(_drop_odd(_CONTROL.sub("", text)).split())


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def build_training_data(
    examples: Iterable[Example | Sequence],
    actions: Mapping[str, str] | None = None,
    action_map_path: str | None = None,
    *,
    options: CleaningOptions = DEFAULT_CLEANING,
    responses: Mapping[str, Sequence[str]] | None = None,
    responses_path: str | None = None,
) -> TrainingData:
    """Clean and group examples by intent.

    Whitespace is normalised and repeated texts under the same intent are
    dropped. Texts that differ only in case are distinct examples (as Rasa
    counts them) unless ``options.fold_case`` is set. A text seen under two
    intents, compared ignoring case (Rasa's featurizers lower-case, so ``Hi``
    under one intent and ``hi`` under another contradict each other), is
    reported with both line numbers and resolved by ``options.conflicts``:
    kept under the first intent (``first``), under the intent most of its
    rows give (``majority``, ties to the first), or dropped from every intent
    (``drop``).

    Args:
        examples: Examples as read from a corpus (or tuples in the same order).
        actions: Optional mapping intent -> custom action answering it.
        action_map_path: Where ``actions`` came from, for error messages.
        options: How to treat case, conflicts and small or unbalanced intents.
        responses: Optional mapping intent label -> response texts; overrides
            a response column.
        responses_path: Where ``responses`` came from, for messages.

    Returns:
        The training data, with a count of what was read, kept and dropped.
    """
    # A million new tuples would trigger the cyclic garbage collector over and
    # over (a third of the time); they hold no cycles, so pause it meanwhile.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(examples, actions, action_map_path, options, responses, responses_path)
    finally:
        if gc_was_enabled:
            gc.enable()


def _build(
    examples: Iterable[Example | Sequence],
    actions: Mapping[str, str] | None,
    action_map_path: str | None,
    options: CleaningOptions,
    responses: Mapping[str, Sequence[str]] | None,
    responses_path: str | None,
) -> TrainingData:
    conflicts, fold_case = options.conflicts, options.fold_case
    min_examples, max_imbalance = options.min_examples, options.max_imbalance
    data = TrainingData()
    by_intent = data.examples
    found_responses = data.responses
    seen: dict[str, Example] = {}  # text ignoring case -> the first example kept with it
    variants: dict[str, list[Example]] = {}  # text ignoring case -> further case variants kept (same intent)
    names: dict[str, str] = {}  # raw label -> intent name
    label_of: dict[str, str] = {}  # intent name -> first label that gave it
    merged: dict[str, list[str]] = {}
    dup_count: dict[str, int] = {}
    clashes: dict[str, dict[str, list]] = {}  # key -> intent -> [rows, [distinct Examples]]
    track = conflicts != "first"
    read = dropped_empty = dropped_dup = dropped_conflict = case_variants = 0
    _is_clean, _normalize, not_plain, new, example_cls = is_clean, normalize, _NOT_PLAIN, _new_tuple, Example
    last_label = last_intent = None
    bucket: list[Example] = []
    for read, (text, label, line, response, ents) in enumerate(examples, 1):  # noqa: B007 (read is used after)
        if label == last_label:
            intent = last_intent
        else:
            intent = names.get(label)
        if intent is None:
            try:
                intent = safe_name(label)
            except ConversionError as exc:
                raise ConversionError(exc.message, line=line) from exc
            names[label] = intent
            first_label = label_of.setdefault(intent, label)
            if first_label != label:
                merged.setdefault(intent, [first_label]).append(label)
        # The quick test (printable ASCII, single spaces) passes nearly every row of a clean corpus.
        if ents or (
            (not text or not_plain(text) is not None or "  " in text or text[0] == " " or text[-1] == " ")
            and not _is_clean(text)
        ):
            try:
                text, ents = _normalize(text, ents)
            except ConversionError as exc:
                raise ConversionError(exc.message, line=line) from exc
            if not text:
                dropped_empty += 1
                continue
        key = text.casefold()
        if key == text:
            key = text
        first = seen.get(key)
        if first is not None:
            if first.intent == intent:
                # The same text (or, unless folding case, one differing only in case) under the same intent.
                if text == first.text or fold_case or any(text == v.text for v in variants.get(key, ())):
                    dropped_dup += 1
                    if text != first.text:
                        case_variants += 1  # folding case: a case variant counted as a duplicate
                    if track:
                        dup_count[key] = dup_count.get(key, 0) + 1
                    continue
            elif track:
                clash = clashes.get(key)
                if clash is None:
                    clash = clashes[key] = {first.intent: [0, [first]]}
                entry = clash.get(intent)
                if entry is None:
                    clash[intent] = [1, [Example(text, intent, line, None, ents)]]
                else:
                    entry[0] += 1
                    if not fold_case and all(text != e.text for e in entry[1]):
                        entry[1].append(Example(text, intent, line, None, ents))
                continue
            else:
                dropped_conflict += 1
                as_first = "" if text == first.text else f" (as '{_short(first.text)}': only the case differs)"
                data.warnings.append(
                    f"line {line}: '{_short(text)}' is labelled '{intent}' but line {first.line} "
                    f"labels it '{first.intent}'{as_first}; kept the first"
                )
                continue
        example = new(example_cls, (text, intent, line, None, ents))
        if first is None:
            seen[key] = example
        else:
            variants.setdefault(key, []).append(example)
        if intent is not last_intent:
            bucket = by_intent.get(intent)  # type: ignore[assignment]
            if bucket is None:
                bucket = by_intent[intent] = []
        last_label, last_intent = label, intent
        bucket.append(example)
        if response is not None and intent not in found_responses:
            response = clean_text(response)
            if response:
                found_responses[intent] = response
    del seen
    variants_left = 0
    if clashes:
        dropped, variants_left = _resolve_clashes(data, clashes, conflicts, dup_count, variants)
        dropped_conflict += dropped
    data.renamed = {label: name for label, name in names.items() if label != name}
    for intent, labels in merged.items():
        data.warnings.append(
            f"labels {', '.join(repr(lb) for lb in labels)} all become intent '{intent}'; they were merged"
        )
    _apply_responses(data, responses, responses_path)
    for intent in data.examples:
        if intent not in data.responses:
            data.responses[intent] = f"(No answer written yet for '{intent}'.)"
            data.placeholders.append(intent)
    for intent, examples_of in data.examples.items():
        if len(examples_of) < min_examples:
            data.warnings.append(f"intent '{intent}' has only {len(examples_of)} example(s)")
    if len(data.examples) > 1 and max_imbalance > 0:
        sizes = sorted(((len(v), k) for k, v in data.examples.items()), key=lambda p: (p[0], p[1]))
        (small, small_name), (large, large_name) = sizes[0], max(sizes, key=lambda p: p[0])
        if small and large / small > max_imbalance:
            data.warnings.append(
                f"class imbalance: intent '{large_name}' has {large:,} examples but '{small_name}' only {small:,} "
                f"(ratio {large / small:.0f}:1, more than {max_imbalance:g}:1)"
            )
    for intent, action in sorted((actions or {}).items()):
        name = safe_name(intent)
        if name not in data.examples:
            # One action map can serve several corpora; a name it has that this corpus lacks may be a typo,
            # so it is reported (and --strict makes it an error).
            where = f"{action_map_path}: " if action_map_path else ""
            data.warnings.append(f"{where}the action map names intent '{intent}', which the corpus does not have")
            continue
        data.actions[name] = action
    entity_types: set[str] = set()
    annotations = 0
    for examples_of in data.examples.values():
        for example in examples_of:
            if example.entities:
                annotations += len(example.entities)
                entity_types.update(e.type for e in example.entities)
    data.entity_types = sorted(entity_types)
    kept = sum(len(v) for v in data.examples.values())
    if not fold_case:  # the case variants kept, less those a conflict removed
        case_variants = variants_left + sum(len(v) for k, v in variants.items() if k not in clashes)
    data.stats = {
        "rows read": read,
        "kept": kept,
        "dropped: empty text": dropped_empty,
        "dropped: duplicate": dropped_dup,
        "dropped: same text, other intent": dropped_conflict,
        # Rows differing only in case from an earlier text of their intent: kept as examples of their
        # own, or (folding case) counted among the duplicates above.
        ("case variants folded" if fold_case else "case variants kept"): case_variants,
        "intents": len(data.examples),
        "intent labels renamed": len(data.renamed),
        "entity types": len(data.entity_types),
        "entity annotations": annotations,
        "placeholder responses": len(data.placeholders),
    }
    return data


def _resolve_clashes(
    data: TrainingData,
    clashes: dict[str, dict[str, list]],
    policy: str,
    dup_count: dict[str, int],
    variants: dict[str, list[Example]],
) -> tuple[int, int]:
    """Apply the ``majority`` or ``drop`` policy.

    Returns:
        How many rows it dropped, and how many case variants of these texts are still kept
        (beyond the first example of each).

    Each clash maps intent -> [rows with that intent, its distinct Examples];
    the first intent is the one whose examples were kept during the pass (the
    first one and its case variants), and its repeated rows were already
    counted as duplicates.
    """
    remove: dict[str, set[int]] = {}
    dropped = variants_left = 0
    for key, clash in clashes.items():
        first_intent, first_entry = next(iter(clash.items()))
        kept = [first_entry[1][0], *variants.get(key, ())]
        first = kept[0]
        first_entry[0] = len(kept) + dup_count.get(key, 0)
        others = sum(entry[0] for intent, entry in clash.items() if intent != first_intent)
        where = ", ".join(f"'{intent}' on line {entry[1][0].line}" for intent, entry in clash.items())
        counts = " to ".join(str(entry[0]) for entry in clash.values())
        if policy == "drop":
            dropped += others + len(kept)
            remove.setdefault(first_intent, set()).update(id(e) for e in kept)
            data.warnings.append(f"'{_short(first.text)}' is labelled {where}; dropped it from all of them")
            continue
        winner = max(clash, key=lambda intent: clash[intent][0])  # the first maximum: ties go to the first intent
        dropped += others
        if winner != first_intent:
            moved = clash[winner][1]
            remove.setdefault(first_intent, set()).update(id(e) for e in kept)
            data.examples.setdefault(winner, []).extend(moved)
            dropped += len(kept) - len(moved)
            variants_left += len(moved) - 1
        else:
            variants_left += len(kept) - 1
        data.warnings.append(
            f"'{_short(first.text)}' is labelled {where} ({counts} rows); kept it under '{winner}' (majority)"
        )
    for intent, ids in remove.items():
        data.examples[intent] = [e for e in data.examples[intent] if id(e) not in ids]
        if not data.examples[intent]:
            del data.examples[intent]
    return dropped, variants_left


def _apply_responses(data: TrainingData, responses: Mapping[str, Sequence[str]] | None, path: str | None) -> None:
    if not responses:
        return
    for label, texts in responses.items():
        try:
            intent = safe_name(label)
        except ConversionError as exc:
            raise ConversionError(exc.message, path=path) from exc
        cleaned = [t for t in (clean_text(t) for t in texts) if t]
        if intent not in data.examples:
            data.warnings.append(f"the responses file answers intent '{label}', which the corpus does not have")
            continue
        if cleaned:
            data.responses[intent] = cleaned[0]
            if len(cleaned) > 1:
                data.variations[intent] = cleaned[1:]
