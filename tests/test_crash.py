"""Crash safety, small: bench/crash.py's own functions SIGKILL `cib ingest`, `cib detect` and
`cib worker` (one run each, early, middle and late), restart them and check the database."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import _postgres_base

# about a minute of cib processes: heavy, run by .ci/run after the default run
pytestmark = [pytest.mark.slow, pytest.mark.heavy]
SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "crash.py"


def crash_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_crash", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_killed_commands_and_worker_leave_a_consistent_database(backend: str, tmp_path: Path) -> None:
    crash = crash_script()
    server = _postgres_base() if backend == "postgres" else crash.DEFAULT_POSTGRES  # skips, saying why
    said: list[str] = []
    outcomes = crash.crash_backend(backend, 3, 0, tmp_path, accounts=150, postgres_url=server,
                                   say=said.append)
    assert sorted(o.target for o in outcomes) == sorted(crash.TARGETS)
    assert sorted(o.band for o in outcomes) == sorted(crash.BANDS)
    assert [o.line() for o in outcomes if o.problems] == [], "\n".join(said)
    assert "failures: 0" in crash.summary(outcomes, 1.0)


def test_the_plan_covers_every_target_and_band_every_three_runs() -> None:
    import random

    crash = crash_script()
    chosen = crash.plan(7, random.Random(0))
    assert len(chosen) == 7
    for start in (0, 3):
        assert {t for t, _ in chosen[start:start + 3]} == set(crash.TARGETS)
        assert {b for _, b in chosen[start:start + 3]} == set(crash.BANDS)
