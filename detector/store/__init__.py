"""Store: the only package that imports SQLAlchemy. SQLite by default, PostgreSQL in deployment."""

from detector.store.database import (
    DEFAULT_URL,
    URL_VARIABLE,
    current_revision_of,
    flush_deleted,
    head_revision,
    make_engine,
    migrate,
    open_database,
    refresh_statistics,
    resolve_url,
)
from detector.store.reader import (
    Stats,
    account_creation,
    complete_datasets,
    datasets,
    iter_posts,
    rejections,
    stats,
)
from detector.store.writer import (
    BatchResult,
    discard_dataset_posts,
    finish_dataset,
    pseudonym_keys,
    resumable_dataset,
    start_dataset,
    write_batch,
)

__all__ = [
    "DEFAULT_URL",
    "URL_VARIABLE",
    "BatchResult",
    "Stats",
    "account_creation", "complete_datasets", "current_revision_of",
    "datasets",
    "discard_dataset_posts",
    "finish_dataset",
    "flush_deleted",
    "head_revision",
    "iter_posts",
    "make_engine",
    "migrate",
    "open_database",
    "pseudonym_keys",
    "refresh_statistics",
    "rejections",
    "resolve_url",
    "resumable_dataset",
    "start_dataset",
    "stats",
    "write_batch",
]
