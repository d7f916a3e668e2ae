from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from detector.errors import DatabaseError
from detector.store import current_revision_of, head_revision, make_engine, migrate, resolve_url
from detector.store.schema import Base


def test_migrations_build_exactly_the_orm_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision_of(engine) == head_revision()


def test_migrate_twice_is_a_no_op(engine: Engine) -> None:
    migrate(engine)
    assert current_revision_of(engine) == head_revision()


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
