"""The SQLite store's file: URL parsing, connection settings and schema.

Times are stored as UTC epoch seconds (REAL) where the store queries them (outbox
due and lease times, subscription creation) and as ISO 8601 with offset inside
JSON records. Papers are the JSON of `Paper.to_dict()` beside an AUTOINCREMENT
`seq`, so an ingest sequence number is never reused, even after deletions.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store.base import StoreUnavailable

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000
MEMORY = ":memory:"

SCHEMA = """
CREATE TABLE IF NOT EXISTS papers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, tenant TEXT NOT NULL, destination TEXT NOT NULL,
    query TEXT NOT NULL, created REAL NOT NULL, data TEXT NOT NULL,
    UNIQUE (destination, query));
CREATE INDEX IF NOT EXISTS subscriptions_tenant ON subscriptions (tenant, created);
CREATE TABLE IF NOT EXISTS ledger (
    destination TEXT NOT NULL, paper_id TEXT NOT NULL,
    PRIMARY KEY (destination, paper_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, destination TEXT NOT NULL, paper_id TEXT NOT NULL,
    subscription_ids TEXT NOT NULL, terms TEXT NOT NULL, due_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, lease_until REAL, last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at);
CREATE INDEX IF NOT EXISTS outbox_destination ON outbox (destination);
CREATE TABLE IF NOT EXISTS cursors (source TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    tenant TEXT NOT NULL, paper_id TEXT NOT NULL, who TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (tenant, paper_id, who)) WITHOUT ROWID;
"""


def parse_url(url: str) -> str:
    """The file path of `sqlite:///PATH` (`sqlite:////abs/path` is absolute), or `:memory:`.

    Raises ValueError for anything else.
    """
    if not url.startswith("sqlite:///"):
        raise ValueError(f"store URL {url!r} is not of the form sqlite:///PATH")
    path = url.removeprefix("sqlite:///")
    if not path or path.endswith("/"):
        raise ValueError(f"store URL {url!r} names no file")
    return path


def connect(path: str) -> sqlite3.Connection:
    """Open `path` (creating its directory and the schema) in WAL mode, autocommit.

    Transactions are explicit (`BEGIN IMMEDIATE`); waits up to BUSY_TIMEOUT_MS for
    another process's write lock. Raises StoreUnavailable when the file cannot be used.
    """
    conn: sqlite3.Connection | None = None
    try:
        if path != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"SQLite database {path} has schema version {version}; this paperbot "
                    f"knows up to {SCHEMA_VERSION} (upgrade paperbot)"
                )
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except (sqlite3.Error, OSError) as exc:
        if conn is not None:
            conn.close()
        raise StoreUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return conn
