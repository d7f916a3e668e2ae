"""Named errors. Each says what is wrong and how to fix it; the CLI and API translate them."""

from __future__ import annotations


class CibError(Exception):
    """Base of every error this package raises on purpose. ``code`` names it in API answers."""

    code = "error"


class DumpError(CibError, ValueError):
    """A file that cannot be read as a dump."""

    code = "not_a_dump"


class EmptyDump(DumpError):
    """The file (or archive member) holds no bytes."""

    code = "empty_dump"


class UnknownDumpFormat(DumpError):
    """Not twarc2 JSONL, API v1.1 JSON, an operations-archive, CooRTweet or IRA CSV, or a mapped CSV."""

    code = "unsupported_format"


class CorruptDump(DumpError):
    """A compressed file that is truncated or damaged, or text that is not UTF-8."""

    code = "corrupt_dump"


class DecompressionBomb(DumpError):
    """Compressed content that expands far beyond what a dump of posts does."""

    code = "decompression_bomb"


class MissingColumns(DumpError):
    """A CSV without the columns its format needs."""

    code = "missing_columns"


class BadRecord(DumpError):
    """One record is wrong; raised instead of counted when ``--strict`` is given."""

    code = "bad_record"


class BadMapping(CibError, ValueError):
    """A column mapping for a generic CSV that names no usable columns."""

    code = "bad_mapping"


class DatabaseError(CibError):
    """The database URL is unusable or the schema cannot be brought up to date."""

    code = "database_error"


class BadQuery(CibError, ValueError):
    """A read with an unknown sort key, filter value or bucket, or a page out of range."""

    code = "bad_query"


class DatasetBusy(CibError):
    """A dataset still being ingested cannot be deleted; wait for its ingest to finish or fail."""

    code = "dataset_busy"


class LookupTextTooShort(CibError, ValueError):
    """A text to look up with too little of its own words (empty, only links or mentions)."""

    code = "text_too_short"


class NoDetection(CibError):
    """There is no detection run to read yet."""

    code = "no_detection"

    def __init__(self) -> None:
        super().__init__("no detection has run on this database yet; run `cib detect` first "
                         "(or upload a dataset to the API, whose worker detects after ingest)")


class IncompatibleModel(CibError, ValueError):
    """A trained scorer that is missing, or made for other features, format or scikit-learn."""

    code = "incompatible_model"


class TrainingDataError(CibError, ValueError):
    """Training examples that cannot fit a scorer (one class only, or a single dump)."""

    code = "training_data"


class ClusterUnavailable(CibError):
    """The Dask engine cannot run: the scheduler is unreachable, or dask is not installed."""

    code = "cluster_unavailable"


class MissingInput(CibError, FileNotFoundError):
    """An input file that is not there (on a cluster: not on storage every worker sees)."""

    code = "missing_input"


class CacheOutdated(CibError, RuntimeError):
    """Posts were removed while an incremental run read them (a dataset deleted or posts purged
    at the same time): nothing was stored; run detection again, which then runs in full."""

    code = "cache_outdated"


class DamagedCache(CibError, ValueError):
    """The incremental-detection cache could not be read: the next run is a full one, which
    makes it anew (``cib detect --incremental --full`` does so at once)."""

    code = "damaged_cache"
