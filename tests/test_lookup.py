from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detector.errors import LookupTextTooShort
from detector.fingerprint import FingerprintParams, signatures
from detector.lookup import (
    KEY_VERSION,
    KeyBuffer,
    LookupParams,
    Sketched,
    TextKeyer,
    band_keys,
    band_rows,
    best,
    has_content,
    query_keys,
    query_signature,
    same_index,
    similarities,
    text_key,
    text_rows,
    text_similarities,
    top_accounts,
    verify,
)
from detector.normalize import normalize_text

PARAMS = LookupParams()
ORIGINAL = ("The city council voted tonight to close the public library on Main Street, and nobody "
            "in the neighbourhood was asked first")
ONE_WORD_CHANGED = ORIGINAL.replace("tonight", "today")
UNRELATED = "Our bakery opens at seven with fresh croissants and sourdough every morning"


def test_defaults_are_detections_fingerprint_and_banding() -> None:
    from detector.detect import DetectParams

    detection = DetectParams()
    assert PARAMS.fingerprint == detection.fingerprint
    assert (PARAMS.bands, PARAMS.threshold) == (detection.lsh_bands, detection.similarity)
    assert PARAMS.rows == 8


def test_params_json_round_trip() -> None:
    params = LookupParams(FingerprintParams(num_perm=64, seed=7), bands=8, threshold=0.7, max_candidates=10)
    stored = params.to_json()
    assert stored["key_version"] == KEY_VERSION
    assert LookupParams.from_json(stored) == params


@pytest.mark.parametrize("change, same", [
    (dict(threshold=0.5), True),                       # per query: the index still answers
    (dict(max_candidates=10), True),
    (dict(bands=32), False),                           # other keys
    (dict(fingerprint=FingerprintParams(seed=2)), False),
])
def test_same_index_only_looks_at_what_makes_keys(change: dict[str, object], same: bool) -> None:
    assert same_index(PARAMS.to_json(), replace(PARAMS, **change)) is same  # type: ignore[arg-type]


def test_an_index_of_older_keys_is_not_the_same() -> None:
    assert not same_index({**PARAMS.to_json(), "key_version": KEY_VERSION - 1}, PARAMS)


@pytest.mark.parametrize("change, message", [
    (dict(bands=0), "bands must be between 1 and num_perm"),
    (dict(bands=129), "bands must be between 1 and num_perm"),
    (dict(threshold=0), "threshold is a Jaccard similarity"),
    (dict(max_candidates=0), "max_candidates must be between 1 and 30000"),
    (dict(max_candidates=40_000), "max_candidates must be between 1 and 30000"),
])
def test_bad_params_say_what_is_allowed(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(PARAMS, **change)  # type: ignore[arg-type]


def test_band_keys_shape_and_type() -> None:
    keys = band_keys(signatures([ORIGINAL, UNRELATED, ""], PARAMS.fingerprint), PARAMS)
    assert keys.shape == (3, 16) and keys.dtype == np.int64


def test_band_keys_are_pinned() -> None:
    # stored in databases: a change here needs KEY_VERSION bumped, so old indexes are rebuilt
    assert query_keys("hello world", PARAMS)[:2] == [9136909880637968811, -9157593597031449612]


def test_equal_bands_in_other_positions_give_other_keys() -> None:
    same_values = np.full((1, 128), 7, dtype=np.uint32)
    keys = band_keys(same_values, PARAMS)
    assert len(set(keys[0].tolist())) == 16


def test_band_keys_need_the_params_signature_length() -> None:
    with pytest.raises(ValueError, match=r"shape \(texts, 128\)"):
        band_keys(np.zeros((2, 64), dtype=np.uint32), PARAMS)


@pytest.mark.parametrize("copy", [
    f"RT @someone: {ORIGINAL}",
    f"{ORIGINAL.upper()}  ",
    ORIGINAL.replace("city", "cïty"),
])
def test_copies_have_the_originals_keys(copy: str) -> None:
    assert query_keys(copy, PARAMS) == query_keys(ORIGINAL, PARAMS)


def test_another_link_keeps_the_keys() -> None:
    assert (query_keys(f"{ORIGINAL} https://t.co/aaa", PARAMS)
            == query_keys(f"RT @x: {ORIGINAL} https://t.co/bbb", PARAMS))


def test_near_duplicate_shares_a_key_and_unrelated_text_none() -> None:
    original = set(query_keys(ORIGINAL, PARAMS))
    assert original & set(query_keys(ONE_WORD_CHANGED, PARAMS))
    assert not original & set(query_keys(UNRELATED, PARAMS))


@pytest.mark.parametrize("text", [
    "",
    "   ",
    "https://t.co/abc",
    "RT @someone: https://t.co/abc",
    "@a @b @c",
    "abc",                      # shorter than a 5-gram
])
def test_texts_without_words_of_their_own_are_refused(text: str) -> None:
    with pytest.raises(LookupTextTooShort, match="at least 5 characters of the message itself"):
        query_signature(text, PARAMS)


@pytest.mark.parametrize("normal, expected", [
    ("hello", True),
    ("hell", False),
    ("URL URL", False),
    ("@ hi URL", False),
    ("@ hi you URL", True),     # "hi you": five characters of its own
])
def test_has_content(normal: str, expected: bool) -> None:
    assert has_content(normal, PARAMS) is expected


@given(st.text(alphabet="ab URL@.", max_size=14))
def test_has_content_counts_the_words_that_are_not_links_or_mentions(text: str) -> None:
    normal = normalize_text(text)         # texts without "URL" or "@" take a shortcut
    own = " ".join(word for word in normal.split() if word not in ("URL", "@"))
    assert has_content(normal, PARAMS) is (len(own) >= PARAMS.fingerprint.shingle_size)


@given(st.text(max_size=40))
@settings(deadline=None)   # the first text builds normalization's tables
def test_a_text_with_content_has_keys_or_says_why_not(text: str) -> None:
    try:
        keys = query_keys(text, PARAMS)
    except LookupTextTooShort:
        assert not has_content(normalize_text(text), PARAMS)
    else:
        assert len(keys) == 16 and all(-(1 << 63) <= key < 1 << 63 for key in keys)


def test_similarities_are_fractions_of_equal_values() -> None:
    query = np.array([1, 2, 3, 4], dtype=np.uint32)
    candidates = np.array([[1, 2, 3, 4], [1, 2, 0, 0], [9, 9, 9, 9]], dtype=np.uint32)
    np.testing.assert_array_equal(similarities(query, candidates), [1.0, 0.5, 0.0])
    assert similarities(query, np.empty((0, 4), dtype=np.uint32)).shape == (0,)


def test_text_similarities() -> None:
    query = query_signature(ORIGINAL, PARAMS)
    found = text_similarities(query, [ORIGINAL, UNRELATED, f"RT @x: {ORIGINAL}", ONE_WORD_CHANGED], PARAMS)
    assert found[0] == found[2] == 1.0
    assert found[1] < 0.2
    assert 0.6 < found[3] < 1.0
    assert text_similarities(query, [], PARAMS).shape == (0,)


def test_text_rows_skip_posts_without_content_and_name_each_text_once() -> None:
    texts = [UNRELATED, ORIGINAL, "", "https://t.co/x @bob", f"RT @a: {ORIGINAL}", ORIGINAL.upper()]
    found = text_rows([10, 11, 12, 13, 14, 15], texts, PARAMS)
    original, unrelated = text_key(normalize_text(ORIGINAL)), text_key(normalize_text(UNRELATED))
    assert found.rows.dtype == np.int64
    assert found.rows.tolist() == sorted([[unrelated, 10], [original, 11], [original, 14], [original, 15]])
    assert found.normals == {original: normalize_text(ORIGINAL), unrelated: normalize_text(UNRELATED)}
    assert text_rows([1], [""], PARAMS).rows.shape == (0, 2)


def test_a_keyer_keys_each_post_as_text_rows_do_and_names_the_batchs_texts() -> None:
    texts = [UNRELATED, ORIGINAL, "", "https://t.co/x @bob", f"RT @a: {ORIGINAL}", ORIGINAL.upper()]
    keyer = TextKeyer(PARAMS)
    first = keyer.keys(texts)
    original, unrelated = text_key(normalize_text(ORIGINAL)), text_key(normalize_text(UNRELATED))
    assert first.text_keys == [unrelated, original, None, None, original, original]
    assert first.normals == text_rows(range(6), texts, PARAMS).normals
    assert first.index == PARAMS.to_json()
    second = keyer.keys([ORIGINAL, ""])                # a text met before: its normal form again
    assert (second.text_keys, second.normals) == ([original, None], {original: normalize_text(ORIGINAL)})
    assert keyer.keys([]).text_keys == []


def test_a_keyer_past_its_limit_forgets_and_still_keys_right() -> None:
    keyer = TextKeyer(PARAMS, limit=2)
    keyer.keys([f"{UNRELATED} {n}" for n in range(5)])
    again = keyer.keys([ORIGINAL])
    assert again.normals == {text_key(normalize_text(ORIGINAL)): normalize_text(ORIGINAL)}
    assert len(keyer._key_of) == 1


def test_a_key_buffer_keeps_keys_by_post_and_refuses_other_settings() -> None:
    keys = TextKeyer(PARAMS).keys([ORIGINAL, ""])
    buffer = KeyBuffer()
    buffer.add([11, 12], keys)
    assert len(buffer) == 2
    assert buffer.by_ref == {11: keys.text_keys[0], 12: None}
    assert buffer.normals == keys.normals
    with pytest.raises(ValueError, match="other index settings"):
        buffer.add([13], TextKeyer(LookupParams(bands=32)).keys([UNRELATED]))
    with pytest.raises(ValueError):                    # one key per post
        buffer.add([13], keys)
    buffer.sketched = Sketched(np.zeros((1, 128), dtype=np.uint32), {keys.text_keys[0] or 0: 0})
    buffer.clear()
    assert (len(buffer), buffer.normals, buffer.sketched) == (0, {}, None)


def test_a_keyer_takes_normal_forms_already_made_and_makes_the_rest() -> None:
    texts = [ORIGINAL, f"RT @a: {ORIGINAL}", UNRELATED]
    given = {ORIGINAL: "a normal form made elsewhere"}
    keys = TextKeyer(PARAMS, normal_of=given).keys(texts)
    assert keys.text_keys == [text_key("a normal form made elsewhere"), text_key(normalize_text(ORIGINAL)),
                              text_key(normalize_text(UNRELATED))]


def test_band_rows_take_the_signatures_given_and_sketch_the_rest() -> None:
    normals = [normalize_text(t) for t in (ORIGINAL, UNRELATED, ONE_WORD_CHANGED)]
    keys = [text_key(n) for n in normals]
    sigs = signatures(normals, PARAMS.fingerprint, normalized=True)
    made = band_rows(keys, normals, PARAMS)
    for known in ({0: 0, 1: 1, 2: 2}, {1: 1}, {}):      # all, some or none of them given
        rows = {keys[i]: row for i, row in known.items()}
        assert np.array_equal(band_rows(keys, normals, PARAMS, Sketched(sigs, rows)), made)
    other = Sketched(np.zeros_like(sigs), {keys[1]: 0})   # what is given is taken, not checked
    taken = band_rows(keys, normals, PARAMS, other)
    zeros = band_rows([keys[1]], [normals[1]], PARAMS, other)
    assert taken.tolist() == sorted([row for row in made.tolist() if row[1] != keys[1]] + zeros.tolist())
    assert zeros.tolist() != [row for row in made.tolist() if row[1] == keys[1]]


def test_text_key_is_a_stable_signed_64_bit_hash() -> None:
    assert text_key("the city council") == 724998137216651565      # stored: must never change
    assert text_key("") == -1970711489451281740                     # negative: signed, fits a BIGINT
    keys = {text_key(str(n)) for n in range(10_000)}
    assert len(keys) == 10_000 and min(keys) < 0 < max(keys)


def test_band_rows_give_each_text_bands_keys_sorted() -> None:
    keys = [text_key(normalize_text(t)) for t in (ORIGINAL, UNRELATED)]
    rows = band_rows(keys, [normalize_text(ORIGINAL), normalize_text(UNRELATED)], PARAMS)
    assert rows.shape == (32, 2) and rows.dtype == np.int64
    assert sorted(set(rows[:, 1].tolist())) == sorted(keys)
    assert rows[:, 0].tolist() == sorted(rows[:, 0].tolist())
    original = rows[rows[:, 1] == keys[0], 0]
    assert sorted(original.tolist()) == sorted(query_keys(ORIGINAL, PARAMS))   # what a query looks up
    assert band_rows([], [], PARAMS).shape == (0, 2)


def test_verify_keeps_texts_reaching_the_threshold() -> None:
    texts = [ORIGINAL, UNRELATED, ONE_WORD_CHANGED, f"RT @x: {ORIGINAL}"]
    positions, similarity = verify(query_signature(ORIGINAL, PARAMS), texts, PARAMS)
    assert positions == [0, 2, 3]
    assert similarity[0] == similarity[2] == 1.0 and 0.8 <= similarity[1] < 1.0
    assert verify(query_signature(ORIGINAL, PARAMS), [], PARAMS) == ([], [])


def test_verify_sketches_each_key_once() -> None:
    # with keys, the first text of a key stands for the others (they share a normal form)
    texts = [ORIGINAL, UNRELATED, "whatever: not sketched", ORIGINAL]
    positions, similarity = verify(query_signature(ORIGINAL, PARAMS), texts, PARAMS, keys=[7, 8, 7, 9])
    assert (positions, similarity) == ([0, 2, 3], [1.0, 1.0, 1.0])


def test_best_is_most_similar_then_oldest_then_first_given() -> None:
    times = [datetime(2024, 1, 1, hour, tzinfo=UTC) for hour in (3, 1, 2, 0, 1)]
    assert best([0.9, 0.9, 1.0, 0.85, 0.9], times, limit=3) == [2, 1, 4]
    assert best([0.9, 0.9], ["2024-01-01 10:00:00.000000", "2024-01-01 09:00:00.000000"], 5) == [1, 0]
    assert best([1.0], times[:1], limit=0) == []


def test_top_accounts_most_posts_then_earliest() -> None:
    hours = [datetime(2024, 1, 1, hour, tzinfo=UTC) for hour in (3, 1, 2, 0)]
    (x, z), total = top_accounts(["twitter"] * 4, ["x", "y", "x", "z"], ["@x3", "@y1", "@x2", "@z0"], hours,
                                 limit=2)
    assert total == 3
    assert (x.account_id, x.posts, x.first_at.hour, x.last_at.hour, x.handle) == ("x", 2, 2, 3, "@x3")
    assert (z.account_id, z.posts, z.handle) == ("z", 1, "@z0")
    assert top_accounts([], [], [], [], limit=5) == ([], 0)


def test_top_accounts_keeps_platforms_apart() -> None:
    moments = ["2024-01-01 10:00:00.000000", "2024-01-01 09:00:00.000000"]   # SQLite's stored form
    top, total = top_accounts(["twitter", "mastodon"], ["1", "1"], [None, "a"], moments, limit=5)
    assert total == 2 and [t.platform for t in top] == ["mastodon", "twitter"]
