"""Answer from past conversations: the reply given to the most similar past client message.

A pure library: pairs in, an index out, lookups on it. The index is TF-IDF over character n-grams (2 to 4, inside
word boundaries, hashed into 2**20 features so nothing but document frequencies is learned), rows normalised so a
dot product is the cosine similarity. Replies are redacted (:mod:`process_data.redact`) before they are stored, and
so are client messages; configured conversations are never indexed.

The index file (``retrieval-<digest>.npz``, NumPy arrays, no pickle) is named after a digest of the pairs and the
settings that shape it, so :func:`ensure_index` rebuilds it only when they change. Writes are atomic.

Typical use::

    config = load_config("rasa_bot/retrieval.yml")
    path = ensure_index(read_pairs_csv("rasa_bot/telegram_pairs.csv"), ".cache/models", config)
    index = ReplyIndex.load(path)
    hit = index.answer("do you ship to Norway?")  # a Hit above config.threshold, or None
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .errors import ConversionError
from .redact import Redactor

#: Bumped whenever the index's content or file layout changes: old files are then rebuilt.
FORMAT_VERSION = 1
N_FEATURES = 2**20


@dataclass(frozen=True)
class PastPair:
    """A client message, the reply the team gave, and the conversation it came from."""

    client: str
    reply: str
    conversation: str = ""


@dataclass(frozen=True)
class RetrievalConfig:
    """What shapes the index and its answers.

    Attributes:
        threshold: The least cosine similarity (0 to 1) at which a past reply is used.
        team_names: Team members' names, removed from replies (and client messages).
        exclude_conversations: Conversations never indexed, as the pairs name them (the ``chat`` column of
            ``telegram_pairs.csv``: a chat's name, or ``chat <id>`` for one without a name), case ignored.
        ngram_min: Shortest character n-gram.
        ngram_max: Longest character n-gram.
    """

    threshold: float = 0.5
    team_names: tuple[str, ...] = ()
    exclude_conversations: tuple[str, ...] = ()
    ngram_min: int = 2
    ngram_max: int = 4

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {self.threshold}")
        if not 1 <= self.ngram_min <= self.ngram_max <= 8:
            raise ValueError(f"n-gram range must satisfy 1 <= min <= max <= 8, not {self.ngram_min}..{self.ngram_max}")

    def shape(self) -> dict[str, Any]:
        """The settings that change the index's content (not the threshold, applied at lookup)."""
        data = asdict(self)
        data.pop("threshold")
        data["team_names"] = sorted(data["team_names"])
        data["exclude_conversations"] = sorted(c.casefold() for c in data["exclude_conversations"])
        return data


@dataclass(frozen=True)
class Hit:
    """One past pair found for a message, with its cosine similarity."""

    score: float
    client: str
    reply: str
    conversation: str
    row: int


def _vectorizer(config: RetrievalConfig):  # noqa: ANN202 - sklearn is imported lazily
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(config.ngram_min, config.ngram_max),
        n_features=N_FEATURES,
        alternate_sign=False,
        norm=None,
        lowercase=True,
        dtype=np.float32,
    )


def _normalise(texts: Iterable[str]) -> list[str]:
    return [" ".join(t.split()) for t in texts]


def _weigh(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear TF times IDF, each row scaled to unit length."""
    x = counts.tocsr().astype(np.float32)
    x.data = 1.0 + np.log(x.data)
    x.data *= idf[x.indices]
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    x = sp.diags(1.0 / norms).astype(np.float32) @ x
    return sp.csr_matrix(x)


def pairs_digest(pairs: Sequence[PastPair], config: RetrievalConfig) -> str:
    """A content hash of the pairs and the settings that shape the index (20 hex digits)."""
    digest = hashlib.sha256(json.dumps({"v": FORMAT_VERSION, **config.shape()}, sort_keys=True).encode())
    for p in pairs:
        digest.update(p.client.encode() + b"\0" + p.reply.encode() + b"\0" + p.conversation.encode() + b"\1")
    return digest.hexdigest()[:20]


@dataclass
class ReplyIndex:
    """Past client messages, vectorised, and the (redacted) replies given to them."""

    clients: list[str]
    replies: list[str]
    conversations: list[str]
    idf: np.ndarray
    matrix: sp.csr_matrix
    config: RetrievalConfig
    digest: str = ""
    excluded: int = 0
    _by_feature: sp.csr_matrix | None = field(default=None, repr=False)
    _vec: Any = field(default=None, repr=False)

    # -- building ------------------------------------------------------------------------------------------------
    @classmethod
    def build(cls, pairs: Sequence[PastPair], config: RetrievalConfig = RetrievalConfig()) -> ReplyIndex:
        """Index the pairs: excluded conversations left out, texts redacted, empty ones dropped.

        Raises:
            ValueError: No pair is left to index.
        """
        excluded = {c.casefold() for c in config.exclude_conversations}
        redactor = Redactor(tuple(config.team_names))
        clients: list[str] = []
        replies: list[str] = []
        conversations: list[str] = []
        left_out = 0
        cache: dict[str, str] = {}  # replies repeat a lot: redact each distinct one once
        for p in pairs:
            if p.conversation.casefold() in excluded:
                left_out += 1
                continue
            client = " ".join(p.client.split())
            reply = p.reply.strip()
            if not client or not reply:
                continue
            if reply not in cache:
                cache[reply] = redactor.redact(reply)
            clients.append(redactor.redact(client))
            replies.append(cache[reply])
            conversations.append(p.conversation)
        if not clients:
            raise ValueError("no pairs to index (all empty or excluded)")
        vec = _vectorizer(config)
        counts = vec.transform(clients)
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=N_FEATURES).astype(np.float32)
        idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        index = cls(clients, replies, conversations, idf, _weigh(counts, idf), config, excluded=left_out)
        index.digest = pairs_digest(pairs, config)
        index._vec = vec
        return index

    # -- lookups -------------------------------------------------------------------------------------------------
    def _scores(self, texts: Sequence[str]) -> np.ndarray:
        if self._vec is None:
            self._vec = _vectorizer(self.config)
        if self._by_feature is None:
            self._by_feature = sp.csr_matrix(self.matrix.T)
        return self._dot(_weigh(self._vec.transform(_normalise(texts)), self.idf))

    def _dot(self, queries: sp.csr_matrix) -> np.ndarray:
        """Cosine of each query with every row: an inverted-index sum over the query's features."""
        out = np.zeros((queries.shape[0], self.matrix.shape[0]), dtype=np.float32)
        by_feature = self._by_feature
        assert by_feature is not None
        for i in range(queries.shape[0]):
            start, end = queries.indptr[i], queries.indptr[i + 1]
            if start == end:
                continue
            rows = by_feature[queries.indices[start:end]]
            out[i] = rows.T @ queries.data[start:end]
        return out

    def search(self, text: str, k: int = 5) -> list[Hit]:
        """The ``k`` most similar past client messages (best first), their replies distinct."""
        return self.search_many([text], k)[0]

    def search_many(self, texts: Sequence[str], k: int = 5) -> list[list[Hit]]:
        """:meth:`search` for several texts at once."""
        results: list[list[Hit]] = []
        for start in range(0, len(texts), 256):
            scores = self._scores(texts[start : start + 256])
            for row in scores:
                results.append(self._top(row, k))
        return results

    def _top(self, row: np.ndarray, k: int) -> list[Hit]:
        n = row.shape[0]
        want = min(n, max(k * 8, 32))
        best = np.argpartition(-row, want - 1)[:want] if want < n else np.arange(n)
        best = best[np.lexsort((best, -row[best]))]  # by score, then by row: deterministic on ties
        hits: list[Hit] = []
        seen: set[str] = set()
        for r in best:
            score = float(row[r])
            if score <= 0.0:
                break
            reply = self.replies[r]
            if reply in seen:
                continue
            seen.add(reply)
            hits.append(Hit(min(score, 1.0), self.clients[r], reply, self.conversations[r], int(r)))
            if len(hits) == k:
                break
        return hits

    def answer(self, text: str, threshold: float | None = None) -> Hit | None:
        """The best past reply when its similarity reaches the threshold (the config's by default), else None."""
        hits = self.search(text, 1)
        limit = self.config.threshold if threshold is None else threshold
        return hits[0] if hits and hits[0].score >= limit else None

    # -- files ---------------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the index to ``path`` (``.npz``) atomically: a temporary file beside it, then a rename."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        seen = np.flatnonzero(np.bincount(self.matrix.indices, minlength=N_FEATURES))
        texts = json.dumps(
            {"clients": self.clients, "replies": self.replies, "conversations": self.conversations},
            ensure_ascii=False,
        ).encode("utf-8")
        meta = json.dumps(
            {
                "format": FORMAT_VERSION,
                "digest": self.digest,
                "excluded": self.excluded,
                "config": asdict(self.config),
                "default_idf": float(self.idf.max()),
            }
        ).encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez_compressed(
                    handle,
                    data=self.matrix.data,
                    indices=self.matrix.indices,
                    indptr=self.matrix.indptr,
                    shape=np.array(self.matrix.shape, dtype=np.int64),
                    idf_features=seen.astype(np.int64),
                    idf_values=self.idf[seen],
                    texts=np.frombuffer(texts, dtype=np.uint8),
                    meta=np.frombuffer(meta, dtype=np.uint8),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path) -> ReplyIndex:
        """Read an index written by :meth:`save`.

        Raises:
            ValueError: The file is not an index of this format.
        """
        try:
            with np.load(Path(path), allow_pickle=False) as npz:
                meta = json.loads(npz["meta"].tobytes().decode("utf-8"))
                version = meta.get("format") if isinstance(meta, dict) else None
                if version == FORMAT_VERSION:
                    texts = json.loads(npz["texts"].tobytes().decode("utf-8"))
                    matrix = sp.csr_matrix(
                        (npz["data"], npz["indices"], npz["indptr"]), shape=tuple(int(v) for v in npz["shape"])
                    )
                    idf = np.full(N_FEATURES, meta["default_idf"], dtype=np.float32)
                    idf[npz["idf_features"]] = npz["idf_values"]
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # JSON and Unicode errors too
            raise ValueError(f"{path}: not a reply index ({exc})") from exc
        if version != FORMAT_VERSION:
            raise ValueError(f"{path}: index format {version}, expected {FORMAT_VERSION}: rebuild it")
        config = meta["config"]
        config = RetrievalConfig(
            **{
                **config,
                "team_names": tuple(config["team_names"]),
                "exclude_conversations": tuple(config["exclude_conversations"]),
            }
        )
        return cls(
            texts["clients"],
            texts["replies"],
            texts["conversations"],
            idf,
            matrix,
            config,
            digest=meta["digest"],
            excluded=meta["excluded"],
        )

    def __len__(self) -> int:
        return len(self.clients)


# -- pairs and settings from files ---------------------------------------------------------------------------------
def read_pairs_csv(
    path: str | Path, *, client: str = "client", reply: str = "server", conversation: str | None = "chat"
) -> list[PastPair]:
    """Pairs from a CSV: ``telegram_pairs.csv`` as written by ``process_data telegram`` by default.

    A corpus CSV with a response column works too: ``client="utterance", reply="response", conversation=None``.

    Raises:
        ConversionError: The file cannot be read or lacks a column (the error names the file and the columns).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConversionError(f"cannot read the pairs: {exc}", path) from exc
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in (client, reply, conversation) if c and c not in header]
    if missing:
        raise ConversionError(f"no column {', '.join(missing)} in the pairs; columns: {', '.join(header)}", path)
    return [
        PastPair(row[client] or "", row[reply] or "", (row.get(conversation) or "") if conversation else "")
        for row in reader
    ]


def _read_settings(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConversionError(f"cannot read the retrieval settings: {exc}", path) from exc
    if not isinstance(data, dict):
        raise ConversionError("the retrieval settings must be a mapping", path)
    return data


def _config_from(data: dict[str, Any], path: Path) -> RetrievalConfig:
    data = {k: v for k, v in data.items() if k != "pairs"}  # where the pairs are: read by the caller
    known = {"threshold", "team_names", "exclude_conversations", "ngram_min", "ngram_max"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConversionError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}", path)
    try:
        return RetrievalConfig(
            **{
                **data,
                "team_names": tuple(str(n) for n in data.get("team_names") or ()),
                "exclude_conversations": tuple(str(c) for c in data.get("exclude_conversations") or ()),
            }
        )
    except (TypeError, ValueError) as exc:
        raise ConversionError(str(exc), path) from exc


def load_config(path: str | Path) -> RetrievalConfig:
    """Settings from a YAML file (``threshold``, ``team_names``, ``exclude_conversations``, ``ngram_min/max``).

    Raises:
        ConversionError: Not YAML, or an unknown key, or a value out of range.
    """
    path = Path(path)
    return _config_from(_read_settings(path), path)


def index_path(pairs: Sequence[PastPair], out_dir: str | Path, config: RetrievalConfig) -> Path:
    """Where the index of these pairs and settings lives in ``out_dir``."""
    return Path(out_dir) / f"retrieval-{pairs_digest(pairs, config)}.npz"


def ensure_index(pairs: Sequence[PastPair], out_dir: str | Path, config: RetrievalConfig) -> tuple[Path, bool]:
    """The index file of these pairs, built only when no file of the same digest exists.

    Returns:
        The file's path, and whether it was built now.
    """
    path = index_path(pairs, out_dir, config)
    if path.is_file():
        return path, False
    ReplyIndex.build(pairs, config).save(path)
    return path, True


@dataclass
class BotIndex:
    """What ``index_for_bot`` did: the index file (None: no pairs, past answers off), built or found, pairs in it."""

    path: Path | None
    built: bool = False
    pairs: int = 0


def index_for_bot(
    settings: str | Path, out_dir: str | Path, *, pairs_file: str | Path | None = None, current: str | None = None
) -> BotIndex:
    """The reply index a bot's settings file describes, built into ``out_dir`` only when its pairs changed.

    Args:
        settings: The bot's ``retrieval.yml``; its ``pairs:`` names the pairs CSV relative to the settings' folder
            (``telegram_pairs.csv`` by default). No settings file, or no pairs file: no index (``path`` None).
        out_dir: Where index files go (``retrieval-<digest>.npz``, beside the models).
        pairs_file: Another pairs CSV instead of the one the settings name (must exist).
        current: Also keep a copy under this fixed name in ``out_dir`` (replaced atomically), for a server that
            is told one path once (``RETRIEVAL_INDEX``, the action container); removed when there are no pairs.

    Raises:
        ConversionError: The settings or the pairs cannot be read, or ``pairs_file`` does not exist.
    """
    import shutil

    settings, out_dir = Path(settings), Path(out_dir)
    stable = out_dir / current if current else None
    found: Path | None = None
    if pairs_file is not None:
        found = Path(pairs_file)
        if not found.is_file():
            raise ConversionError("no such pairs file", found)
    if settings.is_file():
        data = _read_settings(settings)
        config = _config_from(data, settings)
        if found is None:
            candidate = settings.parent / str(data.get("pairs") or "telegram_pairs.csv")
            found = candidate if candidate.is_file() else None
    else:
        config = RetrievalConfig()
        if pairs_file is None:
            found = None
    if found is None:
        if stable is not None and stable.exists():
            stable.unlink()  # a stale copy would keep answering from pairs that are gone
        return BotIndex(path=None)
    pairs = read_pairs_csv(found)
    try:
        path, built = ensure_index(pairs, out_dir, config)
    except ValueError as exc:
        raise ConversionError(str(exc), found) from exc
    if stable is not None:
        fd, tmp = tempfile.mkstemp(prefix=stable.name + ".", suffix=".tmp", dir=out_dir)
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, stable)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        path = stable
    return BotIndex(path=path, built=built, pairs=len(pairs))
