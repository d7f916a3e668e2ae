from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from detector.cli import build_parser, main
from tests.factories import many_posts_text, render, sample_posts, write_file

COMMANDS = ["ingest", "stats", "demo", "detect", "campaigns", "account", "accounts", "export",
            "simulate", "evaluate", "serve", "worker", "keys", "report", "train", "purge", "privacy"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"cib {command}" in out
    # they write files, no database
    assert "--db" in out or command in ("simulate", "train", "privacy")


def test_parser_knows_every_command() -> None:
    subparsers = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert sorted(subparsers) == sorted(COMMANDS)


def test_ingest_then_stats_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.db")
    dump = write_file(tmp_path / "d.jsonl.gz", "twarc2", sample_posts(), compress=True)
    assert main(["ingest", str(dump), "--db", db]) == 0
    assert "twarc2, dataset 1 complete: read 6, stored 6" in capsys.readouterr().out
    assert main(["stats", "--json", "--db", db]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["posts"], data["accounts"], data["datasets"]) == (6, 4, 1)


def test_ingest_reports_rejected_lines_on_stderr(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(render("v1", sample_posts()) + '{"id_str": "x"}\n')
    assert main(["ingest", str(path), "--db", str(tmp_path / "c.db")]) == 0
    captured = capsys.readouterr()
    assert "rejected 1" in captured.out
    assert "mixed.jsonl, line 7, field 'user'" in captured.err


def test_ingest_refuses_garbage_with_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    good = write_file(tmp_path / "good.jsonl", "v1", sample_posts())
    assert main(["ingest", str(path), str(good), "--db", str(tmp_path / "c.db")]) == 1
    captured = capsys.readouterr()
    assert "photo.jpg: this is a JPEG image, not a dump" in captured.err
    assert "good.jsonl: v1" in captured.out     # the other file is still ingested


def test_mapped_csv_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "forum.csv"
    path.write_text("id,who,when,body\n1,ann,2020-01-01 10:00,hi\n2,bob,2020-01-01 10:01,hey\n")
    code = main(["ingest", str(path), "--map", "post_id=id,account_id=who,created_at=when,text=body",
                 "--platform", "forum", "--db", str(tmp_path / "c.db")])
    assert code == 0 and "csv, dataset 1 complete: read 2, stored 2" in capsys.readouterr().out


def test_bad_mapping_is_an_error_not_a_traceback(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "x.csv", "--map", "post_id", "--db", str(tmp_path / "c.db")]) == 2
    assert "FIELD=COLUMN" in capsys.readouterr().err


def test_demo_ingests_the_bundled_dump(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--db", str(tmp_path / "demo.db")]) == 0
    out = capsys.readouterr().out
    assert "ira, dataset 1 complete: read 8226, stored 8226" in out
    assert "8226 posts by 192 accounts" in out and "most repeated texts" in out
    assert "campaigns" in out and " network " in out      # the top campaigns are printed


def _cib() -> list[str]:
    found = shutil.which("cib", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "detector.cli"]


def test_installed_command_is_quiet_in_pipes_and_db_beats_the_environment(tmp_path: Path) -> None:
    dump = tmp_path / "d.jsonl"
    dump.write_text(many_posts_text(3000))
    env = {**os.environ, "CIB_DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}"}
    done = subprocess.run([*_cib(), "ingest", str(dump), "--db", str(tmp_path / "flag.db")],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stderr == "" and "stored 3000" in done.stdout
    assert (tmp_path / "flag.db").exists() and not (tmp_path / "env.db").exists()


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:             # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    dump = tmp_path / "d.jsonl"
    dump.write_text(many_posts_text(3000))
    leader, follower = pty.openpty()
    process = subprocess.Popen([*_cib(), "ingest", str(dump), "--batch-size", "500", "--db",
                                         str(tmp_path / "c.db")],
                               stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    shown = _read_all(leader)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    assert "records" in shown and "/s" in shown


def test_output_into_a_closed_pipe_is_not_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(" ".join([*_cib(), "demo", "--db", str(tmp_path / "d.db")]) + " | head -1",
                          shell=True, capture_output=True, text=True, timeout=120)
    assert "ira, dataset 1 complete" in done.stdout and "Traceback" not in done.stderr


def test_forced_wrong_format_warns_that_everything_was_rejected(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_file(tmp_path / "v1.jsonl", "v1", sample_posts())
    assert main(["ingest", str(path), "--format", "twarc2", "--db", str(tmp_path / "c.db")]) == 0
    err = capsys.readouterr().err
    assert "every record of v1.jsonl was rejected" in err and "--format" in err


def test_a_directory_or_missing_file_is_a_clear_error(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.db")
    assert main(["ingest", str(tmp_path), str(tmp_path / "gone.jsonl"), "--db", db]) == 1
    err = capsys.readouterr().err
    assert "is a directory" in err and "gone.jsonl: no such file" in err


def test_the_command_line_imports_no_learning_or_plotting_library_until_used() -> None:
    # every `cib` call pays its imports: scikit-learn and matplotlib cost seconds, and ingest,
    # stats and the rule's detection need neither (a trained scorer and a report import them)
    probe = ("import sys, detector.cli; "
             "print(sorted(m for m in ('sklearn', 'matplotlib', 'scipy', 'alembic', 'psycopg') "
             "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_the_command_line_starts_without_the_detection_stages() -> None:
    # `cib ingest`, `cib stats` and the read commands start 0.3 s sooner without networkx, the
    # linking stages and the simulator; `cib detect` imports them when it runs
    probe = ("import sys, detector.cli; print(sorted(m for m in ('networkx', 'detector.detect', "
             "'detector.pipeline', 'detector.simulate', 'detector.store.retention') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
