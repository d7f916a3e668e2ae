"""Jobs cut off by a crash: redone to the end, their uploads removed (detector/jobs.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

import detector.jobs
from detector.jobs import JobSettings, discard_finished_uploads, execute_job
from detector.store.detections import latest_detection
from detector.store.jobs import claim_job, create_job, finish_job, get_job
from tests.factories import write_file
from tests.test_detect import hand_made

TAKE_OVER = JobSettings(lease=timedelta(0), heartbeat_s=60)   # a lost worker's job is claimable


def upload(folder: Path, name: str = "hand.jsonl") -> Path:
    home = folder / "uploads" / "f00d"
    home.mkdir(parents=True)
    return write_file(home / name, "v1", hand_made())


class Killed(BaseException):
    """Stands for SIGKILL: not an Exception, so the job is not marked failed; it stays running."""


def test_a_job_cut_off_after_storing_its_dataset_still_detects(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = upload(tmp_path)
    job = create_job(engine, "ingest", filename=path.name, path=str(path),
                     size_bytes=path.stat().st_size)

    def killed_in_detection(*_args: object, **_kwargs: object) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(detector.jobs, "run_detection", killed_in_detection)
        with pytest.raises(Killed):
            execute_job(engine, job.id, TAKE_OVER, worker="gone:1")
    assert get_job(engine, job.id).state == "running"  # type: ignore[union-attr]
    assert latest_detection(engine) is None
    execute_job(engine, job.id, TAKE_OVER, worker="here:2")   # the dataset is complete: skipped
    done = get_job(engine, job.id)
    assert done is not None and done.state == "done" and done.attempts == 2
    assert done.detection_id is not None and done.detection_id == latest_detection(engine).id  # type: ignore[union-attr]
    assert not path.exists()


def test_the_same_file_uploaded_again_is_not_detected_again(engine: Engine, tmp_path: Path) -> None:
    first, again = upload(tmp_path / "a"), upload(tmp_path / "b")
    for path in (first, again):
        job = create_job(engine, "ingest", filename=path.name, path=str(path))
        execute_job(engine, job.id, TAKE_OVER)
    last = get_job(engine, job.id)
    assert last is not None and last.state == "done" and last.stage == "skipped"
    assert last.detection_id is None


def test_uploads_left_by_a_worker_killed_after_finishing_are_removed(engine: Engine,
                                                                      tmp_path: Path) -> None:
    finished, waiting = upload(tmp_path / "a"), upload(tmp_path / "b")
    done = create_job(engine, "ingest", path=str(finished))
    claim_job(engine, done.id, "gone:1", timedelta(seconds=60))
    finish_job(engine, done.id, "gone:1", "done")       # killed before it removed the file
    create_job(engine, "ingest", path=str(waiting))     # still to run: its file stays
    assert discard_finished_uploads(engine) == 1
    assert not finished.exists() and not finished.parent.exists()
    assert waiting.exists()
    assert discard_finished_uploads(engine) == 0
