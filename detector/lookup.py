"""Text lookup: is this message being relayed? Band keys for an index of posts, and verification.

A post's MinHash signature (:mod:`detector.fingerprint`) is cut into ``bands`` bands of
``num_perm // bands`` values; each band becomes one signed 64-bit key mixing the band number and
its values. Two texts with estimated Jaccard ``s`` share at least one key with probability
``1 - (1 - s**rows)**bands`` (16 x 8: 95% at 0.8, 99.99% at 0.9). A normalized text is named by
a 64-bit hash (its text key): the store keeps one row per (text key, post) and one per (band
key, text key), so a text reposted a thousand times is banded once; a query text's band keys
give candidate texts, each verified once by its own signature.
Pure: the caller reads and writes the database (:mod:`detector.store.lookup`).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from detector.errors import LookupTextTooShort
from detector.fingerprint import FingerprintParams, Signatures, fmix64, signatures
from detector.normalize import URL_TOKEN, normalize_text
from detector.records import PostText

# Stored with the index: bump it when band keys are computed differently, so that an index built
# by older code is rebuilt instead of silently answering nothing. 2: band rows per text key.
KEY_VERSION = 2
_INDEX_SETTINGS = ("fingerprint", "bands", "key_version")
MAX_CANDIDATES = 30_000         # a lookup binds every candidate's id; SQLite takes 32,766 values
_NOT_CONTENT = frozenset((URL_TOKEN, "@"))
_M64 = np.uint64(0x9E3779B97F4A7C15)
_BAND_SALT = np.uint64(0x6A09E667F3BCC909)

Keys = npt.NDArray[np.int64]
Similarities = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LookupParams:
    """Settings of the lookup index and of its queries; the fingerprint is detection's."""

    fingerprint: FingerprintParams = field(default_factory=FingerprintParams)
    bands: int = 16
    threshold: float = 0.8          # estimated Jaccard a candidate needs to be a match
    max_candidates: int = 5000      # candidates verified per query, first by post id

    def __post_init__(self) -> None:
        if not 1 <= self.bands <= self.fingerprint.num_perm:
            raise ValueError(f"bands must be between 1 and num_perm ({self.fingerprint.num_perm}), "
                             f"got {self.bands!r}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold is a Jaccard similarity in (0, 1], e.g. 0.8; got {self.threshold!r}")
        if not 1 <= self.max_candidates <= MAX_CANDIDATES:
            raise ValueError(f"max_candidates must be between 1 and {MAX_CANDIDATES} (5000 is usual), "
                             f"got {self.max_candidates!r}")

    @property
    def rows(self) -> int:
        """Signature values per band."""
        return self.fingerprint.num_perm // self.bands

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "key_version": KEY_VERSION}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LookupParams:
        """The params ``to_json`` gave (``key_version`` is a property of the code, not read)."""
        return cls(fingerprint=FingerprintParams(**data["fingerprint"]), bands=data["bands"],
                   threshold=data["threshold"], max_candidates=data["max_candidates"])


DEFAULT_PARAMS = LookupParams()


def same_index(stored: Mapping[str, Any], params: LookupParams) -> bool:
    """Whether an index built with the ``stored`` JSON params answers queries made with ``params``.

    Only the fingerprint, the banding and the key version matter; threshold and candidate cap
    are per query.
    """
    current = params.to_json()
    return all(stored.get(name) == current[name] for name in _INDEX_SETTINGS)


def has_content(normal: str, params: LookupParams) -> bool:
    """Whether a normalized text has at least a shingle of its own words (links, mentions aside).

    Texts without are not indexed: every link-only post would share one bucket.
    """
    if URL_TOKEN not in normal and "@" not in normal:   # most texts: all words are content
        return len(normal) >= params.fingerprint.shingle_size
    words = [word for word in normal.split() if word not in _NOT_CONTENT]
    return len(" ".join(words)) >= params.fingerprint.shingle_size


def band_keys(sigs: Signatures, params: LookupParams) -> Keys:
    """One key per band of each signature: shape ``(len(sigs), bands)``, dtype int64.

    A 64-bit mix (multiply, xor-shift, then MurmurHash3's finalizer) of the band number and the
    band's values: the same on every machine and process, and it fits a PostgreSQL BIGINT.
    """
    if sigs.ndim != 2 or sigs.shape[1] != params.fingerprint.num_perm:
        raise ValueError(f"sigs must have shape (texts, {params.fingerprint.num_perm}) as signatures() "
                         f"returns, got {sigs.shape}")
    blocks = sigs[:, :params.bands * params.rows].reshape(len(sigs), params.bands, params.rows)
    key = np.tile(fmix64(np.arange(params.bands, dtype=np.uint64) ^ _BAND_SALT), (len(sigs), 1))
    for row in range(params.rows):
        key ^= blocks[:, :, row].astype(np.uint64)
        key *= _M64
        key ^= key >> np.uint64(29)
    return fmix64(key).view(np.int64)


def query_signature(text: str, params: LookupParams) -> Signatures:
    """The signature (1-d) of a text to look up; :class:`LookupTextTooShort` if it has no content."""
    normal = normalize_text(text)
    if not has_content(normal, params):
        raise LookupTextTooShort(
            f"the text has too little of its own to look up ({normal!r} once normalized); give at "
            f"least {params.fingerprint.shingle_size} characters of the message itself, not only "
            "links, mentions or a retweet prefix")
    signature: Signatures = signatures([normal], params.fingerprint, normalized=True)[0]
    return signature


def query_keys(text: str, params: LookupParams) -> list[int]:
    """The band keys to look up for ``text`` (see :func:`query_signature` for its errors)."""
    keys: list[int] = band_keys(query_signature(text, params)[None, :], params)[0].tolist()
    return keys


def text_key(normal: str) -> int:
    """The key naming a normalized text: its 64-bit BLAKE2b hash, signed to fit a PostgreSQL BIGINT.

    Two of a million distinct texts share a key with probability about 3e-8.
    """
    return int.from_bytes(hashlib.blake2b(normal.encode(), digest_size=8).digest(), "big", signed=True)


@dataclass(frozen=True)
class TextRows:
    """What posts add to the index: a ``(text_key, post_ref)`` row per post with content, sorted
    (shape ``(posts, 2)``, dtype int64), and each distinct normalized text once, by key."""

    rows: Keys
    normals: dict[int, str]


def text_rows(post_refs: Sequence[int], texts: Sequence[str], params: LookupParams) -> TextRows:
    """The index rows of posts: posts without content (empty, a link alone) have none.

    Sorted because a b-tree takes sorted inserts much faster.
    """
    keys = TextKeyer(params, limit=len(texts)).keys(texts)   # each raw text normalized once
    pairs = [(key, ref) for ref, key in zip(post_refs, keys.text_keys, strict=True) if key is not None]
    rows = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return TextRows(rows[np.lexsort((rows[:, 1], rows[:, 0]))], keys.normals)


def _content_key(normal: str, normals: dict[int, str], params: LookupParams) -> int | None:
    """The text key of the normal form ``normal``, noting it in ``normals``; None without content."""
    if not has_content(normal, params):
        return None
    key = text_key(normal)
    normals.setdefault(key, normal)
    return key


@dataclass(frozen=True)
class Sketched:
    """Signatures already made of some texts (with the index's fingerprint settings): ``rows``
    gives a text key's row of ``signatures``."""

    signatures: Signatures
    rows: dict[int, int]


def band_rows(text_keys: Sequence[int], normals: Sequence[str], params: LookupParams,
              sketched: Sketched | None = None) -> Keys:
    """Index rows ``(band_key, text_key)`` of distinct normalized texts with content, sorted by
    band key then text key: shape ``(rows, 2)``, dtype int64 (``bands`` rows per text).
    Texts ``sketched`` already are not sketched again."""
    if not text_keys:
        return np.empty((0, 2), dtype=np.int64)
    keys = band_keys(_signatures_of(text_keys, normals, params, sketched), params)
    owners = np.repeat(np.asarray(text_keys, dtype=np.int64), params.bands)
    rows = np.column_stack([keys.ravel(), owners])
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def _signatures_of(text_keys: Sequence[int], normals: Sequence[str], params: LookupParams,
                   sketched: Sketched | None) -> Signatures:
    """Signatures of the texts, taken from ``sketched`` where it has them, made for the rest."""
    known = sketched.rows if sketched is not None else {}
    taken = [i for i, key in enumerate(text_keys) if key in known]
    if sketched is None or not taken:
        return signatures(list(normals), params.fingerprint, normalized=True)
    sigs: Signatures = sketched.signatures[[known[text_keys[i]] for i in taken]]
    if len(taken) == len(text_keys):
        return sigs
    missing = [i for i, key in enumerate(text_keys) if key not in known]
    made = signatures([normals[i] for i in missing], params.fingerprint, normalized=True)
    every = np.empty((len(text_keys), made.shape[1]), dtype=made.dtype)
    every[taken], every[missing] = sigs, made
    return every


@dataclass(frozen=True)
class BatchKeys:
    """A batch's text keys (``TextKeyer.keys``): each post's text key (None: no content), in
    the batch's order, and the normal form of each distinct one, from which the index sketches
    the texts it has not seen."""

    index: dict[str, Any]           # the ``LookupParams.to_json()`` they were made with
    text_keys: list[int | None]
    normals: dict[int, str]


class TextKeyer:
    """Text keys of the batches of one stream of posts; raw texts already keyed are remembered
    (relays repeat them), up to ``limit``, then forgotten at once. ``normal_of``: normal forms
    already made of some raw texts (detection's fingerprinting makes them), not made again."""

    def __init__(self, params: LookupParams = DEFAULT_PARAMS, limit: int = 300_000,
                 normal_of: Mapping[str, str] | None = None) -> None:
        self.params, self.limit = params, limit
        self._key_of: dict[str, int | None] = {}
        self._normals: dict[int, str] = {}
        self._normal_of = normal_of or {}

    def keys(self, texts: Sequence[str]) -> BatchKeys:
        """The keys of a batch's posts, one text each."""
        if len(self._key_of) > self.limit:
            self._key_of.clear()
            self._normals.clear()
        text_keys = [self._text_key(text) for text in texts]
        normals = {k: self._normals[k] for k in text_keys if k is not None}
        return BatchKeys(self.params.to_json(), text_keys, normals)

    def _text_key(self, text: str) -> int | None:
        try:
            return self._key_of[text]
        except KeyError:
            normal = self._normal_of.get(text)
            key = self._key_of[text] = _content_key(normalize_text(text) if normal is None else normal,
                                                    self._normals, self.params)
            return key


class KeyBuffer:
    """Text keys of stored posts, kept until the index takes them (``update_lookup_index``):
    each post's key by its row id (``posts.id``), the keys' normal forms, and the signatures
    already made of some keys (made with the index's fingerprint settings)."""

    def __init__(self) -> None:
        self.index: dict[str, Any] | None = None
        self.by_ref: dict[int, int | None] = {}
        self.normals: dict[int, str] = {}
        self.sketched: Sketched | None = None

    def __len__(self) -> int:
        return len(self.by_ref)

    def add(self, refs: Sequence[int], keys: BatchKeys) -> None:
        """Keep ``keys`` of the posts ``refs`` (row ids, in the batch's order)."""
        if self.index is not None and self.index != keys.index:
            raise ValueError("batches keyed with other index settings cannot share a buffer")
        self.index = keys.index
        self.by_ref.update(zip(refs, keys.text_keys, strict=True))
        self.normals.update(keys.normals)

    def clear(self) -> None:
        self.by_ref.clear()
        self.normals.clear()
        self.sketched = None


def fingerprinted_keys(posts: Sequence[PostText], normal_of: Mapping[str, str],
                       sigs: Signatures | None, sig_rows: Mapping[str, int],
                       params: LookupParams = DEFAULT_PARAMS) -> KeyBuffer:
    """The index keys of stored ``posts`` whose texts detection's fingerprinting has mostly
    normalized (``normal_of``: raw text -> normal form) and sketched (``sig_rows``: normal form
    -> row of ``sigs``, made with ``params.fingerprint``); what they lack is made here."""
    keys = TextKeyer(params, limit=len(posts), normal_of=normal_of).keys([p.text for p in posts])
    buffer = KeyBuffer()
    buffer.add([p.ref for p in posts], keys)
    if sigs is not None:
        rows = {key: sig_rows[normal] for key, normal in keys.normals.items() if normal in sig_rows}
        buffer.sketched = Sketched(sigs, rows)
    return buffer


def similarities(query_sig: Signatures, candidate_sigs: Signatures) -> Similarities:
    """Estimated Jaccard of the query with each candidate: the fraction of equal signature values."""
    if not len(candidate_sigs):
        return np.empty(0, dtype=np.float64)
    equal = np.count_nonzero(candidate_sigs == query_sig, axis=1)
    return np.asarray(equal, dtype=np.float64) / len(query_sig)


def text_similarities(query_sig: Signatures, texts: Sequence[str], params: LookupParams,
                      keys: Sequence[Hashable] | None = None) -> Similarities:
    """:func:`similarities` of the query with candidate texts, each distinct text sketched once.

    With ``keys`` (one per text: texts with one key have one normal form, such as a text key),
    each distinct key is sketched once, from its first text.
    """
    index: dict[Hashable, int] = {}
    firsts: list[str] = []
    rows = np.empty(len(texts), dtype=np.intp)
    for i, (group, text) in enumerate(zip(texts if keys is None else keys, texts, strict=True)):
        slot = index.setdefault(group, len(firsts))
        if slot == len(firsts):
            firsts.append(text)
        rows[i] = slot
    if not firsts:
        return np.empty(0, dtype=np.float64)
    found: Similarities = similarities(query_sig, signatures(firsts, params.fingerprint))[rows]
    return found


@dataclass(frozen=True)
class LookupMatch:
    """A stored post whose text is a near-duplicate of the looked-up one."""

    platform: str
    post_id: str
    account_id: str
    handle: str | None
    created_at: datetime
    text: str
    similarity: float               # estimated Jaccard of the normalized texts' 5-grams
    repost_of: str | None = None


@dataclass(frozen=True)
class LookupAccount:
    """An account that posted matches: how many and when."""

    platform: str
    account_id: str
    handle: str | None
    posts: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class LookupResult:
    """What a lookup found; ``unindexed_posts`` were stored after the index was last updated."""

    matches: list[LookupMatch]      # the best ``limit``, most similar first, then oldest first
    total_matches: int
    accounts: list[LookupAccount]   # the ``limit`` with most matches, then the earliest first
    total_accounts: int
    candidates_checked: int
    truncated: bool                 # more candidates than ``max_candidates``: only the first verified
    indexed_through: int            # every post with a smaller or equal ``posts.id`` is indexed
    unindexed_posts: int


def verify(query_sig: Signatures, texts: Sequence[str], params: LookupParams,
           keys: Sequence[Hashable] | None = None) -> tuple[list[int], list[float]]:
    """Positions of the texts whose similarity reaches ``params.threshold``, and those similarities.

    ``keys``: as for :func:`text_similarities` (each text key's text is verified once).
    """
    found = text_similarities(query_sig, texts, params, keys)
    kept = np.flatnonzero(found >= params.threshold)
    positions: list[int] = kept.tolist()
    return positions, found[kept].round(4).tolist()


def best(similarity: Sequence[float], moments: Sequence[Any], limit: int) -> list[int]:
    """Positions of the ``limit`` best matches: most similar first, then oldest, then first given.

    ``moments`` only need to sort in time order (datetimes, or SQLite's stored text form).
    """
    return heapq.nsmallest(limit, range(len(similarity)), key=lambda i: (-similarity[i], moments[i], i))


@dataclass(frozen=True)
class Tally:
    """An account's matching posts: how many, when (as given), and the handle of its latest."""

    platform: str
    account_id: str
    handle: str | None
    posts: int
    first_at: Any
    last_at: Any


def top_accounts(platforms: Sequence[str], account_ids: Sequence[str], handles: Sequence[str | None],
                 moments: Sequence[Any], limit: int) -> tuple[list[Tally], int]:
    """The ``limit`` accounts with most posts (then the earliest first), and how many there are.

    One entry per post in the parallel sequences; ``moments`` only need to sort in time order.
    Counted in flat lists keyed by strings: a relayed text's thousands of posts then leave no
    objects for the garbage collector to promote (its full passes cost tens of milliseconds).
    """
    slot: dict[str, int] = {}
    posts: list[int] = []
    first: list[Any] = []
    last: list[int] = []                # position of each account's latest post
    for i, key in enumerate(map("{}\x00{}".format, platforms, account_ids)):
        at = slot.setdefault(key, len(posts))
        if at == len(posts):
            posts.append(1)
            first.append(moments[i])
            last.append(i)
            continue
        posts[at] += 1
        first[at] = min(first[at], moments[i])
        if moments[i] >= moments[last[at]]:
            last[at] = i
    top = heapq.nsmallest(limit, range(len(posts)), key=lambda at: (
        -posts[at], first[at], platforms[last[at]], account_ids[last[at]]))
    return [Tally(platforms[last[at]], account_ids[last[at]], handles[last[at]], posts[at], first[at],
                  moments[last[at]]) for at in top], len(posts)
