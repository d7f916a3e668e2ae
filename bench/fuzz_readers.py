"""Fuzz every dump reader with hostile files; print what happened and "failures: N".

A seeded mutation fuzzer over real seed files (tests/data, detector/demo) and small hand-made
dumps of each format: byte flips, truncation, splicing, hostile values put into JSON fields,
hostile cells (CSV injection, NUL, right-to-left overrides, emoji, invalid UTF-8, 1970 and 2100,
negative and 30-digit ids), deep nesting, long lines, gzip and zip wrapping and corruption.
Each case is read through sniffing and every reader in a worker process with a time limit; every
``--ingest-every`` cases it is also ingested into a scratch SQLite database that already holds a
good dataset, which must stay unchanged. A failure is an exception that is not a ``CibError``
(crash), a case over the time limit (hang), memory beyond ``--max-rss-mb``, or a changed database.
Each failure's input is written to ``--out`` with what happened.

    python bench/fuzz_readers.py --cases 20000 --seconds 300 --seed 0
    python bench/fuzz_readers.py --engine atheris --seconds 60     # if atheris is installed
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_TEXT = [
    "=cmd|' /C calc'!A0", "+SUM(1+1)*cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\x00", "a\x00b",
    "\u202eevil\u202c", "\u200f\u200e", "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f3f3\ufe0f\u200d\U0001f308", "\x01\x02\x1b[31m\x7f", "\r", "\r\n\r", "\ufeff", "\ud800",
    "1970-01-01T00:00:00Z", "2100-12-31T23:59:59Z", "2101-01-01 00:00", "0001-01-01T00:00:00+05:00",
    "Thu Jan 01 00:00:00 +0000 1970", "Fri Dec 31 23:59:59 +0000 2100", "-1", "-12345",
    "123456789012345678901234567890", "1.23E+18", "0", "", " ", "nan", "Infinity", "[", "['a', {[]: 1}]",
    "['" + "[" * 300 + "']", '"', "'", ",", ";", "|", "\t",
]
REPEATED = ["<a>", "<a ", "</a>", "[", "['", "'", '"', "\\", "#", "@", "http://", "\r", ",", "1", "."]
"""Tokens repeated thousands of times: input that makes a regex or a parser go quadratic."""
HOSTILE_JSON: list[Any] = [
    None, True, 0, -1, -(10 ** 20), 10 ** 30, 1.5e300, "", [], {}, [1, [2]], {"a": {"b": []}},
    *HOSTILE_TEXT,
]
FORMATS = ("twarc2", "v1", "ioarchive", "coortweet", "ira", "csv")


# --- seeds --------------------------------------------------------------------------------------

def _seed_files() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    for path in sorted((ROOT / "tests" / "data").glob("*.csv")):
        seeds[path.name] = b"".join(path.read_bytes().splitlines(keepends=True)[:40])
    for path in sorted((ROOT / "detector" / "demo").glob("*.csv.gz")):
        with gzip.open(path, "rb") as handle:
            seeds[path.name.removesuffix(".gz")] = b"".join(handle.readline() for _ in range(40))
    user = {"id": "2244994945", "username": "dev", "name": "Dev", "created_at": "2013-12-14T04:35:55Z",
            "public_metrics": {"followers_count": 5, "following_count": 1, "tweet_count": 9}}
    tweets = [{"id": str(1460323737035677698 + i), "author_id": "2244994945", "text": f"hello #x @y {i}",
               "created_at": "2021-11-15T19:08:05.000Z", "lang": "en", "source": "<a>App</a>",
               "entities": {"hashtags": [{"tag": "x"}], "mentions": [{"username": "y"}],
                            "urls": [{"expanded_url": "https://e.com"}]},
               "referenced_tweets": [{"type": "retweeted", "id": "1"}]} for i in range(3)]
    page = {"data": tweets, "includes": {"users": [user]}}
    seeds["twarc2.jsonl"] = b"".join(json.dumps(x).encode() + b"\n" for x in (page, page))
    seeds["flat.jsonl"] = b"".join(json.dumps({**t, "author": user}).encode() + b"\n" for t in tweets)
    statuses = [{"id_str": str(850006245121695744 + i), "created_at": "Thu Apr 06 15:24:15 +0000 2017",
                 "text": f"status {i}", "source": "<a href='x'>Web</a>", "lang": "en",
                 "user": {"id_str": "6253282", "screen_name": "api", "name": "API",
                          "followers_count": 1, "friends_count": 2, "statuses_count": 3,
                          "created_at": "Wed May 23 06:01:13 +0000 2007"},
                 "entities": {"hashtags": [{"text": "h"}], "user_mentions": [], "urls": []},
                 "retweeted_status": {"id_str": "1"}} for i in range(3)]
    seeds["v1.jsonl"] = b"".join(json.dumps(s).encode() + b"\n" for s in statuses)
    seeds["v1.json"] = json.dumps(statuses, indent=1).encode()
    seeds["mapped.csv"] = b"id;user;date;body\n1;2;2021-01-01 10:00;hi\n3;4;1609495200;yo\n"
    return seeds


# --- mutations ----------------------------------------------------------------------------------

def _hostile_json_value(rng: random.Random, value: Any) -> Any:
    """Replace one value somewhere inside a parsed JSON document with a hostile one."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        return {**value, key: _hostile_json_value(rng, value[key])}
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        return [*value[:index], _hostile_json_value(rng, value[index]), *value[index + 1:]]
    return _hostile_scalar(rng)


def _hostile_scalar(rng: random.Random) -> Any:
    if rng.random() < 0.2:
        return rng.choice(REPEATED) * rng.choice([1000, 20_000, 100_000])
    return rng.choice(HOSTILE_JSON)


def _json_mutation(rng: random.Random, data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    if not lines:
        return data
    index = rng.randrange(len(lines))
    try:
        parsed = json.loads(lines[index])
    except (ValueError, RecursionError):
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError):
            return data
        changed = json.dumps(_hostile_json_value(rng, parsed), ensure_ascii=rng.random() < 0.5)
        return changed.encode("utf-8", "surrogatepass")
    changed = json.dumps(_hostile_json_value(rng, parsed), ensure_ascii=rng.random() < 0.5)
    lines[index] = changed.encode("utf-8", "surrogatepass") + b"\n"
    return b"".join(lines)


def _csv_mutation(rng: random.Random, data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    if len(lines) < 2:
        return data
    index = rng.randrange(1, len(lines))
    cells = lines[index].rstrip(b"\r\n").split(b",")
    cell = rng.randrange(len(cells))
    hostile = _hostile_scalar(rng)
    cells[cell] = (hostile if isinstance(hostile, str) else json.dumps(hostile)).encode(
        "utf-8", "surrogatepass")
    if rng.random() < 0.3:
        cells[cell] = b'"' + cells[cell].replace(b'"', b'""') + b'"'
    lines[index] = b",".join(cells) + b"\n"
    return b"".join(lines)


def _bytes_mutation(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    choice = rng.randrange(9)
    at = rng.randrange(len(data) + 1)
    if choice == 0:  # flip bytes
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            if out:
                out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if choice == 1:
        return data[:at]
    if choice == 2:
        other = rng.choice(seeds)
        return data[:at] + other[rng.randrange(len(other) + 1):]
    if choice == 3:
        return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]
    if choice == 4:
        return data[:at] + rng.choice([b"\x00", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\r",
                                       b"\x1b", b"\xe2\x80\xae"]) * rng.randint(1, 50) + data[at:]
    if choice == 5:
        depth = rng.choice([100, 1000, 20_000])
        return data[:at] + b"[" * depth + b"]" * rng.choice([0, depth]) + data[at:]
    if choice == 6:  # a long line, sometimes longer than a record may be
        length = rng.choice([70_000, 1 << 20, 3 << 20])
        return data[:at] + rng.choice([b"a", b",", b'"', b"{"]) * length + data[at:]
    if choice == 7:  # duplicate a line: duplicate ids, maybe with different content next
        lines = data.splitlines(keepends=True)
        if lines:
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(lines))
        return b"".join(lines)
    return rng.randbytes(rng.randint(0, 512))


def _wrap(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    choice = rng.random()
    if choice < 0.6:
        return "", data
    if choice < 0.8:
        packed = gzip.compress(data, mtime=0)
        if rng.random() < 0.5:
            cut = rng.randrange(len(packed))
            packed = packed[:cut] if rng.random() < 0.5 else (
                packed[:cut] + bytes([packed[cut] ^ 0xFF]) + packed[cut + 1:])
        return ".gz", packed
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])) as archive:
        archive.writestr("a/dump.txt", data)
        if rng.random() < 0.3:
            archive.writestr("b.jsonl.gz", gzip.compress(data[: len(data) // 2], mtime=0))
    packed = buffer.getvalue()
    if rng.random() < 0.5:
        cut = rng.randrange(len(packed))
        packed = packed[:cut] if rng.random() < 0.5 else (
            packed[:cut] + bytes([packed[cut] ^ 0xFF]) + packed[cut + 1:])
    return ".zip", packed


def make_case(rng: random.Random, seeds: dict[str, bytes]) -> tuple[str, bytes]:
    name = rng.choice(sorted(seeds))
    data = seeds[name]
    for _ in range(rng.choice([1, 1, 2, 3])):
        kind = rng.random()
        if kind < 0.35:
            is_json = name.endswith((".jsonl", ".json"))
            data = _json_mutation(rng, data) if is_json else _csv_mutation(rng, data)
        else:
            data = _bytes_mutation(rng, data, list(seeds.values()))
    suffix, data = _wrap(rng, data)
    return name + suffix, data


# --- one case, in the worker --------------------------------------------------------------------

def _consume(records: Any) -> tuple[int, int]:
    from detector.records import Rejected

    kept = rejected = 0
    for record in records:
        if isinstance(record, Rejected):
            rejected += 1
        else:
            kept += 1
    return kept, rejected


def read_everything(path: Path) -> list[tuple[str, str, int, int]]:
    """``(reader, outcome, records, rejected)`` for sniffing and every reader over ``path``;
    an exception other than a ``CibError`` propagates."""
    from detector.errors import CibError
    from detector.ingest import ColumnMapping, open_dump

    mappings = {
        "csv": ColumnMapping({"post_id": "tweetid", "account_id": "userid",
                              "created_at": "tweet_time", "text": "tweet_text"}),
        "csv-generic": ColumnMapping({"post_id": "id", "account_id": "user", "created_at": "date",
                                      "text": "body"}),
    }
    results = []
    for reader in ("sniffed", *FORMATS[:-1], *mappings):
        fmt = None if reader == "sniffed" else ("csv" if reader in mappings else reader)
        kept = rejected = 0
        outcome = "read"
        try:
            for part in open_dump(path, fmt, mappings.get(reader)):
                if reader == "sniffed":
                    outcome = f"format:{part.format}"
                counts = _consume(part.records)
                kept, rejected = kept + counts[0], rejected + counts[1]
        except CibError as exc:
            outcome = f"error:{exc.code}"
            if path.name.removesuffix(".gz") not in str(exc):  # a gzip file's content is named without .gz
                raise AssertionError(f"{reader}: the error does not name the file: {exc}") from exc
        results.append((reader, outcome, kept, rejected))
    return results


def _digest(engine: Any, dataset_id: int) -> str:
    from detector.store.reader import dataset_digest

    return dataset_digest(engine, dataset_id)


class Scratch:
    """A scratch SQLite database holding one good dataset, to ingest hostile files into."""

    def __init__(self, folder: Path) -> None:
        from detector.load import IngestOptions, ingest_file
        from detector.store import make_engine, migrate

        self.engine = make_engine(f"sqlite:///{folder / 'scratch.db'}")
        migrate(self.engine)
        good = folder / "good.csv"
        good.write_bytes((ROOT / "tests" / "data" / "coortweet_russian_300.csv").read_bytes())
        good_id = ingest_file(self.engine, good, IngestOptions(parallel=False)).dataset_id
        assert good_id is not None
        self.good_id: int = good_id
        self.before = _digest(self.engine, self.good_id)

    def ingest(self, path: Path) -> str:
        from sqlalchemy import text

        from detector.errors import CibError
        from detector.load import IngestOptions, ingest_file

        try:
            report = ingest_file(self.engine, path, IngestOptions(parallel=False, force=True))
            outcome = f"ingest:{report.status}"
            failed = False
        except CibError as exc:
            outcome, failed = f"ingest-error:{exc.code}", True
        with self.engine.connect() as connection:
            bad = connection.execute(text(
                "SELECT count(*) FROM posts JOIN datasets ON posts.dataset_id = datasets.id "
                "WHERE datasets.status <> 'complete'")).scalar_one()
        if bad:
            raise AssertionError(f"{bad} posts left by an unfinished dataset after {outcome}")
        after = _digest(self.engine, self.good_id)
        if after != self.before:
            if not failed:  # a completed file may update an account it shares, by design
                self.before = after
            else:
                raise AssertionError(f"the good dataset changed after {outcome}")
        return outcome


def _worker(connection: Any, folder: str, max_rss_mb: int) -> None:
    limit = max_rss_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit * 4, limit * 4))  # address space, not RSS
    scratch: Scratch | None = None
    work = Path(folder)
    while True:
        message = connection.recv()
        if message is None:
            return
        name, data, ingest = message
        path = work / name
        path.write_bytes(data)
        try:
            results: list[Any] = read_everything(path)
            if ingest:
                scratch = scratch or Scratch(work)
                results.append(("ingest", scratch.ingest(path), 0, 0))
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
            connection.send(("ok", results, rss))
        except BaseException:  # the fuzzer reports everything that escaped, MemoryError too
            connection.send(("crash", traceback.format_exc(), 0))
        finally:
            path.unlink(missing_ok=True)


# --- the driver ---------------------------------------------------------------------------------

class Fuzz:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tried = 0
        self.formats: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.ingests: Counter[str] = Counter()
        self.records = self.rejected = 0
        self.crashes = self.hangs = self.memory = 0
        self.peak_mb = 0
        self.out = Path(args.out)
        self.scratch = tempfile.TemporaryDirectory(prefix="cib-fuzz-")
        self.process: Any = None
        self.pipe: Any = None

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, self.scratch.name,
                                                             self.args.max_rss_mb), daemon=True)
        self.process.start()

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join()

    def save(self, kind: str, name: str, data: bytes, detail: str) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        stem = f"{kind}-{self.tried:06d}-{hashlib.sha256(data).hexdigest()[:10]}"
        (self.out / f"{stem}-{name}").write_bytes(data)
        (self.out / f"{stem}.txt").write_text(f"{kind} on {name} ({len(data)} bytes)\n{detail}\n")
        print(f"{kind.upper()}: case {self.tried} {name}: {detail.strip().splitlines()[-1][:300]}",
              file=sys.stderr)

    def run_case(self, name: str, data: bytes) -> None:
        self.tried += 1
        ingest = self.args.ingest_every > 0 and self.tried % self.args.ingest_every == 0
        self.pipe.send((name, data, ingest))
        if not self.pipe.poll(self.args.timeout):
            self.hangs += 1
            self.save("hang", name, data, f"no answer within {self.args.timeout:g} s")
            self.stop()
            self.start()
            return
        try:
            kind, payload, rss = self.pipe.recv()
        except EOFError:
            self.crashes += 1
            self.save("crash", name, data, f"the worker died (exit code {self.process.exitcode})")
            self.stop()
            self.start()
            return
        if kind == "crash":
            self.crashes += 1
            self.save("crash", name, data, payload)
            return
        self.peak_mb = max(self.peak_mb, rss)
        if rss > self.args.max_rss_mb:
            self.memory += 1
            self.save("memory", name, data, f"peak RSS {rss} MB > {self.args.max_rss_mb} MB")
            self.stop()
            self.start()
        for reader, outcome, kept, rejected in payload:
            self.records += kept
            self.rejected += rejected
            if reader == "sniffed":
                self.formats[outcome.removeprefix("format:")] += 1
            if reader == "ingest":
                self.ingests[outcome] += 1
            elif outcome.startswith("error:"):
                self.errors[outcome.removeprefix("error:")] += 1

    def summary(self, seconds: float) -> int:
        failures = self.crashes + self.hangs + self.memory
        print(f"cases tried: {self.tried} in {seconds:.0f} s (seed {self.args.seed}, "
              f"engine {self.args.engine})")
        print("sniffed as: " + ", ".join(f"{k} {v}" for k, v in self.formats.most_common()))
        print("reader errors by code: " + ", ".join(f"{k} {v}" for k, v in self.errors.most_common()))
        print("ingests: " + (", ".join(f"{k} {v}" for k, v in self.ingests.most_common()) or "none"))
        print(f"records read: {self.records}, rejected records: {self.rejected}")
        print(f"crashes: {self.crashes}, hangs: {self.hangs}, over memory: {self.memory}"
              + (f" (inputs in {self.out})" if failures else ""))
        print(f"peak RSS of the worker: {self.peak_mb} MB")
        print(f"failures: {failures}")
        return 1 if failures else 0


def _mutation_cases(args: argparse.Namespace, fuzz: Fuzz, deadline: float) -> None:
    rng = random.Random(args.seed)
    seeds = _seed_files()
    while fuzz.tried < args.cases and time.monotonic() < deadline:
        fuzz.run_case(*make_case(rng, seeds))


def _atheris_cases(args: argparse.Namespace, fuzz: Fuzz, deadline: float) -> None:
    """atheris picks the bytes (coverage-guided, in this process); the worker still reads them.

    atheris instruments only this process, so its coverage guidance is blind to the worker: it
    is a second source of inputs here, not a replacement for the mutation fuzzer.
    """
    import atheris  # type: ignore[import-not-found,unused-ignore]  # optional: pip install atheris

    def one(data: bytes) -> None:
        if fuzz.tried >= args.cases or time.monotonic() > deadline:
            fuzz.stop()
            code = fuzz.summary(time.monotonic() - (deadline - args.seconds))
            sys.stdout.flush()
            os._exit(code)  # libFuzzer takes SystemExit for a crash of the target
        fuzz.run_case("atheris.bin", data)

    Path(args.out).mkdir(parents=True, exist_ok=True)
    atheris.Setup([sys.argv[0], f"-seed={args.seed}", "-max_len=65536",
                   f"-artifact_prefix={args.out}/"], one)
    atheris.Fuzz()


ENGINES: dict[str, Callable[[argparse.Namespace, Fuzz, float], None]] = {
    "mutation": _mutation_cases, "atheris": _atheris_cases}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000, help="stop after this many cases")
    parser.add_argument("--seconds", type=float, default=300, help="stop after this long")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=20, help="seconds per case before a hang")
    parser.add_argument("--max-rss-mb", type=int, default=1024, help="peak RSS of the worker")
    parser.add_argument("--ingest-every", type=int, default=25, help="ingest every Nth case too")
    parser.add_argument("--engine", choices=sorted(ENGINES), default="mutation")
    parser.add_argument("--out", default="fuzz-failures", help="folder for failing inputs")
    args = parser.parse_args(argv)
    fuzz = Fuzz(args)
    fuzz.start()
    started = time.monotonic()
    try:
        ENGINES[args.engine](args, fuzz, started + args.seconds)
    finally:
        if fuzz.pipe is not None and fuzz.process.is_alive():
            fuzz.pipe.send(None)
            fuzz.process.join(timeout=5)
        fuzz.stop()
    return fuzz.summary(time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
