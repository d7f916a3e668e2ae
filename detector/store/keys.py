"""API keys: created with a random secret shown once, stored as a SHA-256, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, Table, select, update

from detector.errors import CibError
from detector.store.schema import ApiKeyRow

SCOPES = ("read", "upload", "admin")
"""Each scope includes the ones before it: an ``upload`` key can read, an ``admin`` key can do all."""
KEY_PREFIX = "cib"
KEYS: Table = ApiKeyRow.__table__  # type: ignore[assignment]


class BadScope(CibError, ValueError):
    """A scope name that is not one of ``SCOPES``."""


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        return self.revoked_at is None and SCOPES.index(self.scope) >= SCOPES.index(scope)


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise BadScope(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
    return scope


def _digest(secret: str) -> str:
    # the secrets are 256 random bits, so a fast hash is enough: nothing to brute-force
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(row.id, row.name, row.prefix, row.scope, row.created_at, row.revoked_at)


def create_key(engine: Engine, name: str, scope: str) -> tuple[ApiKey, str]:
    """Store a new key and return it with its full secret, which is never stored nor shown again."""
    check_scope(scope)
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with engine.begin() as c:
        created = c.execute(KEYS.insert().values(
            name=name[:128], prefix=prefix, secret_hash=_digest(secret), scope=scope,
            created_at=datetime.now(UTC), revoked_at=None)).inserted_primary_key
    assert created is not None
    return get_key(engine, prefix) or _missing(prefix), secret


def _missing(prefix: str) -> ApiKey:
    raise CibError(f"the key {prefix} vanished right after it was created")


def get_key(engine: Engine, prefix: str) -> ApiKey | None:
    with engine.connect() as c:
        row = c.execute(select(KEYS).where(ApiKeyRow.prefix == prefix)).first()
    return _key(ApiKeyRow(**row._mapping)) if row else None


def verify_key(engine: Engine, presented: str) -> ApiKey | None:
    """The key whose secret is ``presented``, or None (unknown, malformed). Revoked keys are
    returned (``allows`` is then False) so the caller can say the key was revoked."""
    parts = presented.split("_")
    if len(parts) < 3 or parts[0] != KEY_PREFIX or not parts[1].isalnum():
        return None
    with engine.connect() as c:
        row = c.execute(select(KEYS).where(ApiKeyRow.prefix == parts[1])).first()
    expected = row._mapping["secret_hash"] if row else _digest("no such key")
    matches = hmac.compare_digest(expected, _digest(presented))
    return _key(ApiKeyRow(**row._mapping)) if row and matches else None


def list_keys(engine: Engine) -> list[ApiKey]:
    with engine.connect() as c:
        rows = c.execute(select(KEYS).order_by(ApiKeyRow.id))
        return [_key(ApiKeyRow(**r._mapping)) for r in rows]


def revoke_key(engine: Engine, prefix: str) -> bool:
    """Revoke the key with this prefix (the part after ``cib_``); False if there is none."""
    with engine.begin() as c:
        result = c.execute(update(KEYS).where(
            ApiKeyRow.prefix == prefix, ApiKeyRow.revoked_at.is_(None)).values(
            revoked_at=datetime.now(UTC)))
    return bool(result.rowcount)
