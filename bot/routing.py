"""New papers -> matching subscriptions -> one outbox entry per (destination, paper).

The router keeps the percolator in step with the store (subscriptions may be added
by another process, e.g. `paperbot subscribe` while `paperbot run` is running), then
matches each new paper. Every destination gets at most one entry per paper, listing
every subscription of that destination that matched, due at the earliest time any of
them wants it (instant beats a digest). The ledger claim and the enqueue are one
atomic store step, so a paper is queued for a destination exactly once, ever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.matcher import SubscriptionIndex
from bot.models import Destination, OutboxEntry, Paper, Subscription, utcnow
from bot.schedule import next_due
from bot.store import Store

log = logging.getLogger(__name__)


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
        self.index = SubscriptionIndex()
        self._subs: dict[str, Subscription] = {}

    async def sync(self) -> None:
        """Bring the percolator in line with the store's subscriptions."""
        current = {s.id: s async for s in self.store.iter_subscriptions()}
        for sub_id, old in list(self._subs.items()):
            new = current.get(sub_id)
            if new is None or new.query != old.query:
                self.index.remove(sub_id)
                del self._subs[sub_id]
        for sub_id, sub in current.items():
            if sub_id not in self._subs:
                self.index.add(sub)
            self._subs[sub_id] = sub

    async def route(self, papers: Sequence[Paper]) -> RouteReport:
        """Queue every matching (destination, paper) pair not queued before."""
        report = RouteReport(papers=len(papers))
        if not papers:
            return report
        await self.sync()
        now = self.clock()
        entries: list[OutboxEntry] = []
        for paper in papers:
            per_dest: dict[Destination, list[tuple[Subscription, tuple[str, ...]]]] = {}
            for hit in self.index.match(paper):
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
