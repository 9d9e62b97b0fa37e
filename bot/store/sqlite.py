"""The embedded default store: one SQLite file (WAL), no server needed.

All access goes through one worker thread, so the connection is never shared across
threads; multi-step operations run in `BEGIN IMMEDIATE` transactions, which also
makes them atomic against other processes using the same file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.models import (
    Destination,
    OutboxEntry,
    Paper,
    PutResult,
    Schedule,
    Subscription,
    Tenant,
    utcnow,
)
from bot.store import sqlite_ops as ops
from bot.store.base import DuplicateSubscription, StoreUnavailable, new_short_id
from bot.store.codec import sub_from_json, sub_json, ts

T = TypeVar("T")

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
CREATE TABLE IF NOT EXISTS feedback (
    tenant TEXT NOT NULL, paper_id TEXT NOT NULL, who TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (tenant, paper_id, who)) WITHOUT ROWID;
"""


class SQLiteStore:
    """`Store` on a SQLite file."""

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._executor = executor
        self._closed = False

    @classmethod
    async def open(cls, url: str) -> SQLiteStore:
        """Open (and create) the database of `sqlite:///PATH` or `sqlite:///:memory:`."""
        path = url.removeprefix("sqlite:///")
        if not path:
            raise ValueError(f"store URL {url!r} names no file")
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paperbot-sqlite")

        def connect() -> sqlite3.Connection:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(SCHEMA)
            return conn

        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, connect)
        except (sqlite3.Error, OSError) as exc:
            executor.shutdown(wait=False)
            raise StoreUnavailable(f"cannot open SQLite database {path}: {exc}") from exc
        return cls(conn, executor)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, self._conn, *args)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"SQLite: {exc}") from exc
        except sqlite3.ProgrammingError as exc:
            raise StoreUnavailable(f"SQLite: {exc} (store closed?)") from exc
        except RuntimeError as exc:  # executor shut down
            raise StoreUnavailable(f"SQLite store is closed: {exc}") from exc

    async def close(self) -> None:
        """Close the database file (a second call does nothing)."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)

    # -- papers ----------------------------------------------------------------------

    async def put_papers(self, papers: Sequence[Paper]) -> PutResult:
        """Insert or merge papers (see Store.put_papers)."""
        return await self._run(ops.put_papers, list(papers))

    async def get_paper(self, paper_id: str) -> Paper | None:
        """The paper with this id, or None."""
        return (await self.get_papers([paper_id])).get(paper_id)

    async def get_papers(self, paper_ids: Sequence[str]) -> dict[str, Paper]:
        """The known papers among `paper_ids`."""
        return await self._run(ops.get_papers, list(paper_ids))

    async def papers_after(self, seq: int, limit: int = 1000) -> list[Paper]:
        """Papers with seq > `seq`, in seq order."""
        return await self._run(ops.papers_after, seq, limit)

    async def count_papers(self) -> int:
        """How many papers are stored."""
        return await self._run(
            lambda c: int(c.execute("SELECT count(*) FROM papers").fetchone()[0])
        )

    # -- subscriptions ---------------------------------------------------------------

    async def add_subscription(
        self,
        destination: Destination,
        query: str,
        schedule: Schedule = Schedule(),
        created_by: str | None = None,
    ) -> Subscription:
        """Create a subscription with a fresh short id."""

        def add(conn: sqlite3.Connection) -> Subscription:
            with ops.transaction(conn):
                row = conn.execute(
                    "SELECT data FROM subscriptions WHERE destination = ? AND query = ?",
                    (str(destination), query),
                ).fetchone()
                if row:
                    raise DuplicateSubscription(sub_from_json(row[0]))
                while True:
                    sub = Subscription(
                        id=new_short_id(),
                        destination=destination,
                        query=query,
                        schedule=schedule,
                        created_at=utcnow(),
                        created_by=created_by,
                    )
                    taken = conn.execute("SELECT 1 FROM subscriptions WHERE id = ?", (sub.id,))
                    if taken.fetchone() is None:
                        break
                conn.execute(
                    "INSERT INTO subscriptions VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        sub.id,
                        str(sub.tenant),
                        str(destination),
                        query,
                        ts(sub.created_at),
                        sub_json(sub),
                    ),
                )
            return sub

        return await self._run(add)

    async def get_subscription(self, tenant: Tenant, sub_id: str) -> Subscription | None:
        """The subscription `sub_id` of `tenant`, or None."""
        return await self._run(ops.get_subscription, str(tenant), sub_id)

    async def list_subscriptions(
        self, tenant: Tenant, destination: Destination | None = None
    ) -> list[Subscription]:
        """The tenant's subscriptions (of one destination if given), oldest first."""
        return await self._run(
            ops.list_subscriptions, str(tenant), str(destination) if destination else None
        )

    async def iter_subscriptions(self) -> AsyncIterator[Subscription]:
        """Every subscription of every tenant."""
        for sub in await self._run(ops.all_subscriptions):
            yield sub

    async def remove_subscription(self, tenant: Tenant, sub_id: str) -> bool:
        """Delete `sub_id` if it belongs to `tenant`."""
        return await self._run(
            lambda c: (
                c.execute(
                    "DELETE FROM subscriptions WHERE id = ? AND tenant = ?", (sub_id, str(tenant))
                ).rowcount
                > 0
            )
        )

    async def set_paused(
        self, tenant: Tenant, sub_id: str, paused: bool, reason: str | None = None
    ) -> Subscription | None:
        """Pause or resume one subscription of `tenant`."""
        return await self._run(ops.set_paused, str(tenant), sub_id, paused, reason)

    async def pause_destination(self, destination: Destination, reason: str) -> int:
        """Pause every running subscription of `destination`."""
        return await self._run(ops.pause_destination, str(destination), reason)

    async def mark_posted(self, tenant: Tenant, sub_ids: Sequence[str], at: datetime) -> None:
        """Set `last_post_at` of these subscriptions of `tenant`."""
        await self._run(ops.mark_posted, str(tenant), list(sub_ids), at)

    # -- ledger and outbox -----------------------------------------------------------

    async def claim(self, destination: Destination, paper_ids: Sequence[str]) -> list[str]:
        """Claim (destination, paper) pairs; returns the ids won by this call."""
        return await self._run(ops.claim, str(destination), list(paper_ids))

    async def enqueue(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Add entries to the outbox."""
        return await self._run(ops.enqueue, list(entries), False)

    async def claim_and_enqueue(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Claim each entry's pair and enqueue the winners, in one transaction."""
        return await self._run(ops.enqueue, list(entries), True)

    async def lease(
        self, now: datetime, lease_seconds: float, limit: int = 100
    ) -> list[OutboxEntry]:
        """Lease due, unheld entries (see Store.lease)."""
        return await self._run(ops.lease, ts(now), lease_seconds, limit)

    async def ack(self, entry_ids: Sequence[int]) -> None:
        """Delete delivered entries."""
        await self._run(ops.ack, list(entry_ids))

    async def retry(self, entry_id: int, due_at: datetime, error: str) -> None:
        """Release an entry's lease and make it due at `due_at`."""
        await self._run(
            lambda c: c.execute(
                "UPDATE outbox SET lease_until = NULL, due_at = ?, last_error = ? WHERE id = ?",
                (ts(due_at), error, entry_id),
            )
        )

    async def pending(self, destination: Destination | None = None) -> list[OutboxEntry]:
        """Entries not yet acked."""
        return await self._run(ops.pending, str(destination) if destination else None)

    async def reschedule(self, destination: Destination, due_at: datetime) -> int:
        """Make every pending entry of `destination` due at `due_at`."""
        return await self._run(
            lambda c: (
                c.execute(
                    "UPDATE outbox SET due_at = ? WHERE destination = ?",
                    (ts(due_at), str(destination)),
                ).rowcount
            )
        )

    # -- cursors and feedback --------------------------------------------------------

    async def get_cursor(self, source: str) -> str | None:
        """A source's cursor, or None."""

        def get(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM cursors WHERE source = ?", (source,)).fetchone()
            return None if row is None else str(row[0])

        return await self._run(get)

    async def set_cursor(self, source: str, value: str) -> None:
        """Store a source's cursor."""
        await self._run(
            lambda c: c.execute(
                "INSERT INTO cursors VALUES (?, ?) ON CONFLICT(source) DO UPDATE SET value = ?",
                (source, value, value),
            )
        )

    async def get_value(self, key: str) -> str | None:
        """A stored small value, or None."""

        def get(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

        return await self._run(get)

    async def set_value(self, key: str, value: str) -> None:
        """Store a small value."""
        await self._run(
            lambda c: c.execute(
                "INSERT INTO kv VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                (key, value, value),
            )
        )

    async def incr(self, key: str, by: int = 1) -> int:
        """Atomically add to a counter; the new count."""
        return await self._run(ops.incr, key, by)

    async def record_feedback(self, tenant: Tenant, paper_id: str, who: str, value: int) -> None:
        """Record a +1/-1 (0 withdraws) of `who` for a paper."""
        if value not in (-1, 0, 1):
            raise ValueError(f"feedback must be +1, -1 or 0, not {value!r}")
        await self._run(ops.record_feedback, str(tenant), paper_id, who, value)

    async def feedback(self, tenant: Tenant, paper_id: str) -> tuple[int, int]:
        """(up, down) votes of a paper within a tenant."""
        return await self._run(ops.feedback, str(tenant), paper_id)
