"""Outbox -> adapters: batching, digests, pacing, retries, and pausing dead channels.

One cycle leases every due entry, groups them by destination and posts each group as
messages of at most `max_per_post` cards (the first message says how many follow;
the rest go in its thread; a digest shows the most upvoted, then the newest, first).
An entry is acked only after its adapter confirmed the post, so a crash between lease
and ack re-delivers after the lease expires and loses nothing. Rate limits wait as
long as the platform asks; passing errors back off exponentially; permanent errors
(channel gone, bot removed) pause the destination's subscriptions with the reason,
visible in `/papers subscriptions`, and the people who made a channel's
subscriptions are told by direct message (nobody else would notice).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from adapters.base import ChatAdapter, DeliveryError, PermanentDeliveryError, RateLimited
from bot.cards import card_for
from bot.messages import Card, MessageRef, Reply, plural
from bot.models import (
    CLI_CREATOR,
    Destination,
    OutboxEntry,
    Paper,
    Subscription,
    user_destination,
    utcnow,
)
from bot.store import Store

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0


@dataclass
class DeliveryReport:
    """What one cycle did."""

    posted: int = 0
    messages: int = 0
    retried: int = 0
    dropped: int = 0
    paused: list[str] = field(default_factory=list)


def _rank(paper: Paper) -> tuple[int, float]:
    """A digest's order: upvotes, then publication date, both descending."""
    published = paper.published.timestamp() if paper.published else 0.0
    return -(paper.upvotes or 0), -published


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failure: 30 s doubling, capped, jittered."""
    base = min(30.0 * 2.0 ** max(attempts - 1, 0), MAX_BACKOFF)
    return float(base * random.uniform(0.8, 1.2))


class Delivery:
    """Posts due outbox entries through the adapter of each destination's platform."""

    def __init__(
        self,
        store: Store,
        adapters: Mapping[str, ChatAdapter],
        *,
        max_per_post: int = 5,
        lease_seconds: float = 300,
        pacing: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        summarize: Callable[[Paper, tuple[str, ...]], Awaitable[str]] | None = None,
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.max_per_post = max_per_post
        self.lease_seconds = lease_seconds
        self.pacing = pacing
        self.clock = clock
        self.summarize = summarize
        self._last_post: dict[Destination, float] = {}

    async def run_once(self, batch: int = 1000) -> DeliveryReport:
        """Deliver everything due now; returns what happened."""
        report = DeliveryReport()
        while True:
            now = self.clock()
            entries = await self.store.lease(now, self.lease_seconds, limit=batch)
            if not entries:
                return report
            groups: dict[Destination, list[OutboxEntry]] = {}
            for entry in entries:
                groups.setdefault(entry.destination, []).append(entry)
            for destination, group in groups.items():
                await self._deliver(destination, group, now, report)
            if len(entries) < batch:
                return report

    async def _deliver(
        self,
        destination: Destination,
        entries: list[OutboxEntry],
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        adapter = self.adapters.get(destination.platform)
        if adapter is None:
            error = f"no {destination.platform} adapter is configured"
            for entry in entries:
                await self.store.retry(entry.id, now + timedelta(seconds=MAX_BACKOFF), error)
            report.retried += len(entries)
            return
        live, dead, digest = await self._live_entries(destination, entries)
        if dead:
            await self.store.ack([e.id for e in dead])
            report.dropped += len(dead)
        papers = await self.store.get_papers([e.paper_id for e in live])
        missing = [e for e in live if e.paper_id not in papers]
        if missing:
            log.warning("dropping %d outbox entries of unknown papers", len(missing))
            await self.store.ack([e.id for e in missing])
            report.dropped += len(missing)
        live = [e for e in live if e.paper_id in papers]
        if digest:  # the most upvoted first, then the newest; instant posts keep their order
            live.sort(key=lambda e: _rank(papers[e.paper_id]))
        cards = []
        for e in live:
            paper = papers[e.paper_id]
            summary = await self.summarize(paper, e.terms) if self.summarize else None
            cards.append(card_for(paper, e.terms, e.subscription_ids, summary))
        chunks = [
            (live[i : i + self.max_per_post], cards[i : i + self.max_per_post])
            for i in range(0, len(live), self.max_per_post)
        ]
        subs = ", ".join(sorted({s for c in cards for s in c.subscription_ids}))
        thread: MessageRef | None = None
        for index, (chunk, chunk_cards) in enumerate(chunks):
            reply = self._reply(chunk_cards, len(cards), index, digest, subs)
            try:
                await self._pace(destination)
                ref = await adapter.send(destination, reply, thread)
            except RateLimited as exc:
                await self._retry_rest(chunks[index:], now, exc.retry_after, str(exc), report)
                return
            except PermanentDeliveryError as exc:
                running = await self.store.list_subscriptions(destination.tenant, destination)
                paused = await self.store.pause_destination(destination, exc.reason)
                log.warning("pausing %s (%d subscriptions): %s", destination, paused, exc.reason)
                report.paused.append(f"{destination}: {exc.reason}")
                rest = [e.id for c, _ in chunks[index:] for e in c]
                await self.store.ack(rest)
                report.dropped += len(rest)
                if not destination.is_user:
                    await self._tell_creators(adapter, [s for s in running if not s.paused], exc)
                return
            except Exception as exc:  # adapter bugs and passing errors alike: retry later
                delay = backoff(max(e.attempts for e in chunk))
                if isinstance(exc, DeliveryError):  # says what went wrong in words
                    log.warning(
                        "posting to %s failed, retry in %.0f s: %s", destination, delay, exc
                    )
                    problem = str(exc)
                else:
                    log.exception("adapter %s failed posting to %s", adapter.platform, destination)
                    problem = repr(exc)
                await self._retry_rest(chunks[index:], now, delay, problem, report)
                return
            thread = thread or ref
            await self.store.ack([e.id for e in chunk])
            posted_for = [s for e in chunk for s in e.subscription_ids]
            await self.store.mark_posted(destination.tenant, posted_for, now)
            report.posted += len(chunk)
            report.messages += 1

    async def _tell_creators(
        self, adapter: ChatAdapter, subs: list[Subscription], exc: PermanentDeliveryError
    ) -> None:
        """DM each person whose channel subscriptions were just paused: what, why, and
        how to turn them back on. A DM that fails is logged; nothing else depends on it."""
        by_creator: dict[str, list[Subscription]] = {}
        for sub in subs:
            if sub.created_by and sub.created_by != CLI_CREATOR:
                by_creator.setdefault(sub.created_by, []).append(sub)
        for creator, theirs in by_creator.items():
            first = theirs[0]
            it, which = ("it", first.id) if len(theirs) == 1 else ("them", "all")
            dm = user_destination(first.destination.platform, first.destination.workspace, creator)
            text = (
                f"I could not post to the channel of {plural(len(theirs), 'subscription')} "
                f"you made, so I paused {it}: {exc.reason}."
            )
            hint = (
                f"Once that is fixed, `/papers resume {which}` in that channel turns {it} back on."
            )
            lines = tuple(f"`{s.id}` {s.query}" for s in theirs)
            try:
                await self._pace(dm)
                told = Reply(
                    text=text, lines=lines, footer=hint, ephemeral=False, about=first.destination
                )
                await adapter.send(dm, told)
            except Exception as error:  # a DM is a courtesy: the pause already happened
                log.warning(
                    "could not tell %s about the pause of %s: %r", dm, first.destination, error
                )

    async def _live_entries(
        self, destination: Destination, entries: list[OutboxEntry]
    ) -> tuple[list[OutboxEntry], list[OutboxEntry], bool]:
        """Split entries into those with an active subscription and orphans; and say
        whether any active subscription is a digest.

        An entry whose subscriptions were all removed or paused since it was queued
        is not posted (pausing means: stop posting).
        """
        subs: dict[str, Subscription | None] = {}
        for entry in entries:
            for sub_id in entry.subscription_ids:
                if sub_id not in subs:
                    subs[sub_id] = await self.store.get_subscription(destination.tenant, sub_id)
        live: list[OutboxEntry] = []
        dead: list[OutboxEntry] = []
        for entry in entries:
            active = any(
                (s := subs[i]) is not None and not s.paused for i in entry.subscription_ids
            )
            (live if active else dead).append(entry)
        digest = any(s is not None and s.schedule.kind != "instant" for s in subs.values())
        return live, dead, digest

    def _reply(
        self, cards: Sequence[Card], total: int, index: int, digest: bool, subs: str
    ) -> Reply:
        """One message of a delivery: the first names every subscription of it."""
        if index:
            return Reply(text="", cards=tuple(cards), ephemeral=False)
        count = plural(total, "paper" if digest else "new paper")
        text = f"Digest: {count} for {subs}" if digest else f"{count} for {subs}"
        footer = None
        if total > len(cards):
            footer = f"+{total - len(cards)} more in the thread"
        return Reply(text=text, cards=tuple(cards), ephemeral=False, footer=footer)

    async def _retry_rest(
        self,
        chunks: Sequence[tuple[list[OutboxEntry], list[Card]]],
        now: datetime,
        delay: float,
        error: str,
        report: DeliveryReport,
    ) -> None:
        due = now + timedelta(seconds=delay)
        for chunk, _ in chunks:
            for entry in chunk:
                await self.store.retry(entry.id, due, error)
                report.retried += 1

    async def _pace(self, destination: Destination) -> None:
        """At most one message per `pacing` seconds to one destination."""
        if self.pacing <= 0:
            return
        last = self._last_post.get(destination)
        if last is not None:
            wait = self.pacing - (time.monotonic() - last)
            if wait > 0:
                await asyncio.sleep(wait)
        self._last_post[destination] = time.monotonic()
