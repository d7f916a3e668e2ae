"""Service settings, read from the environment when the app is made (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from detector.errors import CibError
from detector.ingest import MAX_RATIO
from detector.privacy import KEY_VARIABLE
from detector.store import resolve_url

GIB = 1 << 30


class BadSetting(CibError, ValueError):
    """An environment variable with a value the service cannot use."""

    code = "bad_setting"


@dataclass(frozen=True)
class Settings:
    """Everything the service and its worker need; ``from_env`` documents each variable."""

    database_url: str
    queue_url: str
    upload_dir: Path
    queue_name: str = "cib"
    max_upload_bytes: int = 2 * GIB
    max_ratio: float = MAX_RATIO
    rate_limit: str = "600/minute"
    upload_rate_limit: str = "60/hour"
    rate_limit_storage: str = "memory://"
    cors_origins: tuple[str, ...] = ()
    job_lease_s: float = 60.0
    cache_entries: int = 1024
    heartbeat_s: float = 10.0
    model_path: Path | None = None   # the trained scorer; None: models/scorer.joblib
    pseudonym_key_file: Path | None = None   # uploads are pseudonymized with this key
    retention_days: float | None = None      # posts older than this are purged (hourly check)
    incremental: bool = False                # detection after uploads updates a kept cache

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """``CIB_DATABASE_URL`` (default ./cib.db), ``CIB_QUEUE_URL`` (``redis://...`` or an SQLite
        file; default beside an SQLite database), ``CIB_QUEUE_NAME`` (default ``cib``),
        ``CIB_UPLOAD_DIR``, ``CIB_MAX_UPLOAD_BYTES``,
        ``CIB_MAX_DECOMPRESSION_RATIO``, ``CIB_RATE_LIMIT`` and ``CIB_UPLOAD_RATE_LIMIT`` (e.g.
        ``600/minute``), ``CIB_RATE_LIMIT_STORAGE`` (``memory://`` or ``redis://...`` to share
        limits between processes), ``CIB_CORS_ORIGINS`` (comma-separated; none by default),
        ``CIB_JOB_LEASE_SECONDS``, ``CIB_CACHE_ENTRIES`` (answers remembered per detection run;
        0 turns the cache off), ``CIB_MODEL`` (the trained scorer; default models/scorer.joblib),
        ``CIB_PSEUDONYM_KEY_FILE`` (pseudonymize uploads with this key; see ``cib privacy``),
        ``CIB_RETENTION_DAYS`` (the worker purges posts older than this many days),
        ``CIB_INCREMENTAL`` (1: detection after uploads keeps a cache and updates it)."""
        env = os.environ if environ is None else environ
        database_url = resolve_url(overrides.pop("database_url", None) or env.get("CIB_DATABASE_URL"))
        home = _data_home(database_url)
        settings = cls(
            database_url=database_url,
            queue_url=env.get("CIB_QUEUE_URL") or str(home / "cib-queue.db"),
            queue_name=env.get("CIB_QUEUE_NAME", "cib"),
            upload_dir=Path(env.get("CIB_UPLOAD_DIR") or home / "cib-uploads"),
            max_upload_bytes=_number(env, "CIB_MAX_UPLOAD_BYTES", 2 * GIB, int),
            max_ratio=_number(env, "CIB_MAX_DECOMPRESSION_RATIO", MAX_RATIO, float),
            rate_limit=env.get("CIB_RATE_LIMIT", cls.rate_limit),
            upload_rate_limit=env.get("CIB_UPLOAD_RATE_LIMIT", cls.upload_rate_limit),
            rate_limit_storage=env.get("CIB_RATE_LIMIT_STORAGE", cls.rate_limit_storage),
            cors_origins=tuple(o.strip() for o in env.get("CIB_CORS_ORIGINS", "").split(",")
                               if o.strip()),
            job_lease_s=_number(env, "CIB_JOB_LEASE_SECONDS", 60.0, float),
            cache_entries=int(env.get("CIB_CACHE_ENTRIES", "1024") or 0),
            model_path=Path(env["CIB_MODEL"]) if env.get("CIB_MODEL") else None,
            pseudonym_key_file=Path(env[KEY_VARIABLE]) if env.get(KEY_VARIABLE) else None,
            retention_days=(_number(env, "CIB_RETENTION_DAYS", 1.0, float)
                            if env.get("CIB_RETENTION_DAYS") else None),
            incremental=env.get("CIB_INCREMENTAL", "") not in ("", "0"),
        )
        return replace(settings, **overrides)


def _data_home(database_url: str) -> Path:
    """Where the queue and uploads go by default: beside an SQLite file, else the working dir."""
    url = make_url(database_url)
    if url.drivername.startswith("sqlite") and url.database:
        return Path(url.database).resolve().parent
    return Path.cwd()


def _number(env: Mapping[str, str], name: str, default: float, kind: type[Any]) -> Any:
    raw = env.get(name)
    if raw is None or raw == "":
        return kind(default)
    try:
        value = kind(raw)
    except ValueError:
        raise BadSetting(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise BadSetting(f"{name}={raw!r} must be positive")
    return value
