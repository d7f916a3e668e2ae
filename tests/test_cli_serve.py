"""``cib keys``: the key printed once on the last line, listed by prefix, revoked; ``cib serve``'s
settings come from its arguments and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import BadSetting, Settings
from detector.cli import main
from detector.store import open_database
from detector.store.keys import verify_key


def test_keys_create_prints_the_key_alone_on_the_last_line(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cib.db")
    assert main(["keys", "create", "--scope", "read", "--name", "Jane, desk", "--db", db]) == 0
    key = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    engine = open_database(db)
    found = verify_key(engine, key)
    assert found is not None and found.scope == "read" and found.name == "Jane, desk"
    assert main(["keys", "list", "--db", db]) == 0
    listing = capsys.readouterr().out
    assert found.prefix in listing and key not in listing and "active" in listing
    assert main(["keys", "revoke", found.prefix, "--db", db]) == 0
    assert verify_key(engine, key).revoked_at is not None  # type: ignore[union-attr]
    assert main(["keys", "revoke", found.prefix, "--db", db]) == 2
    assert "no active key" in capsys.readouterr().err


def test_keys_are_stored_hashed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cib.db"
    assert main(["keys", "create", "--scope", "admin", "--name", "ops", "--db", str(db)]) == 0
    key = capsys.readouterr().out.splitlines()[-1]
    secret = key.split("_", 2)[2]
    assert secret.encode() not in db.read_bytes()


def test_unknown_scope_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["keys", "create", "--scope", "root", "--name", "x", "--db", str(tmp_path / "c.db")])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_settings_from_environment(tmp_path: Path) -> None:
    env = {"CIB_MAX_UPLOAD_BYTES": "1000", "CIB_CORS_ORIGINS": "https://a.example, https://b.example",
           "CIB_RATE_LIMIT": "5/second"}
    settings = Settings.from_env(env, database_url=str(tmp_path / "x.db"))
    assert settings.max_upload_bytes == 1000 and settings.rate_limit == "5/second"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.queue_url == str(tmp_path / "cib-queue.db")          # beside the database
    assert settings.upload_dir == tmp_path / "cib-uploads"
    with pytest.raises(BadSetting, match="CIB_MAX_UPLOAD_BYTES"):
        Settings.from_env({"CIB_MAX_UPLOAD_BYTES": "lots"}, database_url=str(tmp_path / "x.db"))
