"""insert_many and insert_rows: rows in multi-row statements or COPY, on SQLite and PostgreSQL,
with hand-made rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from detector.store import bulk
from detector.store.schema import AccountScoreRow, CampaignRow, DetectionRow


def _table(engine: Engine) -> None:
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE bulk_t (id INTEGER PRIMARY KEY, name TEXT, tag TEXT, "
                          "seen INTEGER DEFAULT 0)")


def _rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text("SELECT id, name, tag, seen FROM bulk_t ORDER BY id"))]


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 250])
def test_every_row_lands_once_in_order_whatever_the_count(engine: Engine, count: int) -> None:
    """Full statements of 100 rows and a shorter last one: nothing lost, nothing doubled."""
    _table(engine)
    rows = [(i, f"n{i}") for i in range(count)]
    with engine.begin() as c:
        changed = bulk.insert_many(c, "INSERT INTO bulk_t (id, name, tag)", rows, row="(?, ?, 'x')")
    assert changed == count
    assert _rows(engine) == [(i, f"n{i}", "x", 0) for i in range(count)]


def test_a_conflict_keeps_the_first_row_and_is_not_counted(engine: Engine) -> None:
    _table(engine)
    rows = [(1, "first"), (2, "two"), (1, "second"), (3, "three")]
    with engine.begin() as c:
        changed = bulk.insert_many(c, "INSERT INTO bulk_t (id, name)", rows, row="(?, ?)",
                                   tail="ON CONFLICT (id) DO NOTHING")
    assert changed == 3
    assert [(r[0], r[1]) for r in _rows(engine)] == [(1, "first"), (2, "two"), (3, "three")]


def test_an_upsert_within_one_statement_sees_the_earlier_row(engine: Engine) -> None:
    _table(engine)
    rows = [(1, "a"), (1, "b"), (2, "c")]
    with engine.begin() as c:
        bulk.insert_many(c, "INSERT INTO bulk_t (id, name)", rows, row="(?, ?)",
                         tail="ON CONFLICT (id) DO UPDATE SET name = excluded.name, seen = bulk_t.seen + 1")
    assert _rows(engine) == [(1, "b", None, 1), (2, "c", None, 0)]


def test_wide_rows_stay_under_the_bound_on_variables(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row of many values gets fewer rows per statement: SQLite refuses more ? than its bound."""
    monkeypatch.setattr(bulk, "MAX_VARIABLES", 5)
    _table(engine)
    rows = [(i, f"n{i}", "t") for i in range(7)]
    with engine.begin() as c:
        assert bulk.insert_many(c, "INSERT INTO bulk_t (id, name, tag)", rows, row="(?, ?, ?)") == 7
    assert len(_rows(engine)) == 7


def test_a_failing_row_rolls_the_whole_transaction_back(engine: Engine) -> None:
    """A conflict in the second statement undoes the first statement's 100 rows too."""
    _table(engine)
    rows = [(i, "x") for i in range(150)] + [(120, "again")]
    with pytest.raises(IntegrityError), engine.begin() as c:
        bulk.insert_many(c, "INSERT INTO bulk_t (id, name)", rows, row="(?, ?)")
    assert _rows(engine) == []


def _campaign(detection: int, number: int, **values: Any) -> dict[str, Any]:
    moment = datetime(2011, 10, 13, 21, 30, 5, 123456, tzinfo=UTC)
    return {"detection_id": detection, "campaign_id": f"n{number}", "rank": number, "kind": "relay",
            "score": 0.5, "size": 3, "start": moment, "end": moment + timedelta(minutes=2),
            "signals": ["text", "link"], "events": 2, "representative_text": "l'appel du 18 juin",
            "features": {"burst": 1.25, "gone": None, "tiny": 1e-300}} | values


def _stored(engine: Engine, detection: int) -> list[dict[str, Any]]:
    table = CampaignRow.__table__
    with engine.connect() as c:
        rows = c.execute(select(table).where(table.c.detection_id == detection).order_by(table.c.rank))
        return [{k: v for k, v in row._mapping.items() if k not in ("id", "detection_id")} for row in rows]


def test_rows_inserted_in_bulk_read_back_as_the_orm_stores_them(engine: Engine) -> None:
    """Reserved words as column names (rank, start, end), UTC times, JSON with a null and a tiny
    float, an empty text: what the ORM's insert stores, and in the order given."""
    table = CampaignRow.__table__
    with engine.begin() as c:
        ids = [c.execute(DetectionRow.__table__.insert().values(
            created_at=datetime.now(UTC), params={}, versions={}, datasets=[], counts={}))
            .inserted_primary_key[0] for _ in range(2)]
        rows = [_campaign(0, n, representative_text="" if n == 2 else "x") for n in range(1, 4)]
        c.execute(table.insert(), [row | {"detection_id": ids[0]} for row in rows])
        bulk.insert_rows(c, table, [row | {"detection_id": ids[1]} for row in rows])
        bulk.insert_rows(c, table, [])
    orm, fast = _stored(engine, ids[0]), _stored(engine, ids[1])
    assert [r["campaign_id"] for r in fast] == ["n1", "n2", "n3"]
    assert fast == orm
    assert fast[0]["start"] == datetime(2011, 10, 13, 21, 30, 5, 123456, tzinfo=UTC)


def test_a_bad_row_in_bulk_raises_as_the_orm_would_and_stores_nothing(engine: Engine) -> None:
    table = CampaignRow.__table__
    with pytest.raises(IntegrityError), engine.begin() as c:
        bulk.insert_rows(c, table, [_campaign(10**6, 1)])        # no such detection
    with engine.connect() as c:
        assert c.execute(select(table)).first() is None


def test_a_json_none_in_bulk_is_stored_as_the_orm_stores_it(engine: Engine) -> None:
    """A JSON column given None holds JSON null, not SQL NULL, either way."""
    table = AccountScoreRow.__table__
    with engine.begin() as c:
        detection = c.execute(DetectionRow.__table__.insert().values(
            created_at=datetime.now(UTC), params={}, versions={}, datasets=[], counts={})
        ).inserted_primary_key[0]
        rows = [{"detection_id": detection, "platform": "twitter", "account_id": str(n), "score": 0.5,
                 "threshold": 0.5, "flagged": n == 1, "campaign_id": None, "subscores": {"text": 0.5},
                 "features": {}, "explanation": None} for n in range(2)]
        c.execute(table.insert(), rows[:1])
        bulk.insert_rows(c, table, rows[1:])
        stored = c.execute(select(table.c.account_id, table.c.explanation.is_(None), table.c.flagged,
                                  table.c.campaign_id).order_by(table.c.account_id)).all()
    assert [tuple(row) for row in stored] == [("0", False, False, None), ("1", False, True, None)]
