"""Message transforms: named steps a study chains onto participants' and/or bots' messages (as boteval has).

The names and the sides each may be used on are registered here; the study file's ``transforms:`` is checked
against them. The steps run in the participant's browser (``static/studies/study.js``, the same names), so the
bot gets the transformed message and the participant sees the transformed reply; both texts are recorded
(``Message.text`` after the chain, ``Message.before_transforms`` before it, when they differ).
"""

from __future__ import annotations

from dataclasses import dataclass

USER, BOT = "user", "bot"


@dataclass(frozen=True)
class Transform:
    name: str
    sides: frozenset[str]
    description: str


#: The registry: name -> transform. A new one needs its step in study.js (``TRANSFORMS``) under the same name.
TRANSFORMS: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform("lowercase", frozenset({USER, BOT}), "lower-cases the message"),
        Transform("sentences", frozenset({BOT}), "shows a reply as one message per sentence"),
        Transform(
            "typos",
            frozenset({USER}),
            "swaps two inner letters in about one word in six (repeatably: the same text, the same typos)",
        ),
    )
}


def transform_problems(side: str, names: list[str]) -> list[tuple[int, str]]:
    """``(position, problem)`` for each name that is not registered or not usable on ``side``."""
    problems = []
    for i, name in enumerate(names):
        found = TRANSFORMS.get(name)
        if found is None:
            problems.append((i, f"no transform {name!r} (registered: {', '.join(sorted(TRANSFORMS))})"))
        elif side not in found.sides:
            problems.append((i, f"{name!r} applies to {' and '.join(sorted(found.sides))} messages only"))
    return problems
