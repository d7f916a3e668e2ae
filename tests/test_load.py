"""Ingest into a real database (SQLite file and PostgreSQL): counts, idempotence, failure, resume."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from detector.errors import BadRecord, CorruptDump, UnknownDumpFormat
from detector.load import IngestOptions, ingest_file
from detector.store import datasets, iter_posts, rejections, stats
from detector.store.lookup import unindexed_posts, update_lookup_index
from detector.store.schema import PostRow
from tests.factories import index_contents, post, render, sample_posts, write_file


@pytest.fixture(params=[False, True], ids=["in-process", "reader-process"])
def parallel(request: pytest.FixtureRequest) -> bool:
    """Ingest paths that must behave the same: parsing here, or in a child reader process."""
    return bool(request.param)


def post_ids(engine: Engine) -> list[str]:
    with engine.connect() as c:
        return list(c.execute(select(PostRow.post_id).order_by(PostRow.post_id)).scalars())


def many_posts(count: int, start: int = 0) -> list:  # type: ignore[type-arg]
    return [post(n, account=n % 17, seconds=n, text=f"message {n}") for n in range(start, start + count)]


def test_ingest_stores_posts_accounts_and_a_complete_dataset(engine: Engine, tmp_path: Path) -> None:
    path = write_file(tmp_path / "dump.jsonl.gz", "twarc2", sample_posts(), compress=True)
    report = ingest_file(engine, path)
    assert (report.status, report.format, report.read, report.stored, report.duplicates,
            report.rejected) == ("complete", "twarc2", 6, 6, 0, 0)
    s = stats(engine)
    assert (s.posts, s.accounts, s.datasets, s.complete_datasets) == (6, 4, 1, 1)
    (row,) = datasets(engine)
    assert row.status == "complete" and row.name == "dump.jsonl.gz" and row.finished_at
    assert list(iter_posts(engine)) == sample_posts()      # round trip, times and lists included


def test_same_file_twice_is_skipped_and_forced_adds_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write_file(tmp_path / "d.jsonl", "v1", sample_posts())
    ingest_file(engine, path)
    again = ingest_file(engine, path)
    assert again.status == "skipped"
    forced = ingest_file(engine, path, IngestOptions(force=True))
    assert (forced.status, forced.stored, forced.duplicates) == ("complete", 0, 6)
    assert stats(engine).posts == 6


def test_overlapping_files_in_other_formats_add_no_duplicates(engine: Engine, tmp_path: Path) -> None:
    posts = many_posts(30)
    first = ingest_file(engine, write_file(tmp_path / "a.jsonl", "twarc2", posts[:20]))
    second = ingest_file(engine, write_file(tmp_path / "b.csv", "ioarchive", posts[10:]))
    assert (first.stored, second.stored, second.duplicates) == (20, 10, 10)
    assert post_ids(engine) == sorted(p.post_id for p in posts)


def test_duplicates_inside_one_batch_and_across_batches(engine: Engine, tmp_path: Path,
                                                        parallel: bool) -> None:
    posts = many_posts(10)
    path = write_file(tmp_path / "dup.jsonl", "v1", posts + posts[:4] + posts[:1])
    report = ingest_file(engine, path, IngestOptions(batch_size=3, parallel=parallel))
    assert (report.read, report.stored, report.duplicates) == (15, 10, 5)
    assert len(post_ids(engine)) == 10


def test_bad_records_are_counted_and_kept_by_line(engine: Engine, tmp_path: Path,
                                                  parallel: bool) -> None:
    lines = render("v1", many_posts(5)).splitlines()
    lines.insert(2, '{"id_str": "1.5e18", "user": {"id_str": "1"}}')
    lines.insert(4, "not json at all")
    path = tmp_path / "some-bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = ingest_file(engine, path, IngestOptions(parallel=parallel))
    assert (report.status, report.stored, report.rejected, report.read) == ("complete", 5, 2, 7)
    kept = rejections(engine, report.dataset_id)  # type: ignore[arg-type]
    assert [(r.line, r.field) for r in kept] == [(3, "id_str"), (5, "(json)")]
    assert all(r.source == "some-bad.jsonl" for r in kept)


def test_strict_refuses_the_file_and_keeps_what_was_there(engine: Engine, tmp_path: Path,
                                                          parallel: bool) -> None:
    ingest_file(engine, write_file(tmp_path / "good.jsonl", "v1", many_posts(5)))
    lines = render("v1", many_posts(40, start=5)).splitlines()
    lines.insert(35, "{broken")
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadRecord, match=r"bad\.jsonl, line 36"):
        ingest_file(engine, path, IngestOptions(strict=True, batch_size=10, parallel=parallel))
    assert len(post_ids(engine)) == 5          # the 30 posts of earlier batches were taken back
    good, bad = datasets(engine)
    assert (good.status, bad.status) == ("complete", "failed") and "line 36" in (bad.error or "")


def relayed_posts(count: int, start: int = 0) -> list:  # type: ignore[type-arg]
    """Posts of a few texts long enough to index, each repeated by several accounts."""
    return [post(n, account=n % 17, seconds=n, text=f"Vote for the candidate who speaks of district {n % 4} "
                                                   "and of its schools")
            for n in range(start, start + count)]


def test_an_ingest_leaves_the_lookup_index_to_detection(engine: Engine, tmp_path: Path,
                                                         parallel: bool) -> None:
    posts = relayed_posts(30) + many_posts(4, start=200) + relayed_posts(3)   # duplicates too
    report = ingest_file(engine, write_file(tmp_path / "d.jsonl", "twarc2", posts),
                         IngestOptions(batch_size=7, parallel=parallel))
    assert (report.stored, report.duplicates) == (34, 3)
    assert index_contents(engine) == ([], [])
    assert unindexed_posts(engine) == 34
    assert update_lookup_index(engine) == 34           # every stored post has text of its own
    assert unindexed_posts(engine) == 0


def test_a_failed_ingest_leaves_the_index_as_it_was(engine: Engine, tmp_path: Path, parallel: bool) -> None:
    ingest_file(engine, write_file(tmp_path / "good.jsonl", "v1", relayed_posts(5)))
    update_lookup_index(engine)
    before = index_contents(engine)
    lines = render("v1", relayed_posts(40, start=5) + many_posts(5, start=300)).splitlines()
    lines.insert(35, "{broken")
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadRecord):
        ingest_file(engine, path, IngestOptions(strict=True, batch_size=10, parallel=parallel))
    assert index_contents(engine) == before and len(before[0]) == 5
    assert unindexed_posts(engine) == 0                 # the failed dataset's posts are gone


def test_truncated_gzip_midway_fails_cleanly(engine: Engine, tmp_path: Path, parallel: bool) -> None:
    before = write_file(tmp_path / "before.jsonl", "twarc2", many_posts(3, start=1000))
    ingest_file(engine, before)
    data = gzip.compress(render("twarc2", many_posts(12000)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: int(len(data) * 0.8)])
    batches = []
    with pytest.raises(CorruptDump, match=r"cut\.jsonl\.gz"):
        ingest_file(engine, path, IngestOptions(batch_size=500, parallel=parallel), batches.append)
    assert batches                             # some batches were committed, then taken back
    assert len(post_ids(engine)) == 3
    assert [d.status for d in datasets(engine)] == ["complete", "failed"]


def test_a_failed_file_puts_accounts_back_as_they_were(engine: Engine, tmp_path: Path) -> None:
    """Its batches renamed an account and created others before it failed: all taken back."""
    ingest_file(engine, write_file(tmp_path / "before.jsonl", "twarc2", many_posts(3, start=1000)))
    with engine.connect() as c:
        before = sorted(c.execute(text("SELECT * FROM accounts")).all())
    renamed = [replace(p, handle="someone-else") for p in many_posts(12000)]
    data = gzip.compress(render("twarc2", renamed).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(CorruptDump):
        ingest_file(engine, path, IngestOptions(batch_size=500, parallel=False))
    with engine.connect() as c:
        assert sorted(c.execute(text("SELECT * FROM accounts")).all()) == before
        assert c.execute(text("SELECT COUNT(*) FROM account_undo")).scalar() == 0
    # a file that completes keeps its changes and leaves no undo rows behind
    ingest_file(engine, write_file(tmp_path / "after.jsonl", "twarc2", renamed[:40]))
    with engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM accounts WHERE handle = 'someone-else'")).scalar() == 17
        assert c.execute(text("SELECT COUNT(*) FROM account_undo")).scalar() == 0


def test_not_a_dump_creates_no_dataset(engine: Engine, tmp_path: Path, parallel: bool) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html><body>Sign in</body></html>")
    with pytest.raises(UnknownDumpFormat, match=r"page\.html"):
        ingest_file(engine, path, IngestOptions(parallel=parallel))
    assert stats(engine).datasets == 0


def test_ctrl_c_leaves_the_dataset_unfinished_and_the_rerun_completes(
        engine: Engine, tmp_path: Path, parallel: bool) -> None:
    posts = many_posts(100)
    path = write_file(tmp_path / "big.jsonl", "twarc2", posts)
    seen = []

    def interrupt(count: int) -> None:
        seen.append(count)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_file(engine, path, IngestOptions(batch_size=10, parallel=parallel), interrupt)
    (row,) = datasets(engine)
    assert row.status == "interrupted" and stats(engine).complete_datasets == 0
    assert list(iter_posts(engine)) == []      # unfinished datasets are not read downstream
    report = ingest_file(engine, path, IngestOptions(batch_size=10))
    assert (report.status, report.dataset_id, report.stored, report.duplicates) == (
        "complete", row.id, 100, 0)
    assert len(post_ids(engine)) == 100 and len(datasets(engine)) == 1


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from detector.load import IngestOptions, ingest_file
    from detector.store import open_database
    batches = []
    def die(n):
        batches.append(n)
        if len(batches) == 4:
            os.kill(os.getpid(), signal.SIGKILL)
    options = IngestOptions(batch_size=50, parallel=sys.argv[3] == "True")
    ingest_file(open_database(sys.argv[1]), Path(sys.argv[2]), options, die)
""")


def _processes_mentioning(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_sigkill_mid_ingest_then_rerun(database_url: str, engine: Engine, tmp_path: Path,
                                       parallel: bool) -> None:
    path = write_file(tmp_path / "k.jsonl", "v1", many_posts(500))
    done = subprocess.run([sys.executable, "-c", KILLER, database_url, str(path), str(parallel)],
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
                          capture_output=True, text=True)
    assert done.returncode == -9, done.stderr
    (row,) = datasets(engine)
    assert row.status == "running" and 0 < len(post_ids(engine)) < 500
    report = ingest_file(engine, path)
    assert (report.status, report.stored) == ("complete", 500)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(PostRow)).scalar_one() == 500
    deadline = time.monotonic() + 15        # an orphaned reader process notices and leaves
    while _processes_mentioning(str(path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(path)) == []


def test_real_dumps_load(engine: Engine) -> None:
    data = Path(__file__).parent / "data"
    ira = ingest_file(engine, data / "ira_200.csv")
    coortweet = ingest_file(engine, data / "coortweet_russian_300.csv")
    assert (ira.format, ira.stored, ira.rejected) == ("ira", 200, 0)
    assert (coortweet.format, coortweet.stored, coortweet.rejected) == ("coortweet", 300, 0)
    assert stats(engine).posts == 500
