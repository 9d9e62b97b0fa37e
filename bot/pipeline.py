"""Ingest: sources -> merged records in the store -> whoever wants the new papers.

`store_batch` merges a Batch into the store and reports `fetched/new/updated/skipped`;
revisions (arXiv replacements) only update papers already stored. What comes after
the store (search index, matcher, outbox) plugs in as a `PaperSink`: its
`on_papers(new, updated)` sees the stored records (the app also follows the store's
ingest sequence, see bot/app.py).

`Sources` owns the one HTTP client and the polite arXiv fetcher; `poll_all` polls each
enabled source once from its stored cursor, `poll_forever` on each one's
`poll_interval`. A source that fails this time (after retries) is logged and tried
again next poll; the others go on. A store that fails raises.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from bot.config import Settings
from bot.models import Paper, utcnow
from bot.poll_status import PollStatus, record_poll
from bot.sources.arxiv import ArxivSource
from bot.sources.base import Batch, Source
from bot.sources.http import Fetcher, SourceError, make_client, shared_politeness
from bot.sources.huggingface import HuggingFaceSource
from bot.store import Store

log = logging.getLogger(__name__)

ARXIV_INTERVAL = 3.0
CHUNK = 1000

OnPapers = Callable[[Sequence[Paper], Sequence[Paper]], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class PaperSink(Protocol):
    """What runs on freshly stored papers (index, matcher, outbox); pass `sink.on_papers`."""

    async def on_papers(self, new: Sequence[Paper], updated: Sequence[Paper]) -> None:
        """Called after each stored chunk with its new and its changed papers."""
        ...


@dataclass
class IngestReport:
    """Counts of one ingest: read from sources, new, updated, skipped as bad."""

    fetched: int = 0
    new: int = 0
    updated: int = 0
    skipped: int = 0

    def add(self, other: IngestReport) -> None:
        """Add another report's counts."""
        self.fetched += other.fetched
        self.new += other.new
        self.updated += other.updated
        self.skipped += other.skipped

    def line(self) -> str:
        """`fetched=N new=M updated=K skipped=S`."""
        return (
            f"fetched={self.fetched} new={self.new} updated={self.updated} skipped={self.skipped}"
        )


async def store_batch(
    store: Store, batch: Batch, on_papers: OnPapers | None = None, chunk: int = CHUNK
) -> IngestReport:
    """Merge a batch into the store; `on_papers(new, updated)` sees the stored records.

    Revisions update papers the store has and are dropped otherwise: a new version
    never makes a new paper.
    """
    report = IngestReport(fetched=batch.total, skipped=len(batch.skipped))
    papers = list(batch.papers)
    if batch.revisions:
        known = await store.get_papers([p.id for p in batch.revisions])
        papers += [p for p in batch.revisions if p.id in known]
        if dropped := len(batch.revisions) - len(known):
            log.info("%d new versions of papers not stored here: left out", dropped)
    for start in range(0, len(papers), chunk):
        result = await store.put_papers(papers[start : start + chunk])
        report.new += len(result.new)
        report.updated += len(result.updated)
        if on_papers is not None and (result.new or result.updated):
            stored = await store.get_papers([*result.new, *result.updated])
            await on_papers(
                [stored[i] for i in result.new if i in stored],
                [stored[i] for i in result.updated if i in stored],
            )
    return report


def polled_every(settings: Settings) -> dict[str, float]:
    """Seconds between polls of each source `paperbot run` polls with these settings."""
    cfg = settings.sources
    every: dict[str, float] = {}
    if cfg.huggingface.enabled:
        every["huggingface"] = cfg.huggingface.poll_interval
    if cfg.arxiv.enabled and cfg.arxiv.categories:
        every["arxiv"] = cfg.arxiv.poll_interval
    return every


class Sources:
    """The enabled paper sources of a Settings, sharing one HTTP client.

    arXiv requests go through the process-wide arXiv politeness limiter (one request
    every `arxiv_interval` seconds, one at a time).
    """

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        arxiv_interval: float = ARXIV_INTERVAL,
    ) -> None:
        cfg = settings.sources
        self.client = make_client(cfg.timeout, transport)
        fetcher = Fetcher(self.client, retries=cfg.max_retries, sleep=sleep)
        polite = Fetcher(
            self.client,
            retries=cfg.max_retries,
            sleep=sleep,
            politeness=shared_politeness("arxiv", arxiv_interval),
        )
        self.huggingface = HuggingFaceSource(fetcher, cfg.huggingface.base_url)
        self.arxiv = ArxivSource(polite, cfg.arxiv.categories, cfg.arxiv.rss_url, cfg.arxiv.api_url)
        self.fetchers = {self.huggingface.name: fetcher, self.arxiv.name: polite}
        self.intervals = polled_every(settings)
        self.enabled: list[Source] = [
            source for source in (self.huggingface, self.arxiv) if source.name in self.intervals
        ]
        self._next: dict[str, float] = {}

    def next_poll_in(self) -> float:
        """Seconds until the next source is due (its own `poll_interval` after its poll)."""
        now = time.monotonic()
        waits = [self._next.get(s.name, now) - now for s in self.enabled]
        return max(0.0, min(waits, default=3600.0))

    async def poll_all(
        self, store: Store, on_papers: OnPapers | None = None, due_only: bool = False
    ) -> IngestReport:
        """Poll every enabled source once from its stored cursor (only those due, if asked).

        A source that cannot be read is logged and skipped until its next poll; a
        store error raises. Remembered ETags survive only polls stored in full, so a
        half-read or unstored poll is fetched in full next time.
        """
        total = IngestReport()
        for source in self.enabled:
            now = time.monotonic()
            if due_only and self._next.get(source.name, now) > now:
                continue
            self._next[source.name] = now + self.intervals[source.name]
            fetcher = self.fetchers.get(source.name)
            cursor = await store.get_cursor(source.name)
            try:
                batch, new_cursor = await source.poll(cursor)
            except Exception as exc:
                if fetcher is not None:
                    fetcher.forget()
                if not isinstance(exc, SourceError):
                    log.exception("%s: polling failed; trying again next poll", source.name)
                    detail = "unexpected error (in the bot's log)"
                else:
                    log.warning("%s: %s; trying again next poll", source.name, exc)
                    detail = str(exc)
                await record_poll(store, PollStatus(source.name, utcnow(), False, detail))
                continue
            clean = False
            try:
                report = await store_batch(store, batch, on_papers)
                await store.set_cursor(source.name, new_cursor)
                clean = batch.complete
            finally:
                if not clean and fetcher is not None:
                    fetcher.forget()
            log.info("%s: %s", source.name, report.line())
            await record_poll(store, PollStatus(source.name, utcnow(), True, report.line()))
            total.add(report)
        return total

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()


async def idle(seconds: float, sleep: Sleep = asyncio.sleep) -> None:
    """Wait between two rounds of a loop that runs until cancelled.

    A cancellation that a library swallowed during the round is raised here first:
    Python 3.11's `asyncio.wait_for` (redis-py wraps every write in it when a socket
    timeout is set) drops a cancel that lands as the write completes, and the loop
    would run on, hanging `paperbot run`'s shutdown.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
    await sleep(seconds)


async def poll_forever(
    sources: Sources,
    store: Store,
    on_papers: OnPapers | None = None,
    *,
    after_poll: Callable[[], Awaitable[object]] | None = None,
    max_wait: float = 60.0,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Poll each enabled source every its `poll_interval`, until cancelled.

    `after_poll` runs after every round (e.g. index and route what is stored); the
    loop wakes at least every `max_wait` seconds. A failing round (store down) is
    logged and the loop goes on.
    """
    while True:
        try:
            await sources.poll_all(store, on_papers, due_only=True)
            if after_poll is not None:
                await after_poll()
        except Exception:
            log.exception("source round failed; trying again next round")
        await idle(max(min(sources.next_poll_in(), max_wait), 1.0), sleep)
