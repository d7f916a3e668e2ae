"""Fingerprint stage: MinHash signatures of normalized post texts, and groups of near-duplicates.

Texts are normalized (:func:`detector.normalize.normalize_text`), cut into character k-grams and
sketched with MinHash. Signatures are bit-identical to ``datasketch.MinHash(num_perm, seed=seed,
scheme=scheme)`` updated with ``shingle.encode("utf-8")`` for every shingle, so they can be stored
and queried with datasketch; they are computed with array operations, a chunk of texts at a time.
Near-duplicates are found by LSH banding over the signatures, each candidate pair verified by its
estimated Jaccard similarity.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from detector.normalize import normalize_text

SCHEMES = ("affine32", "affine64", "legacy")

Signatures = npt.NDArray[np.unsignedinteger[Any]]
Indices = npt.NDArray[np.int64]

_MERSENNE_PRIME = np.uint64((1 << 61) - 1)
_MAX_HASH_32 = (1 << 32) - 1
_SENTINEL = 0x110000            # above every code point: marks "past the end" of a short text
_CHUNK_TEXTS = 2_000            # texts per chunk ...
_CHUNK_CHARS = 400_000          # ... or fewer, so that a chunk's arrays stay a few MB
_BLOCK_ELEMENTS = 1 << 18       # permuted values computed at once: about L2 cache size
_CACHE_LIMIT = 1 << 20          # distinct shingles whose hash is remembered within one call
_M64 = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class FingerprintParams:
    """MinHash settings; signatures made with different settings cannot be compared."""

    num_perm: int = 128
    shingle_size: int = 5
    seed: int = 1
    scheme: str = "affine32"

    def __post_init__(self) -> None:
        if not _is_int(self.num_perm) or self.num_perm < 1:
            raise ValueError(f"num_perm must be a positive integer (128 is usual), got {self.num_perm!r}")
        if not _is_int(self.shingle_size) or self.shingle_size < 1:
            raise ValueError(f"shingle_size must be a positive integer (5 is usual), "
                             f"got {self.shingle_size!r}")
        if not _is_int(self.seed) or not 0 <= self.seed < 1 << 32:
            raise ValueError(f"seed must be an integer in [0, 2**32), got {self.seed!r}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, got {self.scheme!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def shingles(text: str, size: int) -> list[str]:
    """The character ``size``-grams of ``normalize_text(text)``, in order, repeats kept.

    A non-empty normal form shorter than ``size`` is one shingle; an empty one has none.
    """
    normal = normalize_text(text)
    if len(normal) < size:
        return [normal] if normal else []
    return [normal[i:i + size] for i in range(len(normal) - size + 1)]


def signatures(texts: Sequence[str], params: FingerprintParams, *,
               normalized: bool = False) -> Signatures:
    """MinHash signatures, one row per text, equal to datasketch's ``MinHash.hashvalues``.

    Shape ``(len(texts), params.num_perm)``; dtype uint32 for "affine32", uint64 otherwise (as
    datasketch). A text without shingles gets datasketch's empty signature (every value maximal).
    Texts with the same normal form are sketched once. ``normalized=True`` says the caller
    already applied ``normalize_text`` (it is idempotent, so this only saves its cost).
    """
    sigs, rows = distinct_signatures(texts, params, normalized=normalized)
    return sigs[rows]


def distinct_signatures(texts: Sequence[str], params: FingerprintParams, *,
                        normalized: bool = False) -> tuple[Signatures, Indices]:
    """``signatures`` of each distinct normal form once, in order of first appearance, and each
    text's row among them: ``signatures(texts) == sigs[rows]`` without the repeated rows."""
    index: dict[str, int] = {}
    normal = (lambda t: t) if normalized else normalize_text
    rows = np.fromiter((index.setdefault(normal(t), len(index)) for t in texts),
                       dtype=np.intp, count=len(texts))
    distinct = list(index)
    out = np.empty((len(distinct), params.num_perm), dtype=_dtype(params.scheme))
    store = _HashStore(params.scheme, params.shingle_size)
    permutations = _permutations(params.num_perm, params.seed, params.scheme)
    for start, end in _chunks([len(t) for t in distinct]):
        out[start:end] = _chunk_signatures(distinct[start:end], params, store, permutations)
    return out, rows


def _dtype(scheme: str) -> type[np.unsignedinteger[Any]]:
    return np.uint32 if scheme == "affine32" else np.uint64


def _empty_value(scheme: str) -> int:
    return (1 << 64) - 1 if scheme == "affine64" else _MAX_HASH_32


@cache
def _permutations(num_perm: int, seed: int, scheme: str) -> tuple[Signatures, Signatures]:
    """The ``(a, b)`` parameters datasketch draws from ``np.random.RandomState(seed)``."""
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        pairs = [(gen.randint(1, _MERSENNE_PRIME, dtype=np.uint64),
                  gen.randint(0, _MERSENNE_PRIME, dtype=np.uint64)) for _ in range(num_perm)]
        a, b = np.array(pairs, dtype=np.uint64).T
        return _frozen(a.copy()), _frozen(b.copy())
    width, dtype = (32, np.uint32) if scheme == "affine32" else (64, np.uint64)
    a = gen.randint(0, 1 << (width - 1), num_perm, dtype=dtype) * dtype(2) + dtype(1)
    b = gen.randint(0, 1 << width, num_perm, dtype=dtype)
    return _frozen(a), _frozen(b)


def _frozen(array: Signatures) -> Signatures:
    array.setflags(write=False)  # shared by every caller through the cache
    return array


def _chunks(lengths: list[int]) -> Iterator[tuple[int, int]]:
    """``(start, end)`` ranges of at most _CHUNK_TEXTS texts and (unless one text) _CHUNK_CHARS chars."""
    start, chars = 0, 0
    for i, length in enumerate(lengths):
        if i > start and (i - start == _CHUNK_TEXTS or chars + length > _CHUNK_CHARS):
            yield start, i
            start, chars = i, 0
        chars += length
    if start < len(lengths):
        yield start, len(lengths)


@dataclass(frozen=True)
class _Occurrences:
    """Every shingle occurrence of a chunk of normalized texts, as positions in their concatenation."""

    joined: str
    starts: Indices          # first code point of each occurrence in ``joined``
    ends: Indices            # end of the text the occurrence belongs to
    per_text: Indices        # number of occurrences of each text


def _occurrences(texts: list[str], size: int) -> _Occurrences:
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    per_text = np.where(lengths >= size, lengths - size + 1, lengths > 0).astype(np.int64)
    offsets = np.cumsum(lengths) - lengths
    firsts = np.cumsum(per_text) - per_text
    total = int(per_text.sum())
    starts = np.repeat(offsets - firsts, per_text) + np.arange(total, dtype=np.int64)
    ends = np.repeat(offsets + lengths, per_text)
    return _Occurrences("".join(texts), starts, ends, per_text)


def _chunk_signatures(texts: list[str], params: FingerprintParams, store: _HashStore,
                      permutations: tuple[Signatures, Signatures]) -> Signatures:
    occurrences = _occurrences(texts, params.shingle_size)
    out = np.full((len(texts), params.num_perm), _empty_value(params.scheme), dtype=_dtype(params.scheme))
    if not len(occurrences.starts):
        return out
    values = _premix(_input_hashes(occurrences, params.shingle_size, store), params.scheme)
    nonempty = occurrences.per_text > 0
    text_starts = (np.cumsum(occurrences.per_text) - occurrences.per_text)[nonempty]
    out[nonempty] = _min_hash(values, text_starts, permutations, params.scheme).T
    return out


def _input_hashes(occ: _Occurrences, size: int, store: _HashStore) -> Signatures:
    """datasketch's input hash of every shingle occurrence, each distinct shingle hashed once.

    Occurrences are grouped by a 64-bit mix of their code points, and each is compared with its
    group's first; on a collision (never seen) the chunk is grouped by string instead.
    """
    columns = _code_point_columns(occ, size)
    keys = _mix_columns(columns)
    order, is_first = _sorted_groups(keys)
    group = np.empty(len(keys), dtype=np.int64)
    group[order] = np.cumsum(is_first) - 1
    firsts = order[is_first]
    if not all(np.array_equal(column, column[firsts][group]) for column in columns):
        return _input_hashes_by_string(occ, size, store.width)
    words = _pack(columns, firsts)
    values, found = store.lookup(keys[firsts], words)
    missing = np.flatnonzero(~found)
    values[missing] = _sha1_heads(_slices(occ, firsts[missing], size), store.width)
    store.add(keys[firsts][missing], words[missing], values[missing])
    return values[group]


def _input_hashes_by_string(occ: _Occurrences, size: int, width: int) -> Signatures:
    """What :func:`_input_hashes` returns, the slow way: a dict of shingle strings."""
    strings = _slices(occ, np.arange(len(occ.starts)), size)
    index: dict[str, int] = {}
    group = np.fromiter((index.setdefault(s, len(index)) for s in strings), np.int64, len(strings))
    return _sha1_heads(list(index), width)[group]


def _code_point_columns(occ: _Occurrences, size: int) -> list[npt.NDArray[np.uint32]]:
    """Column j holds the j-th code point of every occurrence, or _SENTINEL past its text's end."""
    code_points = np.frombuffer(occ.joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    padded = np.concatenate([code_points, np.zeros(size, dtype=np.uint32)])
    return [np.where(occ.starts + j < occ.ends, padded[occ.starts + j], _SENTINEL) for j in range(size)]


def _pack(columns: list[npt.NDArray[np.uint32]], rows: Indices) -> npt.NDArray[np.uint64]:
    """The code points of the given rows, three to a uint64 (21 bits each): an exact key."""
    words = np.zeros((len(rows), -(-len(columns) // 3)), dtype=np.uint64)
    for j, column in enumerate(columns):
        words[:, j // 3] |= column[rows].astype(np.uint64) << np.uint64(21 * (j % 3))
    return words


def _slices(occ: _Occurrences, which: Indices, size: int) -> list[str]:
    starts = occ.starts[which]
    stops = np.minimum(starts + size, occ.ends[which])
    return list(map(occ.joined.__getitem__, map(slice, starts.tolist(), stops.tolist())))


def _mix_columns(columns: Sequence[npt.NDArray[np.unsignedinteger[Any]]]) -> npt.NDArray[np.uint64]:
    """One well-mixed uint64 per row of the given columns (a hash: equal rows, equal keys)."""
    key = np.full(len(columns[0]), 0x243F6A8885A308D3, dtype=np.uint64)
    for column in columns:
        key ^= column.astype(np.uint64)
        key *= _M64
        key ^= key >> np.uint64(29)
    return fmix64(key)


def _sorted_groups(keys: npt.NDArray[np.uint64]) -> tuple[Indices, npt.NDArray[np.bool_]]:
    """Positions of ``keys`` sorted by key then position, and where each run of equal keys starts.

    The position is packed into the low bits of the key so that a plain sort does the work (a
    stable argsort is many times slower); keys are compared on their remaining high bits only.
    """
    bits = max(1, (len(keys) - 1).bit_length())
    mask = np.uint64((1 << bits) - 1)
    packed = np.sort((keys & ~mask) | np.arange(len(keys), dtype=np.uint64))
    high = packed & ~mask
    is_first = np.empty(len(keys), dtype=bool)
    is_first[:1] = True
    np.not_equal(high[1:], high[:-1], out=is_first[1:])
    return (packed & mask).astype(np.int64), is_first


def _sha1_heads(strings: list[str], width: int) -> Signatures:
    """datasketch's input hash: the first ``width`` bytes of sha1(utf-8), little-endian."""
    # surrogatepass: a lone surrogate (broken input) is hashed instead of crashing the run
    digests = b"".join([hashlib.sha1(s.encode("utf-8", "surrogatepass")).digest() for s in strings])
    head = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 20)[:, :width]
    return np.ascontiguousarray(head).view("<u8" if width == 8 else "<u4").ravel().astype(np.uint64)


class _HashStore:
    """Input hashes of the shingles met so far in one call, sorted by key for vectorized lookup.

    A key is a 64-bit mix of the shingle's code points; the packed code points are kept too and
    compared, so a mix collision is a miss (the shingle is hashed again), never a wrong value.
    """

    def __init__(self, scheme: str, size: int) -> None:
        self.width = 8 if scheme == "affine64" else 4
        self.word_count = -(-size // 3)
        self.clear()

    def clear(self) -> None:
        self.keys = np.empty(0, dtype=np.uint64)
        self.words = np.empty((0, self.word_count), dtype=np.uint64)
        self.values = np.empty(0, dtype=np.uint64)

    def lookup(self, keys: npt.NDArray[np.uint64], words: npt.NDArray[np.uint64]
               ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
        """Stored values of ``keys`` (0 where absent) and which were found."""
        if not len(self.keys):
            return np.zeros(len(keys), dtype=np.uint64), np.zeros(len(keys), dtype=bool)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        found = (self.keys[at] == keys) & (self.words[at] == words).all(axis=1)
        return np.where(found, self.values[at], np.uint64(0)), found

    def add(self, keys: npt.NDArray[np.uint64], words: npt.NDArray[np.uint64],
            values: npt.NDArray[np.uint64]) -> None:
        if len(self.keys) + len(keys) > _CACHE_LIMIT:
            self.clear()  # bounded memory; later chunks hash their shingles again
        order = np.argsort(keys)
        # final positions of the new entries; np.insert would redo this work for each array
        at = np.searchsorted(self.keys, keys[order]) + np.arange(len(keys))
        old = np.ones(len(self.keys) + len(keys), dtype=bool)
        old[at] = False
        self.keys = _merged(self.keys, keys[order], at, old)
        self.words = _merged(self.words, words[order], at, old)
        self.values = _merged(self.values, values[order], at, old)


def _merged(kept: npt.NDArray[np.uint64], new: npt.NDArray[np.uint64], at: Indices,
            old: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint64]:
    out = np.empty((len(old), *kept.shape[1:]), dtype=kept.dtype)
    out[at] = new
    out[old] = kept
    return out


def _premix(values: Signatures, scheme: str) -> Signatures:
    """datasketch's one-shot MurmurHash3 finalizer for the affine schemes; "legacy" has none."""
    if scheme == "affine32":
        v = values.astype(np.uint32)
        v ^= v >> np.uint32(16)
        v *= np.uint32(0x85EBCA6B)
        v ^= v >> np.uint32(13)
        v *= np.uint32(0xC2B2AE35)
        v ^= v >> np.uint32(16)
        return v
    if scheme == "affine64":
        return fmix64(values.astype(np.uint64))
    return values.astype(np.uint64)


def fmix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """MurmurHash3's 64-bit finalizer, element-wise: mixes every input bit into every output bit."""
    v = values.copy()
    v ^= v >> np.uint64(33)
    v *= np.uint64(0xFF51AFD7ED558CCD)
    v ^= v >> np.uint64(33)
    v *= np.uint64(0xC4CEB9FE1A85EC53)
    v ^= v >> np.uint64(33)
    return v


def _min_hash(values: Signatures, text_starts: Indices, permutations: tuple[Signatures, Signatures],
              scheme: str) -> Signatures:
    """Per text, the minimum of every permutation over its values: shape ``(num_perm, texts)``.

    Permutations are applied a block of rows at a time on the ``(num_perm, occurrences)`` layout,
    where ``np.minimum.reduceat`` along the last axis is many times faster than along the first.
    """
    a, b = permutations
    rows = max(1, _BLOCK_ELEMENTS // len(values))
    out = np.empty((len(a), len(text_starts)), dtype=a.dtype)
    block = np.empty((min(rows, len(a)), len(values)), dtype=a.dtype)
    for p in range(0, len(a), rows):
        part = block[:len(a[p:p + rows])]
        np.multiply.outer(a[p:p + rows], values, out=part)
        part += b[p:p + rows, None]
        if scheme == "legacy":
            part %= _MERSENNE_PRIME
            part &= np.uint64(_MAX_HASH_32)
        np.minimum.reduceat(part, text_starts, axis=1, out=out[p:p + rows])
    return out


@cache
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows)`` of LSH banding for ``threshold``, as datasketch's ``MinHashLSH`` picks them.

    Minimizes the equally weighted sum of the false-positive and false-negative probability mass.
    The integrands are polynomials of degree at most ``num_perm``, so Gauss-Legendre quadrature
    with ``num_perm // 2 + 1`` nodes integrates them exactly (datasketch uses scipy's ``quad``).
    """
    _check_threshold(threshold)
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    below, above = (nodes + 1) * threshold / 2, threshold + (nodes + 1) * (1 - threshold) / 2
    best, error = (0, 0), np.inf
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            false_positive = threshold / 2 * float(weights @ (1 - (1 - below**rows) ** bands))
            false_negative = (1 - threshold) / 2 * float(weights @ ((1 - above**rows) ** bands))
            if (candidate := 0.5 * false_positive + 0.5 * false_negative) < error:
                best, error = (bands, rows), candidate
    return best


def _check_threshold(threshold: float) -> None:
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold is a Jaccard similarity in (0, 1], e.g. 0.8; got {threshold!r}")


def near_duplicate_pairs(sigs: Signatures, threshold: float = 0.8, bands: int | None = None) -> Indices:
    """Row pairs ``(i, j)``, ``i < j``, sharing an LSH band and with estimated Jaccard >= threshold.

    Shape ``(pairs, 2)``, sorted. Estimated Jaccard is the fraction of equal signature values,
    as ``MinHash.jaccard``. ``bands`` defaults to :func:`lsh_params`; each band has
    ``num_perm // bands`` rows. Within a bucket of rows with equal band values, each row is
    checked against the bucket's first row and the row before it, not against every other row:
    a big bucket (a text relayed 50,000 times) costs linear time, and a pair missed this way is
    usually joined through a third row or another band. Identical signatures are always paired
    (directly or through identical rows; barring a 64-bit hash collision), by one extra band
    spanning the whole signature. Rows with datasketch's empty signature (every value 2**32 - 1
    or the dtype's maximum: texts without shingles) are never paired.
    """
    spans = _spans(sigs, threshold, bands)
    kept = np.flatnonzero(~_empty_rows(sigs))
    codes = [_encode(_bucket_pairs(_mix_columns(list(sigs[kept, start:stop].T))), len(kept))
             for start, stop in spans]
    pairs = kept[_decode(np.unique(np.concatenate([np.empty(0, dtype=np.int64), *codes])), len(kept))]
    return pairs[_similar(sigs, pairs, threshold)]


def _spans(sigs: Signatures, threshold: float, bands: int | None) -> list[tuple[int, int]]:
    """The column ranges of the LSH bands of ``sigs``, after checking the arguments, and the
    whole signature as one more band: identical rows always meet in a bucket of their own."""
    _check_threshold(threshold)
    if sigs.ndim != 2 or sigs.dtype.kind not in "ui" or sigs.shape[1] < 1:
        raise ValueError(f"sigs must be a 2-d integer array (texts x num_perm) as signatures() returns, "
                         f"got {sigs.dtype} {sigs.shape}")
    count, width = _banding(threshold, sigs.shape[1], bands)
    return [(band * width, (band + 1) * width) for band in range(count)] + [(0, sigs.shape[1])]


def _banding(threshold: float, num_perm: int, bands: int | None) -> tuple[int, int]:
    if bands is None:
        return lsh_params(threshold, num_perm)
    if not 1 <= bands <= num_perm:
        raise ValueError(f"bands must be between 1 and num_perm ({num_perm}), got {bands}")
    return bands, num_perm // bands


def _encode(pairs: Indices, count: int) -> Indices:
    return pairs[:, 0] * count + pairs[:, 1]


def _decode(codes: Indices, count: int) -> Indices:
    return np.column_stack([codes // count, codes % count]).astype(np.int64)


def _empty_rows(sigs: Signatures) -> npt.NDArray[np.bool_]:
    legacy_or_affine32: npt.NDArray[np.bool_] = np.all(sigs == _MAX_HASH_32, axis=1)
    affine64: npt.NDArray[np.bool_] = np.all(sigs == np.iinfo(sigs.dtype).max, axis=1)
    return legacy_or_affine32 | affine64


def _bucket_pairs(keys: npt.NDArray[np.uint64]) -> Indices:
    """Pairs of rows with equal keys: each row with its bucket's first row and with its predecessor."""
    order, is_first = _sorted_groups(keys)
    position = np.arange(len(keys))
    head = np.maximum.accumulate(np.where(is_first, position, 0))
    later = np.flatnonzero(~is_first)
    after_second = later[head[later] < later - 1]
    return np.concatenate([np.column_stack([order[head[later]], order[later]]),
                           np.column_stack([order[after_second - 1], order[after_second]])])


def _similar(sigs: Signatures, pairs: Indices, threshold: float) -> npt.NDArray[np.bool_]:
    """Whether each pair's estimated Jaccard reaches ``threshold``, a block of pairs at a time."""
    out = np.empty(len(pairs), dtype=bool)
    step = max(1, _BLOCK_ELEMENTS // sigs.shape[1])
    for start in range(0, len(pairs), step):
        left, right = pairs[start:start + step].T
        equal = np.count_nonzero(sigs[left] == sigs[right], axis=1)
        out[start:start + step] = equal / sigs.shape[1] >= threshold
    return out


def near_duplicate_groups(sigs: Signatures, threshold: float = 0.8, bands: int | None = None) -> Indices:
    """A label per row: the smallest row index of its group of near-duplicates.

    Groups are the connected components of :func:`near_duplicate_pairs` (so two rows of a group
    may be less similar than ``threshold`` through a chain of similar rows). Rows with the empty
    signature each stay alone.
    """
    pairs = near_duplicate_pairs(sigs, threshold, bands)
    return _components(len(sigs), pairs[:, 0], pairs[:, 1])


def repeated_near_duplicate_groups(sigs: Signatures, rows: Indices, threshold: float = 0.8,
                                   bands: int | None = None) -> Indices:
    """``near_duplicate_groups(sigs[rows], ...)``, the same labels, from distinct signatures:
    ``sigs`` holds each distinct signature once and ``rows`` each text's row of it (as
    :func:`distinct_signatures` gives them).

    The buckets are those of the texts, in the same order, so the same pairs of texts meet; but
    a pair is checked once per pair of distinct signatures, and texts with one signature (a
    relay's copies, always joined) add none: a text repeated thousands of times costs its
    sorting only.
    """
    spans = _spans(sigs, threshold, bands)
    rows = np.asarray(rows, dtype=np.int64)
    kept = np.flatnonzero(~_empty_rows(sigs)[rows])      # texts that can pair, by position
    distinct = rows[kept]
    codes = [np.empty(0, dtype=np.int64)]
    for start, stop in spans:
        met = distinct[_bucket_pairs(_mix_columns(list(sigs[:, start:stop].T))[distinct])]
        met = met[met[:, 0] != met[:, 1]]
        codes.append(np.minimum(met[:, 0], met[:, 1]) * len(sigs) + np.maximum(met[:, 0], met[:, 1]))
    pairs = _decode(np.unique(np.concatenate(codes)), len(sigs))
    pairs = pairs[_similar(sigs, pairs, threshold)]
    component = _components(len(sigs), pairs[:, 0], pairs[:, 1])[distinct]
    first = np.full(len(sigs), len(rows), dtype=np.int64)
    np.minimum.at(first, component, kept)               # each component's first text
    labels = np.arange(len(rows), dtype=np.int64)
    labels[kept] = first[component]
    return labels


def _components(count: int, left: Indices, right: Indices) -> Indices:
    """Connected components as the smallest member of each, by min-label hooking and pointer jumping."""
    labels = np.arange(count, dtype=np.int64)
    while True:
        roots_left, roots_right = labels[left], labels[right]
        if np.array_equal(roots_left, roots_right):
            return labels
        smaller = np.minimum(roots_left, roots_right)
        np.minimum.at(labels, roots_left, smaller)
        np.minimum.at(labels, roots_right, smaller)
        while not np.array_equal(jumped := labels[labels], labels):
            labels = jumped
