"""New papers -> matching subscriptions -> one outbox entry per (destination, paper).

The router follows the store's ingest sequence (cursor `router` in the store), so
papers stored by any process (`paperbot ingest` in a shell, the pollers of
`paperbot run`) are routed exactly once by whoever runs the next cycle. It keeps
the percolator in step with the store's subscriptions (which another process may
change, e.g. `paperbot subscribe`), ends the pauses whose time is up (`/papers pause
ID --for 2w`), then matches each new paper. Papers published
longer ago than `max_age` when they are first stored (backfills) are searchable but
not posted. Every destination gets at most one entry per paper, listing
every subscription of that destination that matched, due at the earliest time any of
them wants it (instant beats a digest). The ledger claim and the enqueue are one
atomic store step, so a paper is queued for a destination exactly once, ever.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.matcher import SubscriptionIndex, TermStats
from bot.matcher_native import INSTALLED
from bot.models import Destination, OutboxEntry, Paper, Subscription, utcnow
from bot.query import QueryError
from bot.schedule import next_due
from bot.store import Store

log = logging.getLogger(__name__)

CURSOR = "router"
STATS_SAMPLE = 2000
MAX_AGE = timedelta(days=7)
#: After indexing this many subscriptions in one sync, the index is moved out of the
#: cyclic garbage collector's reach (`gc.freeze`): rescanning a long-lived index of
#: millions of objects costs ~10% of matching throughput (bench/percolate.py).
FREEZE_AFTER = 1000


@dataclass
class RouteReport:
    """What one routing step queued."""

    papers: int = 0
    hits: int = 0
    queued: int = 0


class Router:
    """Matches papers against every subscription and fills the outbox."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock
        self.index: SubscriptionIndex | None = None
        self._subs: dict[str, Subscription] = {}
        self._version: int | None = None  # subscriptions_version at the last sync
        self._timed: dict[str, Subscription] = {}  # paused for a while (`resume_at`)

    async def _index(self) -> SubscriptionIndex:
        """The percolator, built on first use with term statistics of recent papers
        (rarer anchors: fewer candidates to verify)."""
        if self.index is None:
            count = await self.store.count_papers()
            recent = await self.store.papers_after(max(0, count - STATS_SAMPLE), STATS_SAMPLE)
            self.index = SubscriptionIndex(TermStats.from_papers(recent))
            if self.index.engine == "python":
                log.info("percolator: %s", INSTALLED)
        return self.index

    async def sync(self) -> None:
        """Bring the percolator in line with the store's subscriptions.

        Reads them all only when `Store.subscriptions_version` moved since the last
        sync (read before the scan, so a change during the scan is seen next time).
        """
        version = await self.store.subscriptions_version()
        if self.index is not None and version == self._version:
            return
        index = await self._index()
        current = {s.id: s async for s in self.store.iter_subscriptions()}
        self._timed = {i: s for i, s in current.items() if s.paused and s.resume_at}
        for sub_id, old in list(self._subs.items()):
            new = current.get(sub_id)
            if new is None or new.query != old.query:
                index.remove(sub_id)
                del self._subs[sub_id]
        added = 0
        for sub_id, sub in current.items():
            if sub_id not in self._subs:
                added += 1
                try:
                    index.add(sub)
                except QueryError as exc:
                    # Stored before queries were validated, or by hand: never crash the
                    # router; pause it, so people see why in /papers subscriptions.
                    log.warning("subscription %s has an invalid query: %s", sub_id, exc)
                    if not sub.paused:
                        await self.store.set_paused(
                            sub.tenant, sub_id, True, f"invalid query: {exc}"
                        )
                    continue
            self._subs[sub_id] = sub
        self._version = version
        if added >= FREEZE_AFTER:
            gc.freeze()

    async def end_pauses(self) -> int:
        """Resume the subscriptions paused for a while whose `resume_at` has come."""
        now = self.clock()
        ended = 0
        for sub in [s for s in self._timed.values() if s.resume_at and s.resume_at <= now]:
            if await self.store.set_paused(sub.tenant, sub.id, False) is not None:
                log.info("%s (%s) resumed: its pause ended", sub.id, sub.destination)
                ended += 1
            self._timed.pop(sub.id, None)
        return ended

    async def catch_up(self, max_age: timedelta = MAX_AGE, batch: int = 1000) -> RouteReport:
        """Route every paper stored since the last call (by ingest sequence); pauses
        whose time is up end first."""
        await self.sync()
        if await self.end_pauses():
            await self.sync()
        total = RouteReport()
        cursor = int(await self.store.get_cursor(CURSOR) or 0)
        while papers := await self.store.papers_after(cursor, limit=batch):
            horizon = self.clock() - max_age
            fresh = [p for p in papers if p.published is None or p.published >= horizon]
            report = await self.route(fresh)
            total.papers += report.papers
            total.hits += report.hits
            total.queued += report.queued
            cursor = max(p.seq or 0 for p in papers)
            await self.store.set_cursor(CURSOR, str(cursor))
        return total

    async def route(self, papers: Sequence[Paper]) -> RouteReport:
        """Queue every matching (destination, paper) pair not queued before."""
        report = RouteReport(papers=len(papers))
        if not papers:
            return report
        await self.sync()
        index = await self._index()
        now = self.clock()
        entries: list[OutboxEntry] = []
        for paper in papers:
            per_dest: dict[Destination, list[tuple[Subscription, tuple[str, ...]]]] = {}
            for hit in index.match(paper):
                sub = self._subs.get(hit.subscription_id)
                if sub is None or sub.paused:
                    continue
                report.hits += 1
                per_dest.setdefault(sub.destination, []).append((sub, hit.terms))
            for dest, matched in per_dest.items():
                terms = tuple(dict.fromkeys(t for _, ts in matched for t in ts))
                entries.append(
                    OutboxEntry(
                        destination=dest,
                        paper_id=paper.id,
                        subscription_ids=tuple(s.id for s, _ in matched),
                        due_at=min(next_due(s.schedule, now) for s, _ in matched),
                        terms=terms,
                    )
                )
        queued = await self.store.claim_and_enqueue(entries)
        report.queued = len(queued)
        return report
