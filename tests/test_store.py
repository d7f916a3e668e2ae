from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, select, text

from detector.errors import DatabaseError
from detector.records import Post
from detector.store import (
    current_revision_of,
    head_revision,
    make_engine,
    migrate,
    refresh_statistics,
    resolve_url,
)
from detector.store.database import SCHEMA_HEAD, _alembic_config
from detector.store.schema import VIEWS, Base, Views


def _schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def _view_differences(engine: Engine) -> list[str]:
    """How the database's views differ from the models' (``schema.VIEWS``, read through
    ``schema.Views``): alembic's comparison sees tables only."""
    found = []
    with engine.connect() as connection:
        inspector = inspect(connection)
        if set(inspector.get_view_names()) != set(VIEWS):
            found.append(f"views {sorted(inspector.get_view_names())}")
        for name, body in VIEWS.items():
            columns = [c["name"] for c in inspector.get_columns(name)]
            if columns != [c.name for c in Views.metadata.tables[name].columns]:
                found.append(f"{name}: columns {columns}")
            if engine.dialect.name == "sqlite":
                made = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"),
                                          {"n": name}).scalar()
                if made != f"CREATE VIEW {name} AS {body}":
                    found.append(f"{name}: {made}")
    return found


def test_migrations_build_exactly_the_orm_schema(database_url: str) -> None:
    """Every migration replayed on an empty database (what an older database goes through)."""
    engine = make_engine(database_url)
    command.upgrade(_alembic_config(engine), "head")
    assert _schema_differences(engine) == []
    assert _view_differences(engine) == []
    assert current_revision_of(engine) == head_revision()
    engine.dispose()


def test_a_new_database_is_built_at_head_with_the_same_schema(database_url: str) -> None:
    """An empty database gets the models' tables and alembic's stamp at once; alembic then
    sees it at head: upgrading changes nothing, and a later migration would start from there."""
    engine = make_engine(database_url)
    migrate(engine)
    assert current_revision_of(engine) == SCHEMA_HEAD == head_revision()
    assert _schema_differences(engine) == []
    assert _view_differences(engine) == []
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    command.upgrade(_alembic_config(engine), "head")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == tables
        assert connection.execute(text("SELECT COUNT(*) FROM alembic_version")).scalar() == 1
    engine.dispose()


def test_a_database_with_tables_but_no_revision_goes_through_alembic(tmp_path: Path) -> None:
    """Not ours to build over: tables without a revision are left to the migrations, which
    refuse to create a table that exists (the error names it) instead of mixing schemas."""
    engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE posts (id INTEGER PRIMARY KEY)"))
    with pytest.raises(DatabaseError, match="table posts already exists"):
        migrate(engine)
    assert current_revision_of(engine) is None
    engine.dispose()


def test_migrate_twice_is_a_no_op(engine: Engine) -> None:
    migrate(engine)
    assert current_revision_of(engine) == head_revision()


def test_the_known_head_is_the_newest_migration() -> None:
    # a database at SCHEMA_HEAD is opened without alembic: a new migration must move it
    assert head_revision() == SCHEMA_HEAD


def test_a_new_database_has_no_revision_until_migrated(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert current_revision_of(engine) is None
    migrate(engine)
    assert current_revision_of(engine) == SCHEMA_HEAD


@pytest.mark.parametrize("value, expected", [
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_resolve_url(value: str, expected: str) -> None:
    assert resolve_url(value) == expected


def test_resolve_path_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setenv("CIB_DATABASE_URL", "sqlite:///env.db")
    assert resolve_url(None) == "sqlite:///env.db"
    assert resolve_url("other.db").endswith("/other.db")     # --db wins over the variable
    monkeypatch.delenv("CIB_DATABASE_URL")
    assert resolve_url(None) == "sqlite:///cib.db"


def test_unusable_urls_say_so() -> None:
    with pytest.raises(DatabaseError, match="cannot use the database URL"):
        make_engine("nosuchdb://x")
    with pytest.raises(DatabaseError, match="cannot reach"):
        migrate(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"))


def test_a_file_that_is_no_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"not a database, just some text" * 100)
    with pytest.raises(DatabaseError, match=r"cannot reach or update the database .*notes\.db: "
                                            r"file is not a database"):
        migrate(make_engine(f"sqlite:///{path}"))
    assert path.read_bytes() == b"not a database, just some text" * 100


def test_times_come_back_aware_utc(engine: Engine, tmp_path: Path) -> None:
    from dataclasses import replace

    from detector.load import ingest_file
    from detector.store import iter_posts
    from tests.factories import post, write_file

    paris = timezone(timedelta(hours=2))
    local = replace(post(1, text="x"), created_at=datetime(2012, 5, 6, 20, 0, 1, tzinfo=paris))
    ingest_file(engine, write_file(tmp_path / "t.jsonl", "twarc2", [local]))
    (stored,) = list(iter_posts(engine))
    assert stored.created_at == datetime(2012, 5, 6, 18, 0, 1, tzinfo=UTC)
    assert stored.created_at.tzinfo is UTC


def test_every_field_of_a_post_comes_back_in_its_place(engine: Engine) -> None:
    """Each field holds a value no other field holds, so a swap in reading rows back shows."""
    from detector.store import iter_posts
    from detector.store.rows import KnownAccounts, prepare_batch
    from detector.store.writer import finish_dataset, start_dataset, write_batch

    original = Post(platform="twitter", post_id="11", account_id="22",
                    created_at=datetime(2012, 5, 6, 18, 0, 1, 250000, tzinfo=UTC), text="the text",
                    handle="the_handle", repost_of="33", reply_to="44", quote_of="55",
                    urls=("https://a.example/1",), hashtags=("tag",), mentions=("someone",),
                    lang="fr", client="the app")
    dataset = start_dataset(engine, name="one", sha256="f" * 64, size_bytes=1, fmt="twarc2")
    write_batch(engine, dataset, prepare_batch([original], [], [], KnownAccounts(), engine.dialect.name), 0)
    finish_dataset(engine, dataset, "complete")
    assert list(iter_posts(engine)) == [original]


# --- posts stored through COPY on PostgreSQL (detector.store.writer._copy_posts) ----------------

TRICKY_TEXTS = ("tab\there", "new\nline\r\nand return\r", "back\\slash \\\\ two", "\\N", "\\.",
                "\\.\n\\.", "'single' \"double\" `back`", "emoji 🗳️👍🏽 ünïcödé 中文",
                "".join(chr(c) for c in range(1, 32)) + "\x7f\x85\u2028\u2029", "", " ", "NULL",
                "a,b;c|d")


def tricky_posts() -> list[Post]:
    from tests.factories import post

    paris = timezone(timedelta(hours=2))
    posts = [post(n, account=n % 3, seconds=n * 1.000001, text=text, lang=None if n % 2 else "fr",
                  client=None if n % 3 else text[:255], urls=(text, "https://x.example/?a=1&b=\\"),
                  hashtags=() if n % 2 else (text, "#"), mentions=(),
                  repost_of=None if n % 4 else "123", reply_to=text[:128] or None)
             for n, text in enumerate(TRICKY_TEXTS)]
    posts.append(Post("twitter", "tz", "9", datetime(2012, 5, 6, 20, 0, 1, 999999, tzinfo=paris),
                      text="\\N", handle="\t\\N"))
    posts.append(Post("twitter", "bare", "9", datetime(1970, 1, 1, tzinfo=UTC)))
    return posts


def _write(engine: Engine, posts: list[Post], copy: bool, monkeypatch: pytest.MonkeyPatch,
           dataset_id: int | None = None) -> tuple[int, object]:
    from detector.store import writer
    from detector.store.rows import KnownAccounts, prepare_batch

    monkeypatch.setattr(writer, "COPY_ON_POSTGRES", copy)
    if dataset_id is None:
        dataset_id = writer.start_dataset(engine, name="t", sha256="0" * 64, size_bytes=1, fmt="t")
    batch = prepare_batch(posts, [], [], KnownAccounts(), engine.dialect.name)
    return dataset_id, writer.write_batch(engine, dataset_id, batch, 0)


def _stored(engine: Engine) -> list[tuple[object, ...]]:
    """Every column of every post and account, JSON columns as their stored text."""
    from sqlalchemy import text

    from detector.store.rows import ACCOUNT_COLUMNS, POST_COLUMNS

    json_columns = ("urls", "hashtags", "mentions")
    columns = ", ".join(f"{c}::text" if c in json_columns else c for c in POST_COLUMNS)
    with engine.connect() as connection:
        posts = connection.execute(text(f"SELECT id, {columns}, dataset_id FROM posts ORDER BY id"))
        accounts = connection.execute(text(
            f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM accounts ORDER BY platform, account_id"))
        return [tuple(r) for r in posts] + [tuple(r) for r in accounts]


@pytest.fixture
def two_postgres(postgres_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two migrated engines on two fresh schemas of the configured PostgreSQL."""
    from sqlalchemy import text

    from tests.conftest import _postgres_base

    base, schema = _postgres_base(), f"cib_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    engines = (make_engine(postgres_url),
               make_engine(f"{base}{separator}options={quote(f'-csearch_path={schema}')}"))
    for engine in engines:
        migrate(engine)
    yield engines
    for engine in engines:
        engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.mark.postgres
def test_copy_stores_exactly_what_executemany_stores(two_postgres: tuple[Engine, Engine],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    by_copy, by_rows = two_postgres
    posts = tricky_posts()
    for engine, copy in ((by_copy, True), (by_rows, False)):
        dataset_id, _ = _write(engine, posts[:5], copy, monkeypatch)
        _write(engine, posts[3:], copy, monkeypatch, dataset_id)   # 2 already stored
    copied, inserted = _stored(by_copy), _stored(by_rows)
    assert copied == inserted
    assert len(copied) == len(posts) + 4                            # posts, then accounts
    texts = {row[1 + 5] for row in copied[:len(posts)]}
    assert set(TRICKY_TEXTS) <= texts
    from detector.store import iter_posts
    from detector.store.writer import finish_dataset

    finish_dataset(by_copy, 1, "complete")
    assert sorted(iter_posts(by_copy), key=lambda p: p.post_id) == sorted(posts, key=lambda p: p.post_id)


@pytest.mark.parametrize("copy", [True, False])
def test_duplicates_within_a_batch_and_against_stored_posts(engine: Engine, copy: bool,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from detector.store import writer
    from detector.store.rows import KnownAccounts, PreparedBatch, post_row, prepare_batch, time_param
    from tests.factories import post

    if engine.dialect.name == "sqlite" and not copy:
        pytest.skip("SQLite has one path")
    monkeypatch.setattr(writer, "COPY_ON_POSTGRES", copy)
    time = time_param(engine.dialect.name)
    first = [post(n, text=f"first {n}") for n in range(4)]
    dataset_id = writer.start_dataset(engine, name="t", sha256="0" * 64, size_bytes=1, fmt="t")
    # rows reach the writer unique per batch (prepare_batch), but the writer must not rely on it
    rows = [post_row(p, time) for p in [*first, replace(first[1], text="again"), first[2]]]
    result = writer.write_batch(engine, dataset_id, PreparedBatch(posts=rows, read_posts=6), 0)
    assert result == writer.BatchResult(stored=4, duplicates=2)
    later = [replace(first[0], text="later"), post(9, text="new"), replace(first[3], text="x")]
    batch = prepare_batch(later, [], [], KnownAccounts(), engine.dialect.name)
    assert writer.write_batch(engine, dataset_id, batch, 0) == writer.BatchResult(stored=1, duplicates=2)
    stored = _stored_texts(engine)
    assert stored == ["first 0", "first 1", "first 2", "first 3", "new"]   # the first one wins
    with engine.connect() as connection:
        counts = connection.execute(select(writer.DATASETS.c.read, writer.DATASETS.c.stored,
                                           writer.DATASETS.c.duplicates)).one()
    assert tuple(counts) == (9, 5, 4)


def _stored_texts(engine: Engine) -> list[str]:
    from detector.store import writer

    with engine.connect() as connection:
        return list(connection.execute(select(writer.POSTS.c.text).order_by(writer.POSTS.c.id)).scalars())


@pytest.mark.postgres
@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("refused", ["too long for the column", "NULL in a NOT NULL column"])
def test_a_refused_batch_changes_nothing_and_the_next_one_works(
        postgres_url: str, copy: bool, refused: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from detector.store import writer
    from detector.store.rows import KnownAccounts, prepare_batch
    from tests.factories import post

    engine = make_engine(postgres_url)
    migrate(engine)
    monkeypatch.setattr(writer, "COPY_ON_POSTGRES", copy)
    dataset_id = writer.start_dataset(engine, name="t", sha256="0" * 64, size_bytes=1, fmt="t")

    def batch(numbers: range, bad: bool = False) -> writer.PreparedBatch:
        posts = [post(n, account=n, text=f"t{n}") for n in numbers]
        if bad and refused.startswith("too long"):     # COPY itself refuses it
            posts[-1] = replace(posts[-1], platform="x" * 33)
        prepared = prepare_batch(posts, [], [], KnownAccounts(), "postgresql")
        if bad and refused.startswith("NULL"):         # the staging table takes it, the INSERT not
            prepared.posts[-1] = (*prepared.posts[-1][:5], None, *prepared.posts[-1][6:])
        return prepared

    def state() -> tuple[object, ...]:
        texts = _stored_texts(engine)                  # one connection at a time: one session
        with engine.connect() as connection:
            return (texts, tuple(connection.execute(text(
                "SELECT read, stored, duplicates FROM datasets")).one()),
                connection.execute(text("SELECT count(*) FROM accounts")).scalar_one())

    def backend() -> int:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    pid = backend()
    with pytest.raises(DBAPIError):                    # first batch of the session: creates the table
        writer.write_batch(engine, dataset_id, batch(range(0, 3), bad=True), 0)
    assert state() == ([], (0, 0, 0), 0)
    assert writer.write_batch(engine, dataset_id, batch(range(0, 3)), 0).stored == 3
    before = state()
    with pytest.raises(DBAPIError):
        writer.write_batch(engine, dataset_id, batch(range(3, 6), bad=True), 0)
    assert state() == before
    if copy:
        with engine.connect() as connection:
            assert connection.execute(text(f"SELECT count(*) FROM {writer.STAGING}")).scalar_one() == 0
    result = writer.write_batch(engine, dataset_id, batch(range(2, 5)), 0)
    assert result == writer.BatchResult(stored=2, duplicates=1)
    assert state() == (["t0", "t1", "t2", "t3", "t4"], (6, 5, 1), 5)
    assert backend() == pid                            # all on one session: its staging table
    engine.dispose()


@pytest.mark.postgres
def test_ingest_file_stores_the_same_posts_on_postgres_and_sqlite(
        postgres_url: str, tmp_path: Path) -> None:
    from detector.load import ingest_file
    from detector.store import iter_posts
    from tests.factories import sample_posts, write_file

    posts = [*sample_posts(), *(p for p in tricky_posts() if p.platform == "twitter"
                                and p.post_id not in ("tz", "bare"))]
    dump = write_file(tmp_path / "d.jsonl", "twarc2", posts)
    found = []
    for url in (f"sqlite:///{tmp_path / 'cib.db'}", postgres_url):
        engine = make_engine(url)
        migrate(engine)
        report = ingest_file(engine, dump)
        assert report.status == "complete"
        found.append((sorted(iter_posts(engine), key=lambda p: p.post_id), report.read,
                      report.stored, report.duplicates, report.rejected))
        engine.dispose()
    assert found[0] == found[1]
    assert found[0][1:] == (len(posts), len(posts) - 1, 0, 1)  # the reader refuses a blank id
    assert len(found[0][0]) == len(posts) - 1


def test_refreshing_statistics_waits_for_a_writer_instead_of_failing(tmp_path: Path) -> None:
    """``PRAGMA optimize`` reads, then writes: it takes SQLite's write lock first, waiting for a
    writer (a job's heartbeat) as any write does, so that none commits in between (which
    failed it at once, "database is locked")."""
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE datasets SET name = name")
    threading.Timer(0.5, writer.execute, ("COMMIT",)).start()
    start = time.monotonic()
    refresh_statistics(engine)
    assert time.monotonic() - start >= 0.4      # it waited for the writer's commit
    writer.close()
    engine.dispose()
