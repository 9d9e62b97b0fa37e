"""The embedded default store: one SQLite file (WAL), no server needed.

All access goes through one dedicated worker thread, so the connection is never
shared across threads and calls are serialised; multi-step operations run in
`BEGIN IMMEDIATE` transactions, which also makes them atomic against other
processes (and other `SQLiteStore`s) using the same file. SQLite failures (file
unreadable, disk full or failing, lock held too long) raise `StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from bot.models import Destination, OutboxEntry, Paper, PutResult, Schedule, Subscription, Tenant
from bot.store import sqlite_ops as ops
from bot.store import sqlite_outbox as box
from bot.store.base import StoreError, StoreUnavailable
from bot.store.codec import ts
from bot.store.sqlite_schema import connect, parse_url

T = TypeVar("T")


class SQLiteStore:
    """`Store` on a SQLite file (see bot/store/base.py for the contract)."""

    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor, path: str) -> None:
        self._conn = conn
        self._executor = executor
        self._closed = False
        self.path = path

    @classmethod
    async def open(cls, url: str) -> SQLiteStore:
        """Open `sqlite:///PATH` (creating its directory and schema) or `sqlite:///:memory:`.

        Raises ValueError for a malformed URL and StoreUnavailable when the file
        cannot be opened or is not a paperbot database.
        """
        path = parse_url(url)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paperbot-sqlite")
        try:
            conn = await asyncio.get_running_loop().run_in_executor(executor, connect, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(conn, executor, path)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(conn, *args)` on the worker thread, translating SQLite failures."""
        if self._closed:
            raise StoreUnavailable(f"SQLite store {self.path} is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, self._conn, *args)
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"SQLite {self.path}: {exc}") from exc
        except (sqlite3.ProgrammingError, sqlite3.DataError):
            raise  # a bug in a statement, not an unavailable store
        except sqlite3.DatabaseError as exc:  # I/O error, disk full, locked, not a database
            raise StoreUnavailable(f"SQLite {self.path}: {exc}") from exc

    async def close(self) -> None:
        """Close the database file after queued calls finish (a second call does nothing)."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        finally:
            self._executor.shutdown(wait=True)

    # -- papers ----------------------------------------------------------------------

    async def put_papers(self, papers: Sequence[Paper]) -> PutResult:
        """Insert or merge papers in one transaction (see Store.put_papers)."""
        return await self._run(ops.put_papers, list(papers))

    async def get_paper(self, paper_id: str) -> Paper | None:
        """The paper with this canonical id (with its `seq`), or None."""
        return (await self.get_papers([paper_id])).get(paper_id)

    async def get_papers(self, paper_ids: Sequence[str]) -> dict[str, Paper]:
        """The known papers among `paper_ids`, keyed by id."""
        return await self._run(ops.select_papers, list(paper_ids))

    async def papers_after(self, seq: int, limit: int = 1000) -> list[Paper]:
        """Up to `limit` papers with ingest sequence > `seq`, in sequence order."""
        return await self._run(ops.papers_after, seq, limit)

    async def count_papers(self) -> int:
        """How many papers are stored."""
        return await self._run(ops.count_papers)

    # -- subscriptions ---------------------------------------------------------------

    async def add_subscription(
        self,
        destination: Destination,
        query: str,
        schedule: Schedule = Schedule(),
        created_by: str | None = None,
    ) -> Subscription:
        """Create a subscription with a new unique short id (DuplicateSubscription if any)."""
        return await self._run(ops.add_subscription, destination, query, schedule, created_by)

    async def restore_subscription(self, sub: Subscription) -> None:
        """Store `sub` exactly as given (DuplicateSubscription if its id or query is taken)."""
        await self._run(ops.restore_subscription, sub)

    async def get_subscription(self, tenant: Tenant, sub_id: str) -> Subscription | None:
        """The subscription `sub_id` if it belongs to `tenant`, else None."""
        return await self._run(ops.get_subscription, str(tenant), sub_id)

    async def list_subscriptions(
        self, tenant: Tenant, destination: Destination | None = None
    ) -> list[Subscription]:
        """The tenant's subscriptions (of one of its destinations if given), oldest first."""
        if destination is not None and destination.tenant != tenant:
            return []
        where = str(destination) if destination is not None else None
        return await self._run(ops.list_subscriptions, str(tenant), where)

    async def iter_subscriptions(self) -> AsyncIterator[Subscription]:
        """Every subscription of every tenant."""
        for sub in await self._run(ops.all_subscriptions):
            yield sub

    async def remove_subscription(self, tenant: Tenant, sub_id: str) -> bool:
        """Delete `sub_id` if it belongs to `tenant`; True if something was deleted."""
        return await self._run(ops.remove_subscription, str(tenant), sub_id)

    async def subscriptions_version(self) -> int:
        """A count that grows with every subscription change (added, removed, paused...)."""
        return await self._run(ops.subscriptions_version)

    async def set_paused(
        self,
        tenant: Tenant,
        sub_id: str,
        paused: bool,
        reason: str | None = None,
        resume_at: datetime | None = None,
    ) -> Subscription | None:
        """Pause (with a reason, until `resume_at`) or resume one subscription of `tenant`."""
        if resume_at is not None:
            ts(resume_at)  # a naive datetime is refused
        return await self._run(ops.set_paused, str(tenant), sub_id, paused, reason, resume_at)

    async def set_schedule(
        self, tenant: Tenant, sub_id: str, schedule: Schedule
    ) -> Subscription | None:
        """Change how often a subscription of `tenant` posts; it, or None."""
        return await self._run(ops.set_schedule, str(tenant), sub_id, schedule)

    async def pause_destination(self, destination: Destination, reason: str) -> int:
        """Pause every running subscription of `destination`; how many were paused."""
        return await self._run(ops.pause_destination, str(destination), reason)

    async def mark_posted(self, tenant: Tenant, sub_ids: Sequence[str], at: datetime) -> None:
        """Set `last_post_at` of these subscriptions of `tenant`; other ids are ignored."""
        await self._run(ops.mark_posted, str(tenant), list(sub_ids), at)

    # -- ledger and outbox -----------------------------------------------------------

    async def claim(self, destination: Destination, paper_ids: Sequence[str]) -> list[str]:
        """Claim (destination, paper) pairs; the ids won by this call, in input order."""
        return await self._run(box.claim, str(destination), list(paper_ids))

    async def ledger(self) -> AsyncIterator[tuple[Destination, list[str]]]:
        """Every destination with the paper ids claimed for it."""
        for destination, paper_ids in await self._run(box.ledger):
            yield Destination.parse(destination), paper_ids

    async def unclaim(self, destination: Destination, paper_ids: Sequence[str]) -> int:
        """Forget claims of (destination, paper) pairs; how many there were."""
        return await self._run(box.unclaim, str(destination), list(paper_ids))

    async def enqueue(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Add entries to the outbox; returns them with their ids."""
        return await self._run(box.enqueue, list(entries), False)

    async def claim_and_enqueue(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Claim each entry's pair and enqueue the winners, in one transaction."""
        return await self._run(box.enqueue, list(entries), True)

    async def lease(
        self, now: datetime, lease_seconds: float, limit: int = 100
    ) -> list[OutboxEntry]:
        """Lease up to `limit` due entries nobody holds (see Store.lease)."""
        return await self._run(box.lease, ts(now), lease_seconds, limit)

    async def ack(self, entry_ids: Sequence[int]) -> None:
        """Delete delivered entries; unknown ids are ignored."""
        await self._run(box.ack, list(entry_ids))

    async def retry(self, entry_id: int, due_at: datetime, error: str) -> None:
        """Release an entry's lease and make it due at `due_at`, remembering `error`."""
        await self._run(box.retry, entry_id, due_at, error)

    async def pending(self, destination: Destination | None = None) -> list[OutboxEntry]:
        """Entries not yet acked (of one destination if given), oldest due first."""
        return await self._run(box.pending, str(destination) if destination else None)

    async def reschedule(self, destination: Destination, due_at: datetime) -> int:
        """Make every pending entry of `destination` due at `due_at`; how many."""
        return await self._run(box.reschedule, str(destination), due_at)

    # -- cursors, small values, feedback -----------------------------------------------

    async def get_cursor(self, source: str) -> str | None:
        """A source's polling cursor, or None."""
        return await self._run(box.get_text, "cursors", source)

    async def set_cursor(self, source: str, value: str) -> None:
        """Store a source's polling cursor."""
        await self._run(box.set_text, "cursors", source, value)

    async def get_value(self, key: str) -> str | None:
        """A stored small value, or None."""
        return await self._run(box.get_text, "kv", key)

    async def set_value(self, key: str, value: str) -> None:
        """Store a small value under `key`."""
        await self._run(box.set_text, "kv", key, value)

    async def incr(self, key: str, by: int = 1) -> int:
        """Atomically add `by` to the counter `key` (0 when new); the new count."""
        return await self._run(box.incr, key, by)

    async def record_feedback(self, tenant: Tenant, paper_id: str, who: str, value: int) -> None:
        """Record +1/-1 of `who` for a paper within `tenant` (last vote wins; 0 withdraws).

        Raises ValueError for any other value.
        """
        if type(value) is not int or value not in (-1, 0, 1):
            raise ValueError(f"feedback must be +1, -1 or 0, not {value!r}")
        await self._run(box.record_feedback, str(tenant), paper_id, who, value)

    async def votes(self) -> AsyncIterator[tuple[Tenant, str, str, int]]:
        """Every standing vote: (tenant, paper id, who, +1 or -1)."""
        for tenant, paper_id, who, value in await self._run(box.votes):
            yield Tenant.parse(tenant), paper_id, who, value

    async def feedback(self, tenant: Tenant, paper_id: str) -> tuple[int, int]:
        """(up, down) vote counts of a paper within a tenant."""
        return await self._run(box.feedback, str(tenant), paper_id)
