"""``cib serve``, ``cib worker`` and ``cib keys``: the REST service, its job worker, its keys."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import inspect
import logging
import os
import signal
import subprocess
import sys
from typing import Any

from sqlalchemy import Engine

from detector.store.keys import SCOPES, create_key, list_keys, revoke_key

RAW = argparse.RawDescriptionHelpFormatter
HEALTHCHECK_S = 60
"""How long uvicorn waits for an API process to answer its health ping before killing it."""
EPILOG_SERVE = """examples:
  cib serve                                   # http://127.0.0.1:8000/docs, SQLite ./cib.db
  cib serve --host 0.0.0.0 --port 8080 --db postgresql://cib@db/cib
  CIB_QUEUE_URL=redis://127.0.0.1:6379/0 cib serve --no-worker   # workers run elsewhere

environment: CIB_DATABASE_URL, CIB_QUEUE_URL, CIB_UPLOAD_DIR, CIB_MAX_UPLOAD_BYTES,
CIB_MAX_DECOMPRESSION_RATIO, CIB_RATE_LIMIT, CIB_UPLOAD_RATE_LIMIT, CIB_RATE_LIMIT_STORAGE,
CIB_CORS_ORIGINS, CIB_JOB_LEASE_SECONDS (see README)
"""
EPILOG_WORKER = """examples:
  cib worker                                  # jobs of the SQLite queue beside ./cib.db
  CIB_QUEUE_URL=redis://127.0.0.1:6379/0 cib worker --db postgresql://cib@db/cib
"""
EPILOG_KEYS = """examples:
  cib keys create --scope read --name "Jane Doe, news desk"   # the key is the last line
  KEY=$(cib keys create --scope upload --name ci | tail -n 1)
  cib keys list
  cib keys revoke 3f9a1c2b7d4e
  cib keys list --db postgresql://cib@db/cib   # every action takes --db
"""


def _settings(args: argparse.Namespace) -> Any:
    from api.settings import Settings

    return Settings.from_env(database_url=args.db)


def _die_with_parent() -> None:
    """Linux: the worker gets SIGKILL when ``cib serve`` dies, so no orphan runs on."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _start_worker(db: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "detector.cli", "worker", "--db", db],
                            preexec_fn=_die_with_parent)


def cmd_serve(args: argparse.Namespace, _engine: None) -> int:
    import uvicorn

    from api.app import create_app

    settings = _settings(args)
    app = create_app(settings)  # migrates the database before the worker starts
    gc.freeze()  # what start-up made lives forever: keep it out of every later collection
    worker = None if args.no_worker else _start_worker(settings.database_url)
    options: dict[str, Any] = dict(host=args.host, port=args.port, log_level=args.log_level,
                                   proxy_headers=args.proxy_headers, timeout_graceful_shutdown=10)
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        # uvicorn kills a process that does not answer its ping in time (5 s by default), even one
        # still importing: on a busy machine the import alone takes longer, and it respawns forever
        options["timeout_worker_healthcheck"] = HEALTHCHECK_S
    try:
        if args.processes > 1:  # each process makes its own app from the same settings
            os.environ["CIB_DATABASE_URL"] = settings.database_url
            uvicorn.run("api.app:create_app", factory=True, workers=args.processes, **options)
        else:
            uvicorn.run(app, **options)
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGINT)  # finish the current batch, then stop
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def cmd_worker(args: argparse.Namespace, _engine: None) -> int:
    from api.worker import run_worker
    from detector.store import open_database

    logging.basicConfig(level=logging.INFO, format="%(asctime)s cib-worker %(levelname)s %(message)s")
    settings = _settings(args)
    with contextlib.suppress(OSError):
        os.nice(args.nice)  # reads answer first when the two cores are busy
    run_worker(settings, open_database(settings.database_url))
    return 0


def cmd_keys(args: argparse.Namespace, engine: Engine) -> int:
    if args.action == "create":
        key, secret = create_key(engine, args.name, args.scope)
        print(f"created key {key.prefix} for {key.name!r} with scope {key.scope}; "
              "it is shown once, store it now:")
        print(secret)
    elif args.action == "list":
        for key in list_keys(engine):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            print(f"{key.prefix}  {key.scope:<6}  {state:<18}  {key.created_at:%Y-%m-%d}  {key.name}")
    elif not revoke_key(engine, args.prefix):
        print(f"error: no active key {args.prefix!r}; `cib keys list` shows them", file=sys.stderr)
        return 2
    else:
        print(f"revoked {args.prefix}")
    return 0


def add_commands(commands: Any, add_db: Any) -> None:
    serve = commands.add_parser("serve", help="run the REST API (and its job worker)",
                                epilog=EPILOG_SERVE, formatter_class=RAW)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--processes", type=int, default=2,
                       help="API processes sharing the port (default 2: a slow answer holds up "
                            "only its own process)")
    serve.add_argument("--no-worker", action="store_true",
                       help="don't start a job worker here (run `cib worker` elsewhere)")
    serve.add_argument("--log-level", default="info",
                       choices=("critical", "error", "warning", "info", "debug"))
    serve.add_argument("--proxy-headers", action="store_true",
                       help="trust X-Forwarded-* from a reverse proxy")
    add_db(serve)
    serve.set_defaults(handler=cmd_serve, needs_db=False)

    worker = commands.add_parser("worker", help="run uploaded-dump jobs from the queue",
                                 epilog=EPILOG_WORKER, formatter_class=RAW)
    worker.add_argument("--nice", type=int, default=10,
                        help="CPU niceness, so the API's reads win over jobs (default 10)")
    add_db(worker)
    worker.set_defaults(handler=cmd_worker, needs_db=False)

    keys = commands.add_parser("keys", help="create, list and revoke API keys",
                               epilog=EPILOG_KEYS, formatter_class=RAW)
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make a key; it is printed once, on the last line",
                                epilog=EPILOG_KEYS, formatter_class=RAW)
    create.add_argument("--scope", required=True, choices=SCOPES,
                        help="read: queries; upload: also uploads; admin: also deletions")
    create.add_argument("--name", required=True, help="who or what holds the key")
    add_db(create)
    listing = actions.add_parser("list", help="every key: prefix, scope, state, name",
                                 epilog=EPILOG_KEYS, formatter_class=RAW)
    add_db(listing)
    revoke = actions.add_parser("revoke", help="revoke a key by its prefix",
                                epilog=EPILOG_KEYS, formatter_class=RAW)
    revoke.add_argument("prefix", help="the 12 characters after cib_ (see `cib keys list`)")
    add_db(revoke)
    keys.set_defaults(handler=cmd_keys)
