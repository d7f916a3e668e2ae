"""Fingerprint throughput against datasketch's own loop and exact hashing, measured in one run.

    python bench/bench_fingerprint.py                  # 100k tweet-like texts, affine32
    python bench/bench_fingerprint.py --texts 20000 --scheme legacy

Texts are generated with a seeded generator: a Zipf vocabulary of made-up words (some accented),
hashtags, mentions, t.co links and emoji; 10% are relays of an earlier "campaign" text (an
``RT @user:`` prefix and a new link: equal once normalized) and 10% are near-duplicates of one
(a word or two changed). It prints posts/s of ``signatures``; of datasketch's loop (a MinHash per
text, ``update`` per shingle) on a sample, with the ratio, and of datasketch at its fastest
(``update_batch``, shared permutations); of exact hashing of the normal form (normalize_text then
blake2b), the floor of any text comparison, and of blake2b alone; the time of
``near_duplicate_groups``; and, on a separate sample, the recall of LSH against brute force over
all pairs, for the default banding and for 16 bands.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasketch import MinHash

from detector.fingerprint import (
    FingerprintParams,
    lsh_params,
    near_duplicate_groups,
    near_duplicate_pairs,
    shingles,
    signatures,
)
from detector.normalize import normalize_text

SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["é", "ü", "ñ", "ch", "qu"]
EMOJI = "😂❤️🔥👍🇺🇸🙏😡💯🤔✅"


def tweet_like_texts(count: int, seed: int) -> list[str]:
    """``count`` tweet-like texts; 10% relays and 10% near-duplicates of a recent campaign text."""
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choices(SYLLABLES, k=rng.randint(1, 4))) for _ in range(30_000)]
    cumulative = np.cumsum(1 / np.arange(1, len(vocabulary) + 1)).tolist()   # Zipf
    campaigns: list[str] = []
    texts = []
    for _ in range(count):
        kind = rng.random()
        if campaigns and kind < 0.1:
            texts.append(f"RT @user{rng.randint(1, 10**6)}: {rng.choice(campaigns)} {link(rng)}")
        elif campaigns and kind < 0.2:
            texts.append(near_copy(rng.choice(campaigns), rng, vocabulary))
        else:
            texts.append(original(rng, vocabulary, cumulative))
            if kind > 0.95:
                campaigns = [*campaigns[-499:], texts[-1]]
    return texts


def original(rng: random.Random, vocabulary: list[str], cumulative: list[float]) -> str:
    words = rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(6, 28))
    if rng.random() < 0.5:
        words.append("#" + rng.choice(vocabulary[:300]))
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), f"@user{rng.randint(1, 10**6)}")
    if rng.random() < 0.4:
        words.append(link(rng))
    if rng.random() < 0.2:
        words.append(rng.choice(EMOJI))
    words[0] = words[0].capitalize()
    return " ".join(words)


def near_copy(text: str, rng: random.Random, vocabulary: list[str]) -> str:
    words = text.split()
    for _ in range(rng.randint(1, 2)):
        words[rng.randrange(len(words))] = rng.choice(vocabulary)
    return " ".join(words)


def link(rng: random.Random) -> str:
    return "https://t.co/" + "".join(rng.choices(string.ascii_letters + string.digits, k=10))


def rate(count: int, work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return count / (time.perf_counter() - start), result


def datasketch_loop(texts: list[str], params: FingerprintParams) -> npt.NDArray[np.unsignedinteger[Any]]:
    rows = []
    for text in texts:
        minhash = MinHash(num_perm=params.num_perm, seed=params.seed, scheme=params.scheme)
        for shingle in shingles(text, params.shingle_size):
            minhash.update(shingle.encode("utf-8"))
        rows.append(minhash.hashvalues)
    return np.array(rows)


def datasketch_batch(texts: list[str], params: FingerprintParams) -> npt.NDArray[np.unsignedinteger[Any]]:
    """datasketch at its fastest: shared permutations, ``update_batch`` per text."""
    template = MinHash(num_perm=params.num_perm, seed=params.seed, scheme=params.scheme)
    rows = []
    for text in texts:
        minhash = MinHash(permutations=template.permutations, scheme=params.scheme)
        minhash.update_batch([s.encode("utf-8") for s in shingles(text, params.shingle_size)])
        rows.append(minhash.hashvalues)
    return np.array(rows)


def exact_hashes(texts: list[str]) -> list[bytes]:
    return [hashlib.blake2b(normalize_text(t).encode("utf-8", "surrogatepass"), digest_size=16).digest()
            for t in texts]


def brute_force_pairs(sigs: npt.NDArray[np.unsignedinteger[Any]], threshold: float) -> list[tuple[int, int]]:
    """Every pair of non-empty rows whose estimated Jaccard reaches ``threshold``."""
    empty = (sigs == (1 << 32) - 1).all(axis=1) | (sigs == np.iinfo(sigs.dtype).max).all(axis=1)
    pairs = []
    for i in np.flatnonzero(~empty):
        similar = np.count_nonzero(sigs[i + 1:] == sigs[i], axis=1) / sigs.shape[1] >= threshold
        pairs += [(int(i), int(i + 1 + j)) for j in np.flatnonzero(similar & ~empty[i + 1:])]
    return pairs


def recall(texts: list[str], params: FingerprintParams, threshold: float) -> None:
    sigs = signatures(texts, params)
    truth = brute_force_pairs(sigs, threshold)
    left, right = np.array(truth, dtype=np.int64).reshape(-1, 2).T
    share = max(len(truth), 1)
    print(f"recall on {len(texts):,} other texts: {len(truth):,} pairs with estimated Jaccard >= {threshold} "
          "by brute force over all pairs")
    print(f"  {'bands x rows':18} {'share a band':>12} {'paired':>8} {'same group':>10} {'seconds':>8}")
    for choice in (None, 16):           # datasketch's optimum for the threshold, then 16 bands
        bands, rows = lsh_params(threshold, params.num_perm) if choice is None else (
            choice, params.num_perm // choice)
        start = time.perf_counter()
        found = {(int(i), int(j)) for i, j in near_duplicate_pairs(sigs, threshold, choice)}
        labels = near_duplicate_groups(sigs, threshold, choice)
        seconds = (time.perf_counter() - start) / 2
        candidates = np.zeros(len(truth), dtype=bool)
        for band in range(bands):
            columns = slice(band * rows, (band + 1) * rows)
            candidates |= (sigs[left, columns] == sigs[right, columns]).all(axis=1)
        name = f"{bands} x {rows}" + (" (default)" if choice is None else "")
        print(f"  {name:18} {candidates.sum() / share:12.4f} {len(found & set(truth)) / share:8.4f} "
              f"{np.mean(labels[left] == labels[right]) if truth else 1:10.4f} {seconds:8.3f}")
    print("  share a band: candidates of plain LSH banding; paired: returned by near_duplicate_pairs\n"
          "  (a row is checked against its bucket's first and previous rows only); same group: by\n"
          "  near_duplicate_groups")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000, help="texts for datasketch's loop")
    parser.add_argument("--recall-sample", type=int, default=3_000)
    parser.add_argument("--scheme", default="affine32")
    parser.add_argument("--threshold", type=float, default=0.8)
    args = parser.parse_args()
    params = FingerprintParams(scheme=args.scheme)
    texts = tweet_like_texts(args.texts, seed=7)
    sample = texts[:args.sample]
    signatures(sample[:100], params)                  # build the Unicode tables and permutations once
    print(f"{len(texts):,} texts, {len(set(map(normalize_text, texts))):,} distinct normal forms, "
          f"mean length {sum(map(len, texts)) / len(texts):.0f} chars; {params}")

    ours, sigs = rate(len(texts), lambda: signatures(texts, params))
    loop, reference = rate(len(sample), lambda: datasketch_loop(sample, params))
    batch, _ = rate(len(sample), lambda: datasketch_batch(sample, params))
    floor, _ = rate(len(texts), lambda: exact_hashes(texts))
    normal = [normalize_text(t).encode("utf-8", "surrogatepass") for t in texts]
    hashing, _ = rate(len(texts), lambda: [hashlib.blake2b(t, digest_size=16).digest() for t in normal])
    identical = np.array_equal(sigs[:len(sample)], reference)
    print(f"signatures            {ours:9,.0f} posts/s   (equal to datasketch's on the sample: {identical})")
    print(f"datasketch loop       {loop:9,.0f} posts/s   ours x{ours / loop:.1f}")
    print(f"datasketch batch      {batch:9,.0f} posts/s   ours x{ours / batch:.1f}   (shared permutations, "
          "update_batch)")
    print(f"normalize + blake2b   {floor:9,.0f} posts/s   ours at {ours / floor:.0%} of the floor")
    print(f"blake2b alone         {hashing:9,.0f} posts/s   (normal forms given)")

    bands, rows = lsh_params(args.threshold, params.num_perm)
    start = time.perf_counter()
    labels = near_duplicate_groups(sigs, args.threshold)
    seconds = time.perf_counter() - start
    print(f"near_duplicate_groups {seconds:9.2f} s        ({bands} bands x {rows} rows, threshold "
          f"{args.threshold}): {len(np.unique(labels)):,} groups, "
          f"{int(np.count_nonzero(np.bincount(labels) > 1)):,} with 2 or more texts")
    recall(tweet_like_texts(args.recall_sample, seed=8), params, args.threshold)


if __name__ == "__main__":
    main()
