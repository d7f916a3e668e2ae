"""Privacy through the service: pseudonymized uploads, a DELETE that leaves no trace of the posts
in the database file, and the retention purge run by the worker."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from api.worker import queue_purge
from detector.privacy import Pseudonymizer
from detector.store import flush_deleted
from detector.store.jobs import get_job
from tests.factories import post, render
from tests.live import Service, service, settings_for
from tests.test_detect import hand_made

MARKER = "Zyxqv marker relay text nobody else writes, vote Zyxqv tonight"
KEY = Pseudonymizer(bytes(range(100, 132)))


def marker_relay() -> list[Any]:
    """20 accounts post the marker text within two minutes, a week after hand_made()."""
    return [post(9000 + i, account=700 + i, seconds=7 * 86400 + i * 6, text=f"{MARKER} {i}")
            for i in range(20)]


def _upload(api: Service, posts: list[Any], name: str) -> dict[str, Any]:
    answer = api.client.post("/v1/datasets", files={"file": (name, render("twarc2", posts).encode())},
                             headers=api.as_("upload"))
    assert answer.status_code == 202, answer.text
    job = api.wait(answer.json())
    assert job["state"] == "done", job
    return job


def _file_bytes(database: Path) -> bytes:
    wal = database.with_name(database.name + "-wal")
    return database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_delete_leaves_no_copy_of_the_posts_in_the_database_file(tmp_path: Path) -> None:
    database = tmp_path / "cib.db"
    with service(settings_for(f"sqlite:///{database}", tmp_path)) as api:
        _upload(api, hand_made(), "hand.jsonl")
        marker_job = _upload(api, marker_relay(), "marker.jsonl")
        campaigns = api.client.get("/v1/campaigns", headers=api.as_("read")).json()
        assert any("Zyxqv" in c["representative_text"] for c in campaigns["items"])
        assert MARKER.encode() in _file_bytes(database)

        answer = api.client.delete(f"/v1/datasets/{marker_job['dataset_id']}", headers=api.as_("admin"))
        job = api.wait(answer.json())
        assert job["state"] == "done" and job["stored"] == 20
        campaigns = api.client.get("/v1/campaigns", headers=api.as_("read")).json()
        assert campaigns["total"] == 2  # the relay and the ring of hand_made() are still there
        assert not any("Zyxqv" in c["representative_text"] for c in campaigns["items"])
        with api.engine.connect() as c:
            assert c.execute(text("SELECT COUNT(*) FROM posts WHERE text LIKE '%Zyxqv%'")).scalar() == 0
            # the accounts that wrote only in it went with it; the others stayed
            assert c.execute(text("SELECT COUNT(*) FROM accounts WHERE handle LIKE 'user7%'")).scalar() == 0
            assert c.execute(text("SELECT COUNT(*) FROM accounts")).scalar() > 90
        assert flush_deleted(api.engine)
        raw = _file_bytes(database)
    assert b"Zyxqv" not in raw  # not in a free page, an old run's campaign, nor the write-ahead log
    assert b"user719" not in raw
    assert b"Be yourself; everyone else is already taken" in raw


def test_uploads_are_pseudonymized_with_the_key_file(database_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "k.key"
    key_file.write_text(KEY.key.hex())
    settings = settings_for(database_url, tmp_path, pseudonym_key_file=key_file)
    with service(settings) as api:
        _upload(api, hand_made(), "hand.jsonl")
        relay_member = str(1000 + 200)  # account 200 of hand_made()'s relay
        hidden = KEY.account_id("twitter", relay_member)
        found = api.client.get(f"/v1/accounts/twitter/{hidden}", headers=api.as_("read"))
        assert found.status_code == 200, found.text
        assert found.json()["account"]["flagged"] is True
        assert found.json()["account"]["handle"] == KEY.handle("twitter", "user200")
        real = api.client.get(f"/v1/accounts/twitter/{relay_member}", headers=api.as_("read"))
        assert real.status_code == 404
        with api.engine.connect() as c:
            ids = {r[0] for r in c.execute(text("SELECT DISTINCT account_id FROM posts"))}
        assert all(i.startswith("p") and len(i) == 21 for i in ids)


def test_the_worker_purges_posts_older_than_the_retention(database_url: str, tmp_path: Path) -> None:
    settings = settings_for(database_url, tmp_path, retention_days=365.0)
    with service(settings) as api:
        _upload(api, hand_made(), "hand.jsonl")  # posts from 2011: all older than a year
        job_id = queue_purge(api.engine, api.app.state.queue.enqueue, timedelta(days=365))
        assert job_id is not None
        job = api.wait({"id": job_id})
        assert job["state"] == "done" and job["kind"] == "purge" and job["stored"] == len(hand_made())
        assert api.client.get("/healthz").json()["posts"] == 0
        assert api.client.get("/v1/campaigns", headers=api.as_("read")).json()["total"] == 0
        # nothing left to purge: no new job
        assert queue_purge(api.engine, api.app.state.queue.enqueue, timedelta(days=365)) is None
        assert get_job(api.engine, job_id) is not None


@pytest.mark.parametrize("value", ["0", "-3", "soon"])
def test_a_bad_retention_setting_is_refused(value: str) -> None:
    from api.settings import BadSetting, Settings
    with pytest.raises(BadSetting, match="CIB_RETENTION_DAYS"):
        Settings.from_env({"CIB_RETENTION_DAYS": value})
