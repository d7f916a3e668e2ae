"""Pseudonymization at ingest: account ids and handles replaced by a keyed hash.

The key is a file the operator keeps outside the database (``cib privacy new-key``). Under one
key an account gets the same pseudonym in every file and every format, so detection links the
same accounts it would have linked by their real ids; without the key nobody can go back from a
pseudonym to the account, nor test a guess (a plain hash of a handle could be checked against
a list of handles). Whoever holds the key can compute the pseudonym of a named account
(``cib privacy pseudonym``) to look it up.

Replaced: the author's id and handle, the account's id and handle, mentioned handles (the
``mentions`` field and every ``@handle`` in the text). Dropped: the display name. Kept: post ids
(evidence links to the public post need them), times, texts otherwise, links, hashtags, counts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from detector.errors import CibError
from detector.records import Account, Post

KEY_BYTES = 32
"""A new key: 32 random bytes, written as 64 hex digits."""
MIN_KEY_BYTES = 16
KEY_VARIABLE = "CIB_PSEUDONYM_KEY_FILE"
ID_PREFIX = "p"
HANDLE_PREFIX = "u_"
DIGITS = 20
"""Hex digits kept of the HMAC: 80 bits, so a collision among even 10^9 accounts is ~4e-7 likely."""
_MENTION = re.compile(r"@(\w+)")


class PseudonymKeyError(CibError, ValueError):
    """A key file that is missing, unreadable or too short, or a key other than the database's."""

    code = "pseudonym_key"


@dataclass(frozen=True)
class Pseudonymizer:
    """Keyed pseudonyms (HMAC-SHA256). ``key_id`` names the key without revealing it."""

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            raise PseudonymKeyError(f"a pseudonymization key needs at least {MIN_KEY_BYTES} bytes; "
                                    f"this one has {len(self.key)}: make one with `cib privacy new-key FILE`")

    @property
    def key_id(self) -> str:
        """What the database records about the key: a hash of it, useless to recover it."""
        return hmac.new(self.key, b"cib-detector key id", hashlib.sha256).hexdigest()[:16]

    def _digest(self, kind: str, platform: str, value: str) -> str:
        message = f"{kind}\x00{platform}\x00{value}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:DIGITS]

    def account_id(self, platform: str, account_id: str) -> str:
        return ID_PREFIX + self._digest("id", platform, account_id)

    def handle(self, platform: str, handle: str) -> str:
        """Handles are case-insensitive on Twitter: ``@Bob`` and ``@bob`` get one pseudonym."""
        return HANDLE_PREFIX + self._digest("handle", platform, handle.lstrip("@").casefold())


def pseudonymize_text(pseudo: Pseudonymizer, platform: str, text: str) -> str:
    """``RT @bob: hello @Ann`` -> ``RT @u_…: hello @u_…`` (detection reads mentions as ``@`` anyway)."""
    if "@" not in text:
        return text
    return _MENTION.sub(lambda match: "@" + pseudo.handle(platform, match.group(1)), text)


def pseudonymize_post(pseudo: Pseudonymizer, post: Post) -> Post:
    """The same post with its author and the handles it mentions replaced."""
    platform = post.platform
    return replace(
        post,
        account_id=pseudo.account_id(platform, post.account_id),
        handle=pseudo.handle(platform, post.handle) if post.handle else None,
        text=pseudonymize_text(pseudo, platform, post.text),
        mentions=tuple(pseudo.handle(platform, mention) for mention in post.mentions),
    )


def pseudonymize_account(pseudo: Pseudonymizer, account: Account) -> Account:
    """The same account with its id and handle replaced and its display name dropped."""
    platform = account.platform
    return replace(
        account,
        account_id=pseudo.account_id(platform, account.account_id),
        handle=pseudo.handle(platform, account.handle) if account.handle else None,
        name=None,
    )


def parse_key(text: str, where: str) -> bytes:
    """A key file holds hex digits (whitespace ignored)."""
    digits = "".join(text.split())
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise PseudonymKeyError(f"{where}: a pseudonymization key file holds hex digits only; make one "
                                "with `cib privacy new-key FILE`") from None


def load_key(path: Path) -> Pseudonymizer:
    """Read a key file written by ``new_key_file`` (or by hand: 32+ hex-encoded random bytes)."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise PseudonymKeyError(f"{path}: no such key file; make one with `cib privacy new-key {path}` "
                                "and keep it outside the database") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PseudonymKeyError(f"{path}: cannot read the key file ({exc})") from None
    return Pseudonymizer(parse_key(text, str(path)))


@lru_cache(maxsize=4)
def _cached_key(path: str, mtime_ns: int) -> Pseudonymizer:
    return load_key(Path(path))


def key_from_env() -> Pseudonymizer | None:
    """The key named by ``$CIB_PSEUDONYM_KEY_FILE``, or None when it is not set."""
    name = os.environ.get(KEY_VARIABLE)
    if not name:
        return None
    path = Path(name)
    try:
        return _cached_key(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        return load_key(path)


def new_key_file(path: Path) -> Pseudonymizer:
    """Write a new random key to ``path`` (readable by its owner only); refuses to overwrite."""
    key = secrets.token_bytes(KEY_BYTES)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PseudonymKeyError(f"{path} exists already; a new key would give every account a new "
                                "pseudonym. Choose another path") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return Pseudonymizer(key)
