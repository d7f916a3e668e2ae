"""Shared fixtures: real databases (an SQLite file, and PostgreSQL when a URL is configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from detector.store import make_engine, migrate

POSTGRES_VARIABLE = "CIB_TEST_POSTGRES_URL"
DATA = Path(__file__).parent / "data"

# Property tests draw the same examples on every run, so CI cannot fail by luck of the draw;
# HYPOTHESIS_PROFILE=explore draws new ones (bench/fuzz_readers.py explores at volume).
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


def _postgres_base() -> str:
    url = os.environ.get(POSTGRES_VARIABLE)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_VARIABLE}, e.g. "
                    "postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run sets it)")
    return url


@pytest.fixture(autouse=True)
def rule_scorer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests written against the rule's numbers keep them; tests/test_model.py loads models."""
    monkeypatch.setenv("CIB_MODEL", "rule")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh, empty schema of the configured PostgreSQL, dropped afterwards."""
    base = _postgres_base()
    schema = f"cib_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on an SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cib.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()
