"""Engines and schema migrations. The only place that knows database URLs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.exc import DatabaseError as DriverDatabaseError

if TYPE_CHECKING:   # alembic takes a fifth of a second to import: only a migration needs it
    from alembic.config import Config

from detector.errors import DatabaseError

DEFAULT_URL = "sqlite:///cib.db"
URL_VARIABLE = "CIB_DATABASE_URL"
MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_HEAD = "0010"
"""The newest migration's revision (``head_revision()``, which a test holds it to): a database
already there is opened without importing alembic."""


def resolve_url(value: str | None = None) -> str:
    """``--db`` (a URL or a file path), else ``$CIB_DATABASE_URL``, else ``./cib.db``."""
    raw = value or os.environ.get(URL_VARIABLE) or DEFAULT_URL
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser().resolve()}"
    if raw.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # secure_delete: deleted posts are overwritten in the file, not left in its free pages
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "busy_timeout=30000", "temp_store=MEMORY", "cache_size=-65536", "secure_delete=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def flush_deleted(engine: Engine) -> bool:
    """After deleting posts: on SQLite, copy the write-ahead log into the file and empty it, so
    the old pages that held them are gone from disk too (``secure_delete`` zeroes them in the
    file). True when it finished; a busy database (a long read) leaves it to the next time.
    PostgreSQL's autovacuum reclaims deleted rows on its own (``VACUUM`` forces it)."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
    return busy is None or not busy[0]


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (see ``resolve_url``); SQLite gets WAL and foreign keys."""
    try:
        parsed = make_url(url)
        engine = create_engine(parsed, future=True, pool_pre_ping=parsed.drivername != "sqlite")
    except (ArgumentError, ValueError, ImportError) as exc:
        raise DatabaseError(f"cannot use the database URL {url!r}: {exc}. Give a file path, "
                            "sqlite:///FILE or postgresql+psycopg://USER@HOST/DB") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration's revision, as alembic reads the migration scripts."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision_of(engine: Engine) -> str | None:
    """The database's schema revision (alembic's ``alembic_version``), None before the first."""
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, ProgrammingError):    # no such table: a new database
            return None


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest migration; safe to call on every start.

    A database with no table at all gets the models' schema at once and is stamped at
    ``SCHEMA_HEAD``, as alembic's cookbook builds a new database ("create_all, then stamp
    head"): the same schema (a test compares both with the models), without importing alembic
    or replaying every migration (0.2 s of each first ``cib ingest``).
    """
    try:
        revision = current_revision_of(engine)
        if revision == SCHEMA_HEAD:
            return
        if revision is None and _create_at_head(engine):
            return
        from alembic import command

        command.upgrade(_alembic_config(engine), "head")
    except DriverDatabaseError as exc:  # unreachable, refused, or a file that is no database
        raise DatabaseError(f"cannot reach or update the database "
                            f"{engine.url.render_as_string(hide_password=True)}: {exc.orig}. Give "
                            "a database cib made, a new file name, or a reachable server") from exc


def _create_at_head(engine: Engine) -> bool:
    """Create every table of the models and stamp the database at ``SCHEMA_HEAD``, in one
    transaction, if it has no table at all; False (nothing done) otherwise."""
    from detector.store.schema import Base

    with engine.begin() as connection:
        if inspect(connection).get_table_names():
            return False                # tables but no revision: let alembic say what is wrong
        Base.metadata.create_all(connection)
        # alembic's own version table, as `alembic stamp` writes it
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                           {"head": SCHEMA_HEAD})
    return True


ANALYSIS_LIMIT = 1000


def refresh_statistics(engine: Engine) -> None:
    """Let the query planner see the new row counts after a big write (a detection run):
    ``PRAGMA optimize`` on SQLite, ``ANALYZE`` on PostgreSQL (both sample; seconds at most).
    SQLite's reads at most ``ANALYSIS_LIMIT`` rows of each index, as its manual advises: else
    it reads whole tables that every run makes longer (1.3 s of an incremental run at 3M posts).

    On SQLite the write lock is taken first (``BEGIN IMMEDIATE``, waiting as long as any write
    does): ``PRAGMA optimize`` reads, then writes its statistics, and a write committed in
    between (a job's heartbeat) made it fail at once with "database is locked", failing a job
    whose run was already stored."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.exec_driver_sql(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
            connection.exec_driver_sql("PRAGMA optimize")
            connection.commit()
    elif engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


def open_database(value: str | None = None) -> Engine:
    """Resolve, connect and migrate: what every command does first."""
    engine = make_engine(resolve_url(value))
    migrate(engine)
    return engine
