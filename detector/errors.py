"""Named errors. Each says what is wrong and how to fix it; the CLI and API translate them."""

from __future__ import annotations


class CibError(Exception):
    """Base of every error this package raises on purpose."""


class DumpError(CibError, ValueError):
    """A file that cannot be read as a dump."""


class EmptyDump(DumpError):
    """The file (or archive member) holds no bytes."""


class UnknownDumpFormat(DumpError):
    """Not twarc2 JSONL, API v1.1 JSON, an operations-archive, CooRTweet or IRA CSV, or a mapped CSV."""


class CorruptDump(DumpError):
    """A compressed file that is truncated or damaged, or text that is not UTF-8."""


class MissingColumns(DumpError):
    """A CSV without the columns its format needs."""


class BadRecord(DumpError):
    """One record is wrong; raised instead of counted when ``--strict`` is given."""


class BadMapping(CibError, ValueError):
    """A column mapping for a generic CSV that names no usable columns."""


class DatabaseError(CibError):
    """The database URL is unusable or the schema cannot be brought up to date."""
