"""Reading a study YAML file: every mistake with its line and field. Pure (no Django, no database).

The format (docs/studies.md has a full example)::

    slug: lamp-refunds
    title: Which assistant helps customers best?
    blind: true                      # participants see "Assistant A/B"
    assignment: balanced             # balanced | choice
    bots:
      - {bot: demo, quota: 10}       # ids from the bot registry
      - {bot: faq, quota: 10}
    scenarios:
      - id: broken-lamp
        text: You ordered a lamp, order 10023, and it arrived broken. Get a refund.
        success: {action: action_refund}          # or {slot: order_id, value: "10023"}
    limits: {min_turns: 2, max_turns: 12, max_conversations: 2, idle_timeout_minutes: 30}
    consent: {version: "1", text: ..., checkboxes: [I am 18 or older]}
    instructions: ...
    quiz: {pass_mark: 1, questions: [{text: ..., options: [a, b], answer: b}]}
    annotation: {required: true, labels: [wrong answer, did not understand me, rude, all good]}
    questionnaire:
      - {id: helpful, type: likert, text: ..., scale: 5, labels: [Not at all, Very much]}
      - {id: solved, type: choice, text: ..., options: [Yes, No]}
      - {id: comments, type: text, text: ..., required: false}
    completion: {code: C0DE42, url: https://app.prolific.com/submissions/complete?cc=C0DE42}
    invite: a-secret-token           # optional: the invite link must carry ?invite=...
    acceptability: {min_mean_words: 2, pasted_min_chars: 30, max_words_per_second: 10}   # optional
    transforms: {user: [typos], bot: [sentences]}   # optional chains (studies/transforms.py)

Which bots exist is checked against the registry by ``studies.services.study_load``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .transforms import transform_problems

SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
QUESTION_TYPES = ("likert", "choice", "text")
TOP_KEYS = {
    "slug": True,
    "title": True,
    "blind": False,
    "assignment": False,
    "bots": True,
    "scenarios": False,
    "limits": False,
    "consent": True,
    "instructions": False,
    "quiz": False,
    "annotation": False,
    "questionnaire": False,
    "completion": True,
    "invite": False,
    "acceptability": False,
    "transforms": False,
    "kind": False,
    "pairwise": False,
}
KINDS = ("chat", "pairwise")
#: Parts of a chat study a pairwise study does not have (it shows finished conversations instead).
CHAT_ONLY = ("assignment", "scenarios", "annotation", "questionnaire", "transforms", "acceptability")
PAIRWISE_KEYS = {
    "sources": False,
    "questions": True,
    "quota": True,
    "pairs_per_rater": False,
    "check_pairs": False,
    "same_scenario": False,
    "reason": False,
}


class StudyFileError(ValueError):
    """Mistakes in a study file, each naming the file, the line and the field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class BotSpec:
    bot: str
    quota: int
    label: str
    line: int


@dataclass
class ScenarioSpec:
    key: str
    text: str
    success_action: str = ""
    success_slot: str = ""
    success_value: str = ""


@dataclass
class StudySpec:
    """A study as the file describes it, checked."""

    slug: str
    title: str
    blind: bool
    assignment: str
    bots: list[BotSpec]
    scenarios: list[ScenarioSpec]
    min_turns: int
    max_turns: int
    max_conversations: int
    idle_timeout_minutes: int
    consent_version: str
    consent_text: str
    consent_checkboxes: list[str]
    instructions: str
    quiz: list[dict[str, Any]]
    quiz_pass_mark: int
    annotation_labels: list[str]
    annotation_required: bool
    questionnaire: list[dict[str, Any]]
    completion_code: str
    completion_url: str
    invite_token: str
    kind: str = "chat"
    #: Pairwise studies: sources, questions, quota, pairs_per_rater, check_pairs, same_scenario, reason.
    pairwise: dict[str, Any] = field(default_factory=dict)
    #: Line of each source study named, for the database check's messages.
    source_lines: dict[str, int] = field(default_factory=dict)
    acceptability: dict[str, float] = field(default_factory=dict)
    transforms: dict[str, list[str]] = field(default_factory=dict)
    source_text: str = ""
    #: Line of each bot entry, for the registry check's messages.
    lines: dict[str, int] = field(default_factory=dict)


def _neutral(i: int) -> str:
    return "Assistant " + (chr(ord("A") + i) if i < 26 else str(i + 1))


class _Reader:
    """Walks the YAML nodes, turning them into values and collecting problems with their lines."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, node: yaml.Node | None, path: str, text: str) -> None:
        where = f"{self.source}, line {node.start_mark.line + 1}" if node is not None else self.source
        self.problems.append(f"{where}: field {path!r}: {text}")

    def mapping(
        self, node: yaml.Node, path: str, keys: dict[str, bool]
    ) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """A mapping's entries by key; unknown keys and missing required keys reported."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, path, f"expected a mapping with {', '.join(keys)}")
            return None
        found: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else None
            sub = f"{path}.{name}" if path else str(name)
            if name not in keys:
                self.problem(k, sub, f"unknown field (known: {', '.join(keys)})")
            elif name in found:
                self.problem(k, sub, "given twice")
            else:
                found[name] = (k, v)
        for name, needed in keys.items():
            if needed and name not in found:
                self.problem(node, f"{path}.{name}" if path else name, "missing (required)")
        return found

    def scalar(self, node: yaml.Node, path: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, path, "expected a single value, not a list or mapping")
            return None
        return _plain(node)

    def text(self, node: yaml.Node | None, path: str, default: str | None = None, empty: bool = False) -> str | None:
        if node is None:
            return default
        value = self.scalar(node, path)
        if value is None and isinstance(node, yaml.ScalarNode) and empty:
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            if value is not None or isinstance(node, yaml.ScalarNode):
                self.problem(node, path, f"expected text, not {value!r}")
            return None
        if not value.strip() and not empty:
            self.problem(node, path, "must not be empty")
            return None
        return value.strip()

    def integer(self, node: yaml.Node | None, path: str, default: int, minimum: int = 0) -> int | None:
        if node is None:
            return default
        value = self.scalar(node, path)
        if not isinstance(value, int) or isinstance(value, bool):
            if isinstance(node, yaml.ScalarNode):
                self.problem(node, path, f"expected a whole number, not {value!r}")
            return None
        if value < minimum:
            self.problem(node, path, f"must be at least {minimum}")
            return None
        return value

    def number(self, node: yaml.Node | None, path: str, minimum: float) -> float | None:
        if node is None:
            return None
        value = self.scalar(node, path)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            if isinstance(node, yaml.ScalarNode):
                self.problem(node, path, f"expected a number, not {value!r}")
            return None
        if value < minimum:
            self.problem(node, path, f"must be at least {minimum:g}")
            return None
        return value

    def boolean(self, node: yaml.Node | None, path: str, default: bool) -> bool | None:
        if node is None:
            return default
        value = self.scalar(node, path)
        if not isinstance(value, bool):
            if isinstance(node, yaml.ScalarNode):
                self.problem(node, path, f"expected true or false, not {value!r}")
            return None
        return value

    def sequence(self, node: yaml.Node | None, path: str) -> list[yaml.Node]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, path, "expected a list")
            return []
        return list(node.value)

    def texts(self, node: yaml.Node | None, path: str) -> list[str]:
        out = []
        for i, item in enumerate(self.sequence(node, path)):
            value = self.text(item, f"{path}[{i}]")
            if value is not None:
                out.append(value)
        return out


def _plain(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node)
    finally:
        loader.dispose()


def _v(entries: dict | None, name: str) -> yaml.Node | None:
    return entries[name][1] if entries and name in entries else None


def parse_study_file(text: str, *, source: str = "study.yml") -> StudySpec:
    """The study a YAML file describes.

    Raises:
        StudyFileError: Every mistake found, each with its file, line and field.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}" if mark else source
        raise StudyFileError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    finally:
        loader.dispose()
    if root is None:
        raise StudyFileError([f"{source}: the file is empty; expected a study (slug, title, bots, ...)"])
    r = _Reader(source)
    top = r.mapping(root, "", TOP_KEYS)
    if top is None:
        raise StudyFileError(r.problems)

    slug = r.text(_v(top, "slug"), "slug")
    if slug is not None and not SLUG.match(slug):
        r.problem(_v(top, "slug"), "slug", "lower-case letters, digits, - and _ only (e.g. lamp-refunds)")
    title = r.text(_v(top, "title"), "title")
    blind = r.boolean(_v(top, "blind"), "blind", True)
    study_kind = r.text(_v(top, "kind"), "kind", "chat")
    if study_kind not in (None, *KINDS):
        r.problem(_v(top, "kind"), "kind", f"must be chat or pairwise, not {study_kind!r}")
        study_kind = None
    pairwise_kind = study_kind == "pairwise"
    if pairwise_kind:
        for name in CHAT_ONLY:
            if _v(top, name) is not None:
                r.problem(top[name][0], name, "only chat studies have it (a pairwise study shows finished chats)")
    elif study_kind == "chat" and _v(top, "pairwise") is not None:
        r.problem(top["pairwise"][0], "pairwise", "only pairwise studies have it (add kind: pairwise)")
    assignment = r.text(_v(top, "assignment"), "assignment", "balanced")
    if assignment not in (None, "balanced", "choice"):
        r.problem(_v(top, "assignment"), "assignment", f"must be balanced or choice, not {assignment!r}")

    bots: list[BotSpec] = []
    bots_node = _v(top, "bots")
    items = r.sequence(bots_node, "bots")
    if bots_node is not None and isinstance(bots_node, yaml.SequenceNode) and not items:
        r.problem(bots_node, "bots", "name at least one bot")
    if pairwise_kind and len(items) == 1:
        r.problem(bots_node, "bots", "a pairwise study compares at least two bots")
    for i, item in enumerate(items):
        path = f"bots[{i}]"
        bot_keys = {"bot": True, "label": False} if pairwise_kind else {"bot": True, "quota": True, "label": False}
        entries = r.mapping(item, path, bot_keys)
        if entries is None:
            continue
        bot_id = r.text(_v(entries, "bot"), f"{path}.bot")
        quota = 0 if pairwise_kind else r.integer(_v(entries, "quota"), f"{path}.quota", 0, minimum=1)
        label = r.text(_v(entries, "label"), f"{path}.label", _neutral(i))
        if bot_id is not None and any(b.bot == bot_id for b in bots):
            r.problem(_v(entries, "bot"), f"{path}.bot", f"bot {bot_id!r} is listed twice")
        elif bot_id is not None and quota is not None and label is not None:
            bots.append(BotSpec(bot=bot_id, quota=quota, label=label, line=item.start_mark.line + 1))

    scenarios: list[ScenarioSpec] = []
    for i, item in enumerate(r.sequence(_v(top, "scenarios"), "scenarios")):
        path = f"scenarios[{i}]"
        entries = r.mapping(item, path, {"id": True, "text": True, "success": False})
        if entries is None:
            continue
        key = r.text(_v(entries, "id"), f"{path}.id")
        if key is not None and not SLUG.match(key):
            r.problem(_v(entries, "id"), f"{path}.id", "lower-case letters, digits, - and _ only")
            key = None
        if key is not None and any(s.key == key for s in scenarios):
            r.problem(_v(entries, "id"), f"{path}.id", f"scenario {key!r} is defined twice")
            key = None
        body = r.text(_v(entries, "text"), f"{path}.text")
        scenario = ScenarioSpec(key=key or "", text=body or "")
        success_node = _v(entries, "success")
        if success_node is not None:
            check = r.mapping(success_node, f"{path}.success", {"action": False, "slot": False, "value": False})
            if check is not None:
                scenario.success_action = r.text(_v(check, "action"), f"{path}.success.action", "") or ""
                scenario.success_slot = r.text(_v(check, "slot"), f"{path}.success.slot", "") or ""
                scenario.success_value = r.text(_v(check, "value"), f"{path}.success.value", "") or ""
                if not (scenario.success_action or scenario.success_slot):
                    r.problem(success_node, f"{path}.success", "name an action that must run or a slot to check")
                if scenario.success_value and not scenario.success_slot:
                    r.problem(_v(check, "value"), f"{path}.success.value", "a value needs the slot it is checked in")
        if key and body:
            scenarios.append(scenario)

    limits = r.mapping(
        _v(top, "limits") or yaml.MappingNode("tag:yaml.org,2002:map", []),
        "limits",
        {"min_turns": False, "max_turns": False, "max_conversations": False, "idle_timeout_minutes": False},
    )
    min_turns = r.integer(_v(limits, "min_turns"), "limits.min_turns", 1, minimum=1)
    max_turns = r.integer(_v(limits, "max_turns"), "limits.max_turns", 20, minimum=1)
    if min_turns is not None and max_turns is not None and max_turns < min_turns:
        r.problem(_v(limits, "max_turns"), "limits.max_turns", f"is less than limits.min_turns ({min_turns})")
    max_conversations = r.integer(_v(limits, "max_conversations"), "limits.max_conversations", 1, minimum=1)
    idle = r.integer(_v(limits, "idle_timeout_minutes"), "limits.idle_timeout_minutes", 30, minimum=1)

    consent = (
        r.mapping(_v(top, "consent"), "consent", {"version": True, "text": True, "checkboxes": False})
        if (_v(top, "consent") is not None)
        else None
    )
    consent_version = r.text(_v(consent, "version"), "consent.version") if consent else None
    consent_text = r.text(_v(consent, "text"), "consent.text") if consent else None
    consent_checkboxes = r.texts(_v(consent, "checkboxes"), "consent.checkboxes") if consent else []

    instructions = r.text(_v(top, "instructions"), "instructions", "")

    quiz: list[dict[str, Any]] = []
    pass_mark = 0
    quiz_node = _v(top, "quiz")
    if quiz_node is not None:
        q = r.mapping(quiz_node, "quiz", {"pass_mark": True, "questions": True})
        if q is not None:
            for i, item in enumerate(r.sequence(_v(q, "questions"), "quiz.questions")):
                path = f"quiz.questions[{i}]"
                entries = r.mapping(item, path, {"text": True, "options": True, "answer": True})
                if entries is None:
                    continue
                qtext = r.text(_v(entries, "text"), f"{path}.text")
                options = r.texts(_v(entries, "options"), f"{path}.options")
                if _v(entries, "options") is not None and len(options) < 2:
                    r.problem(_v(entries, "options"), f"{path}.options", "give at least two options")
                answer = r.text(_v(entries, "answer"), f"{path}.answer")
                if answer is not None and options and answer not in options:
                    r.problem(_v(entries, "answer"), f"{path}.answer", f"{answer!r} is not one of the options")
                elif qtext and answer and len(options) >= 2:
                    quiz.append({"text": qtext, "options": options, "answer": answer})
            mark = r.integer(_v(q, "pass_mark"), "quiz.pass_mark", 0, minimum=1)
            count = len(r.sequence(_v(q, "questions"), "quiz.questions")) if _v(q, "questions") else 0
            if mark is not None and mark > count:
                r.problem(_v(q, "pass_mark"), "quiz.pass_mark", f"is more than the {count} question(s)")
            pass_mark = mark or 0

    labels: list[str] = []
    required = False
    ann = _v(top, "annotation")
    if ann is not None:
        a = r.mapping(ann, "annotation", {"labels": True, "required": False})
        if a is not None:
            labels = r.texts(_v(a, "labels"), "annotation.labels")
            if _v(a, "labels") is not None and not labels:
                r.problem(_v(a, "labels"), "annotation.labels", "give at least one label")
            if len(set(labels)) != len(labels):
                r.problem(_v(a, "labels"), "annotation.labels", "a label is listed twice")
            required = bool(r.boolean(_v(a, "required"), "annotation.required", False))

    questionnaire: list[dict[str, Any]] = []
    for i, item in enumerate(r.sequence(_v(top, "questionnaire"), "questionnaire")):
        path = f"questionnaire[{i}]"
        keys = {"id": True, "type": True, "text": True, "required": False, "scale": False, "labels": False}
        keys["options"] = False
        entries = r.mapping(item, path, keys)
        if entries is None:
            continue
        qid = r.text(_v(entries, "id"), f"{path}.id")
        if qid is not None and not SLUG.match(qid):
            r.problem(_v(entries, "id"), f"{path}.id", "lower-case letters, digits, - and _ only")
            qid = None
        if qid is not None and any(x["id"] == qid for x in questionnaire):
            r.problem(_v(entries, "id"), f"{path}.id", f"question {qid!r} is defined twice")
            qid = None
        kind = r.text(_v(entries, "type"), f"{path}.type")
        if kind is not None and kind not in QUESTION_TYPES:
            r.problem(_v(entries, "type"), f"{path}.type", f"must be one of {', '.join(QUESTION_TYPES)}, not {kind!r}")
            kind = None
        qtext = r.text(_v(entries, "text"), f"{path}.text")
        question: dict[str, Any] = {"id": qid, "type": kind, "text": qtext}
        question["required"] = r.boolean(_v(entries, "required"), f"{path}.required", True)
        if kind == "likert":
            question["scale"] = r.integer(_v(entries, "scale"), f"{path}.scale", 5, minimum=2)
            if question["scale"] is not None and question["scale"] > 11:
                r.problem(_v(entries, "scale"), f"{path}.scale", "at most 11 points")
            ends = r.texts(_v(entries, "labels"), f"{path}.labels")
            if len(ends) != 2:
                r.problem(_v(entries, "labels") or item, f"{path}.labels", "a Likert scale needs its two end labels")
            question["labels"] = ends
        elif kind == "choice":
            question["options"] = r.texts(_v(entries, "options"), f"{path}.options")
            if len(question["options"]) < 2:
                r.problem(_v(entries, "options") or item, f"{path}.options", "give at least two options")
        for extra, allowed in (("scale", "likert"), ("labels", "likert"), ("options", "choice")):
            if extra in entries and kind is not None and kind != allowed:
                r.problem(entries[extra][0], f"{path}.{extra}", f"only {allowed} questions have {extra}")
        if None not in question.values():
            questionnaire.append(question)

    completion = (
        r.mapping(_v(top, "completion"), "completion", {"code": True, "url": False})
        if (_v(top, "completion") is not None)
        else None
    )
    code = r.text(_v(completion, "code"), "completion.code") if completion else None
    url = r.text(_v(completion, "url"), "completion.url", "") if completion else ""
    if url and not re.match(r"^https?://[^\s/]+", url):
        r.problem(_v(completion, "url"), "completion.url", "expected an http:// or https:// URL")
    invite = r.text(_v(top, "invite"), "invite", "")
    rules: dict[str, float] = {}
    if _v(top, "acceptability") is not None:
        keys = {"min_mean_words": False, "pasted_min_chars": False, "max_words_per_second": False}
        a = r.mapping(_v(top, "acceptability"), "acceptability", keys)
        for name, minimum in (("min_mean_words", 0), ("pasted_min_chars", 1), ("max_words_per_second", 0.1)):
            value = r.number(_v(a, name), f"acceptability.{name}", minimum) if a else None
            if value is not None:
                rules[name] = int(value) if name == "pasted_min_chars" else value

    chains: dict[str, list[str]] = {}
    if _v(top, "transforms") is not None:
        t = r.mapping(_v(top, "transforms"), "transforms", {"user": False, "bot": False})
        for side in ("user", "bot"):
            node = _v(t, side)
            names = r.texts(node, f"transforms.{side}") if node is not None else []
            for i, problem in transform_problems(side, names):
                r.problem(
                    node.value[i] if isinstance(node, yaml.SequenceNode) else node, f"transforms.{side}[{i}]", problem
                )
            if names:
                chains[side] = names

    pairwise: dict[str, Any] = {}
    source_lines: dict[str, int] = {}
    if pairwise_kind:
        pairwise, source_lines = _pairwise_section(r, top)

    if r.problems:
        raise StudyFileError(r.problems)
    return StudySpec(
        slug=slug or "",
        title=title or "",
        blind=bool(blind),
        assignment=assignment or "balanced",
        bots=bots,
        scenarios=scenarios,
        min_turns=min_turns or 1,
        max_turns=max_turns or 1,
        max_conversations=max_conversations or 1,
        idle_timeout_minutes=idle or 30,
        consent_version=consent_version or "",
        consent_text=consent_text or "",
        consent_checkboxes=consent_checkboxes,
        instructions=instructions or "",
        quiz=quiz,
        quiz_pass_mark=pass_mark,
        annotation_labels=labels,
        annotation_required=required,
        questionnaire=questionnaire,
        completion_code=code or "",
        completion_url=url or "",
        invite_token=invite or "",
        kind=study_kind or "chat",
        pairwise=pairwise,
        source_lines=source_lines,
        acceptability=rules,
        transforms=chains,
        source_text=text,
        lines={b.bot: b.line for b in bots},
    )


def _pairwise_section(r: _Reader, top: dict) -> tuple[dict[str, Any], dict[str, int]]:
    """The ``pairwise`` section of a pairwise study, checked; and the line of each source study."""
    node = _v(top, "pairwise")
    if node is None:
        r.problem(_v(top, "kind"), "pairwise", "missing (a pairwise study needs it: questions and quota)")
        return {}, {}
    entries = r.mapping(node, "pairwise", PAIRWISE_KEYS)
    if entries is None:
        return {}, {}
    sources: list[str] = []
    lines: dict[str, int] = {}
    for i, item in enumerate(r.sequence(_v(entries, "sources"), "pairwise.sources")):
        slug = r.text(item, f"pairwise.sources[{i}]")
        if slug is None:
            continue
        if not SLUG.match(slug):
            r.problem(item, f"pairwise.sources[{i}]", "a chat study's slug: lower-case letters, digits, - and _ only")
        elif slug in sources:
            r.problem(item, f"pairwise.sources[{i}]", f"study {slug!r} is listed twice")
        else:
            sources.append(slug)
            lines[slug] = item.start_mark.line + 1
    questions: list[dict[str, str]] = []
    questions_node = _v(entries, "questions")
    items = r.sequence(questions_node, "pairwise.questions")
    if isinstance(questions_node, yaml.SequenceNode) and not items:
        r.problem(questions_node, "pairwise.questions", "ask at least one question")
    for i, item in enumerate(items):
        path = f"pairwise.questions[{i}]"
        q = r.mapping(item, path, {"id": True, "text": True})
        if q is None:
            continue
        qid, qtext = r.text(_v(q, "id"), f"{path}.id"), r.text(_v(q, "text"), f"{path}.text")
        if qid is not None and not SLUG.match(qid):
            r.problem(_v(q, "id"), f"{path}.id", "lower-case letters, digits, - and _ only")
        elif qid is not None and any(x["id"] == qid for x in questions):
            r.problem(_v(q, "id"), f"{path}.id", f"question {qid!r} is defined twice")
        elif qid is not None and qtext is not None:
            questions.append({"id": qid, "text": qtext})
    quota = r.integer(_v(entries, "quota"), "pairwise.quota", 0, minimum=1)
    per_rater = r.integer(_v(entries, "pairs_per_rater"), "pairwise.pairs_per_rater", 10, minimum=1)
    checks = r.integer(_v(entries, "check_pairs"), "pairwise.check_pairs", 0, minimum=0)
    if checks is not None and per_rater is not None and checks > per_rater:
        r.problem(_v(entries, "check_pairs"), "pairwise.check_pairs", f"is more than pairs_per_rater ({per_rater})")
    same_scenario = r.boolean(_v(entries, "same_scenario"), "pairwise.same_scenario", False)
    reason = r.boolean(_v(entries, "reason"), "pairwise.reason", True)
    section = {
        "sources": sources,
        "questions": questions,
        "quota": quota,
        "pairs_per_rater": per_rater,
        "check_pairs": checks,
        "same_scenario": same_scenario,
        "reason": reason,
    }
    return section, lines


def study_as_file(values: dict[str, Any]) -> dict[str, Any]:
    """The study file a study's stored fields stand for (the admin's edits are checked by reading it back).

    ``values`` holds the model's field names (``min_turns``, ``consent_text``, ``quiz`` ...) and ``bots``
    (``[{bot, quota, label}]``) and ``scenarios`` in the file's form.
    """
    quiz = {"pass_mark": values["quiz_pass_mark"], "questions": values["quiz"]} if values.get("quiz") else None
    annotation = (
        {"labels": values["annotation_labels"], "required": values["annotation_required"]}
        if values.get("annotation_labels")
        else None
    )
    data: dict[str, Any] = {
        "slug": values["slug"],
        "title": values["title"],
        "blind": values["blind"],
        "assignment": values["assignment"],
        "bots": values["bots"],
        "scenarios": values["scenarios"],
        "limits": {
            name: values[name] for name in ("min_turns", "max_turns", "max_conversations", "idle_timeout_minutes")
        },
        "consent": {
            "version": values["consent_version"],
            "text": values["consent_text"],
            "checkboxes": values["consent_checkboxes"],
        },
        "instructions": values.get("instructions") or None,
        "quiz": quiz,
        "annotation": annotation,
        "questionnaire": values.get("questionnaire") or None,
        "completion": {"code": values["completion_code"], "url": values.get("completion_url") or None},
        "invite": values.get("invite_token") or None,
        "acceptability": values.get("acceptability") or None,
        "transforms": values.get("transforms") or None,
    }
    if values.get("kind") == "pairwise":
        data["kind"] = "pairwise"
        data["pairwise"] = values.get("pairwise") or None
        for name in ("assignment", "scenarios", "annotation", "questionnaire", "transforms", "acceptability"):
            data.pop(name, None)
    for section in ("consent", "completion"):
        data[section] = {k: v for k, v in data[section].items() if v is not None}
    return {k: v for k, v in data.items() if v is not None}


def check_study_values(values: dict[str, Any]) -> list[str]:
    """The mistakes in a study's stored fields, each naming its field as the study file would (empty: none)."""
    text = yaml.safe_dump(study_as_file(values), sort_keys=False, allow_unicode=True)
    try:
        parse_study_file(text, source="study")
    except StudyFileError as exc:
        return [p.split(": ", 1)[1] if ": " in p else p for p in exc.problems]
    return []
