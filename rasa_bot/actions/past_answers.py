"""Answers from past conversations, for the action server: the reply index, loaded when first needed.

The index file (``process_data.retrieval``, built by the launcher beside the model) is named by the environment
variable ``RETRIEVAL_INDEX``; unset, or unreadable, there are no past answers and the fallback stays as it was.
``RETRIEVAL_THRESHOLD`` overrides the threshold the index was built with. The file is read again when it changes
(a retrained bot), never at import.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from process_data.retrieval import Hit, ReplyIndex

logger = logging.getLogger(__name__)

#: Path of the reply index (``retrieval-<digest>.npz``).
RETRIEVAL_INDEX_ENV = "RETRIEVAL_INDEX"
#: Optional: the least similarity (0 to 1) at which a past reply is used; the index's own setting otherwise.
RETRIEVAL_THRESHOLD_ENV = "RETRIEVAL_THRESHOLD"


@functools.lru_cache(maxsize=2)
def load_index(path: str, mtime_ns: int) -> ReplyIndex | None:
    """The index at ``path`` as of ``mtime_ns`` (the cache key), or None when it cannot be read (logged once)."""
    try:
        from process_data.retrieval import ReplyIndex
    except ImportError as exc:  # an action image built without scikit-learn
        logger.warning("past answers are off: %s", exc)
        return None
    try:
        index = ReplyIndex.load(path)
    except ValueError as exc:
        logger.warning("past answers are off: %s", exc)
        return None
    logger.info("past answers: %d pairs from %s", len(index), path)
    return index


def threshold() -> float | None:
    """``RETRIEVAL_THRESHOLD`` as a number, or None (unset or not a number between 0 and 1: logged)."""
    raw = os.environ.get(RETRIEVAL_THRESHOLD_ENV, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        logger.warning("%s=%r is not a number between 0 and 1: ignored", RETRIEVAL_THRESHOLD_ENV, raw)
        return None
    return value


def past_answer(text: str) -> Hit | None:
    """The reply given to the most similar past client message, when similar enough; None otherwise."""
    path = os.environ.get(RETRIEVAL_INDEX_ENV, "").strip()
    if not path or not text.strip():
        return None
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        logger.warning("past answers are off: %s=%s does not exist", RETRIEVAL_INDEX_ENV, path)
        return None
    index = load_index(path, mtime)
    return index.answer(text, threshold()) if index is not None else None
