from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from detector import fingerprint
from detector.fingerprint import (
    FingerprintParams,
    distinct_signatures,
    lsh_params,
    near_duplicate_groups,
    near_duplicate_pairs,
    repeated_near_duplicate_groups,
    shingles,
    signatures,
)
from detector.normalize import normalize_text

TEXTS = [
    "The city council voted tonight to close the library",
    "RT @someone: The city council voted TONIGHT to close the library https://t.co/x",
    "Écoutez ça: l'élection est truquée 🗳️🔥",
    "Голосуйте завтра! Все на выборы",
    "日本語のテキスト、絵文字👍も",
    "abc",                  # shorter than a shingle: one shingle
    "a",
    "",                     # no shingles: the empty signature
    "   @x  ",              # normalizes to "@": one short shingle
    "RT @a: ",              # normalizes to "": no shingles
    "abc",                  # a repeat
    "z" * 300,              # one distinct shingle, many occurrences
]


def datasketch_signature(text: str, params: FingerprintParams) -> npt.NDArray[np.unsignedinteger]:
    minhash = MinHash(num_perm=params.num_perm, seed=params.seed, scheme=params.scheme)
    for shingle in shingles(text, params.shingle_size):
        minhash.update(shingle.encode("utf-8"))
    return minhash.hashvalues  # type: ignore[no-any-return]


def datasketch_signatures(texts: list[str], params: FingerprintParams) -> npt.NDArray[np.unsignedinteger]:
    return np.array([datasketch_signature(text, params) for text in texts])


@pytest.mark.parametrize("scheme", ["affine32", "affine64", "legacy"])
@pytest.mark.parametrize("seed", [1, 42])
@pytest.mark.parametrize("num_perm", [16, 128])
def test_signatures_equal_datasketch(scheme: str, seed: int, num_perm: int) -> None:
    params = FingerprintParams(num_perm=num_perm, seed=seed, scheme=scheme)
    ours = signatures(TEXTS, params)
    theirs = datasketch_signatures(TEXTS, params)
    assert ours.dtype == theirs.dtype
    assert ours.shape == (len(TEXTS), num_perm)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
def test_signatures_equal_datasketch_for_other_shingle_sizes(size: int) -> None:
    params = FingerprintParams(num_perm=16, shingle_size=size)
    np.testing.assert_array_equal(signatures(TEXTS, params), datasketch_signatures(TEXTS, params))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=8))
def test_signatures_equal_datasketch_for_any_text(texts: list[str]) -> None:
    params = FingerprintParams(num_perm=16)
    np.testing.assert_array_equal(signatures(texts, params).reshape(len(texts), 16),
                                  datasketch_signatures(texts, params).reshape(len(texts), 16))


def test_text_without_shingles_gets_the_empty_signature() -> None:
    for scheme in ("affine32", "affine64", "legacy"):
        empty = MinHash(num_perm=8, scheme=scheme)
        rows = signatures(["", "  ", "RT @a:"], FingerprintParams(num_perm=8, scheme=scheme))
        assert empty.is_empty()
        np.testing.assert_array_equal(rows, np.tile(empty.hashvalues, (3, 1)))


def test_copies_of_a_relayed_message_get_one_signature() -> None:
    rows = signatures(["RT @a: Vote NOW https://t.co/1", "vote now https://t.co/2", "Vote now!"],
                      FingerprintParams(num_perm=16))
    np.testing.assert_array_equal(rows[0], rows[1])
    assert not np.array_equal(rows[0], rows[2])


def test_distinct_signatures_sketch_each_normal_form_once_in_order_of_first_appearance() -> None:
    texts = ["RT @a: Vote NOW https://t.co/1", "Other words entirely", "vote now https://t.co/2", "Vote now!"]
    params = FingerprintParams(num_perm=16)
    sigs, rows = distinct_signatures(texts, params)
    assert rows.tolist() == [0, 1, 0, 2] and sigs.shape == (3, 16)
    np.testing.assert_array_equal(sigs[rows], signatures(texts, params))
    empty, none = distinct_signatures([], params)
    assert (empty.shape, none.shape) == ((0, 16), (0,))


def test_a_lone_surrogate_is_hashed_not_fatal() -> None:
    # broken input (a half emoji from a bad decoder): hashed as datasketch would hash its bytes
    params = FingerprintParams(num_perm=16)
    minhash = MinHash(num_perm=16)
    for shingle in shingles("ab\ud83dcdef", 5):
        minhash.update(shingle.encode("utf-8", "surrogatepass"))
    np.testing.assert_array_equal(signatures(["ab\ud83dcdef"], params)[0], minhash.hashvalues)


def test_no_texts() -> None:
    assert signatures([], FingerprintParams(num_perm=16)).shape == (0, 16)


def test_small_chunks_and_store_give_the_same_signatures(monkeypatch: pytest.MonkeyPatch) -> None:
    params = FingerprintParams(num_perm=16)
    expected = signatures(TEXTS, params)
    monkeypatch.setattr(fingerprint, "_CHUNK_TEXTS", 3)
    monkeypatch.setattr(fingerprint, "_CHUNK_CHARS", 60)        # the 300-char text is a chunk alone
    monkeypatch.setattr(fingerprint, "_CACHE_LIMIT", 40)        # the shingle store is emptied often
    monkeypatch.setattr(fingerprint, "_BLOCK_ELEMENTS", 7)      # one permutation at a time
    np.testing.assert_array_equal(signatures(TEXTS, params), expected)


def test_hash_collisions_never_change_a_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    # every shingle gets the same 64-bit key: chunks fall back to grouping by string, and the
    # store compares code points, so a lookup by a colliding key is a miss, not a wrong value
    params = FingerprintParams(num_perm=16)
    expected = datasketch_signatures(TEXTS, params)
    monkeypatch.setattr(fingerprint, "_mix_columns", lambda columns: np.zeros(len(columns[0]), np.uint64))
    np.testing.assert_array_equal(signatures(TEXTS, params), expected)


@pytest.mark.parametrize("text, size, expected", [
    ("abcdef", 3, ["abc", "bcd", "cde", "def"]),
    ("Ab  Cd", 2, ["ab", "b ", " c", "cd"]),      # shingles of the normal form
    ("aaaa", 2, ["aa", "aa", "aa"]),              # repeats kept, in order
    ("ab", 5, ["ab"]),                            # shorter than size: the whole text
    ("RT @x: hi", 5, ["hi"]),
    ("", 5, []),
    ("  ", 5, []),
])
def test_shingles(text: str, size: int, expected: list[str]) -> None:
    assert shingles(text, size) == expected


@pytest.mark.parametrize("field, value, message", [
    ("num_perm", 0, "num_perm must be a positive integer"),
    ("num_perm", 12.0, "num_perm must be a positive integer"),
    ("shingle_size", 0, "shingle_size must be a positive integer"),
    ("seed", -1, r"seed must be an integer in \[0, 2\*\*32\)"),
    ("seed", 1 << 32, "seed must be an integer"),
    ("seed", True, "seed must be an integer"),
    ("scheme", "affine", "scheme must be one of affine32, affine64, legacy"),
])
def test_params_say_what_is_allowed(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FingerprintParams(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("threshold, num_perm", [(0.8, 128), (0.5, 16), (0.9, 64), (0.3, 128)])
def test_lsh_params_are_datasketchs(threshold: float, num_perm: int) -> None:
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert lsh_params(threshold, num_perm) == (lsh.b, lsh.r)


def test_lsh_params_default() -> None:
    assert lsh_params(0.8, 128) == (9, 13)


BASE = ("Breaking: the city council voted tonight to close the old central library and sell "
        "the building to a private developer, residents are furious")
GROUPED_TEXTS = [
    BASE,
    "Completely unrelated: a recipe for tomato soup with basil and garlic, ready in thirty minutes",
    BASE.replace("tonight", "today"),               # one word changed in each copy: Jaccard >= 0.87
    "",
    BASE.replace("furious", "angry"),
    "Another unrelated post about the football match on Sunday evening and the final score",
    BASE.replace("old", "historic"),
    "",
    "RT @x: Completely unrelated: a recipe for tomato soup with basil and garlic, ready in thirty minutes",
]


def test_near_duplicate_groups_of_hand_made_texts() -> None:
    sigs = signatures(GROUPED_TEXTS, FingerprintParams())
    labels = near_duplicate_groups(sigs)
    assert labels.tolist() == [0, 1, 0, 3, 0, 5, 0, 7, 1]   # the empty texts stay apart
    assert labels.dtype == np.int64


def test_labels_are_the_smallest_row_of_each_group_whatever_the_order() -> None:
    order = [8, 4, 7, 1, 0, 6, 3, 5, 2]
    labels = near_duplicate_groups(signatures([GROUPED_TEXTS[i] for i in order], FingerprintParams()))
    assert labels.tolist() == [0, 1, 2, 0, 1, 1, 6, 7, 1]


def test_pairs_are_verified_and_groups_are_transitive() -> None:
    # one band per value: every pair sharing a value is a candidate; 0-1 and 1-2 agree on 8 of 10
    # values (0.8), 0-2 on 6: not a pair, yet in the group through 1
    row = np.arange(10, dtype=np.uint32)
    sigs = np.stack([row, np.r_[row[:8], 90, 91], np.r_[row[:6], 92, 93, 90, 91]]).astype(np.uint32)
    assert near_duplicate_pairs(sigs, 0.8, bands=10).tolist() == [[0, 1], [1, 2]]
    assert near_duplicate_groups(sigs, 0.8, bands=10).tolist() == [0, 0, 0]
    assert near_duplicate_groups(sigs, 0.9, bands=10).tolist() == [0, 1, 2]


def test_a_big_bucket_gives_linear_pairs() -> None:
    sigs = np.tile(np.arange(16, dtype=np.uint32), (1000, 1))
    pairs = near_duplicate_pairs(sigs, 0.8, bands=4)
    assert len(pairs) < 2 * 1000                         # not 1000 * 999 / 2
    assert set(near_duplicate_groups(sigs, 0.8, bands=4).tolist()) == {0}


def test_empty_signatures_are_never_grouped() -> None:
    for scheme in ("affine32", "affine64", "legacy"):
        sigs = signatures(["", "", "same text here", "same text here", ""], FingerprintParams(scheme=scheme))
        assert near_duplicate_groups(sigs).tolist() == [0, 1, 2, 2, 4]


@pytest.mark.parametrize("kwargs, message", [
    ({"threshold": 0.0}, r"threshold is a Jaccard similarity in \(0, 1\]"),
    ({"threshold": 1.5}, "threshold is a Jaccard similarity"),
    ({"bands": 0}, r"bands must be between 1 and num_perm \(16\)"),
    ({"bands": 17}, "bands must be between 1 and num_perm"),
])
def test_bad_lsh_arguments_say_what_is_allowed(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        near_duplicate_groups(np.zeros((3, 16), dtype=np.uint32), **kwargs)  # type: ignore[arg-type]


def test_signatures_must_be_a_matrix() -> None:
    with pytest.raises(ValueError, match="sigs must be a 2-d integer array"):
        near_duplicate_groups(np.zeros(16, dtype=np.uint32))


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.uint32, st.tuples(st.integers(1, 30), st.just(16)), elements=st.integers(0, 3)),
       st.data())
def test_a_row_is_always_grouped_with_a_copy_of_itself(sigs: npt.NDArray[np.uint32],
                                                       data: st.DataObject) -> None:
    # values from {0..3}: buckets are crowded with rows that agree on a band and on little else
    row = data.draw(st.integers(0, len(sigs) - 1))
    labels = near_duplicate_groups(np.vstack([sigs, sigs[row]]), threshold=0.9)
    assert labels[row] == labels[-1]
    assert labels[row] == labels[labels[row]] <= row      # a label is its group's smallest row


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.uint32, st.tuples(st.integers(1, 25), st.just(16)), elements=st.integers(0, 3)),
       st.lists(st.integers(0, 24), min_size=1, max_size=120), st.sampled_from([0.5, 0.75, 0.9, 1.0]),
       st.sampled_from([None, 2, 4, 8, 16]))
def test_groups_from_distinct_signatures_are_the_groups_of_the_texts(
        sigs: npt.NDArray[np.uint32], picks: list[int], threshold: float, bands: int | None) -> None:
    # values from {0..3}: crowded buckets, rows alike on one band and not on the next; the
    # maximal value stands for texts without shingles (never grouped)
    sigs[-1] = np.iinfo(np.uint32).max
    rows = np.array([pick % len(sigs) for pick in picks])
    expected = near_duplicate_groups(sigs[rows], threshold, bands)
    assert repeated_near_duplicate_groups(sigs, rows, threshold, bands).tolist() == expected.tolist()


def test_a_relayed_text_adds_no_pair_to_check(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["the council closes the library on main street tonight"] * 500 + ["an unrelated text here"]
    sigs, rows = distinct_signatures(texts, FingerprintParams())
    checked: list[int] = []
    similar = fingerprint._similar

    def counted(sigs: npt.NDArray[np.uint32], pairs: npt.NDArray[np.int64], threshold: float) -> object:
        checked.append(len(pairs))
        return similar(sigs, pairs, threshold)

    monkeypatch.setattr(fingerprint, "_similar", counted)
    labels = repeated_near_duplicate_groups(sigs, rows)
    assert labels.tolist() == [0] * 500 + [500] and checked == [0]


def test_signatures_of_already_normalized_texts_are_the_same() -> None:
    texts = ["RT @a: Ünïcödé  TEXT https://x.org/1", "plain words here", ""]
    params = FingerprintParams(num_perm=16)
    normal = [normalize_text(t) for t in texts]
    assert (signatures(normal, params, normalized=True) == signatures(texts, params)).all()
