"""Ingest: sources -> merged records in the store (the index and router follow the
store's ingest sequence, see bot/app.py).

`Sources` owns the one HTTP client and the polite arXiv fetcher; `poll_all` polls
each enabled source once from its stored cursor. A source that fails this time
(after retries) is logged and tried again next poll; the others go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import httpx

from bot.config import Settings
from bot.models import Paper
from bot.sources.arxiv import ArxivSource
from bot.sources.base import Batch, Source
from bot.sources.http import Fetcher, Politeness, SourceError, make_client
from bot.sources.huggingface import HuggingFaceSource
from bot.store import Store

log = logging.getLogger(__name__)

ARXIV_INTERVAL = 3.0
CHUNK = 1000

OnPapers = Callable[[Sequence[Paper], Sequence[Paper]], Awaitable[None]]


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
    """Merge a batch into the store; `on_papers(new, updated)` sees the stored records."""
    report = IngestReport(
        fetched=len(batch.papers) + len(batch.skipped), skipped=len(batch.skipped)
    )
    for start in range(0, len(batch.papers), chunk):
        result = await store.put_papers(batch.papers[start : start + chunk])
        report.new += len(result.new)
        report.updated += len(result.updated)
        if on_papers is not None and (result.new or result.updated):
            stored = await store.get_papers([*result.new, *result.updated])
            await on_papers(
                [stored[i] for i in result.new if i in stored],
                [stored[i] for i in result.updated if i in stored],
            )
    return report


class Sources:
    """The enabled paper sources of a Settings, sharing one HTTP client."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        arxiv_interval: float = ARXIV_INTERVAL,
    ) -> None:
        cfg = settings.sources
        self.client = make_client(cfg.timeout, transport)
        fetcher = Fetcher(self.client, retries=cfg.max_retries, sleep=sleep)
        polite = Fetcher(
            self.client,
            retries=cfg.max_retries,
            sleep=sleep,
            politeness=Politeness(arxiv_interval),
        )
        self.huggingface = HuggingFaceSource(fetcher, cfg.huggingface.base_url)
        self.arxiv = ArxivSource(polite, cfg.arxiv.categories, cfg.arxiv.rss_url, cfg.arxiv.api_url)
        self.enabled: list[Source] = []
        self.intervals: dict[str, float] = {}
        if cfg.huggingface.enabled:
            self.enabled.append(self.huggingface)
            self.intervals[self.huggingface.name] = cfg.huggingface.poll_interval
        if cfg.arxiv.enabled and cfg.arxiv.categories:
            self.enabled.append(self.arxiv)
            self.intervals[self.arxiv.name] = cfg.arxiv.poll_interval
        self._next: dict[str, float] = {}

    def next_poll_in(self) -> float:
        """Seconds until the next source is due (its own `poll_interval` after its poll)."""
        now = time.monotonic()
        waits = [self._next.get(s.name, now) - now for s in self.enabled]
        return max(0.0, min(waits, default=3600.0))

    async def poll_all(
        self, store: Store, on_papers: OnPapers | None = None, due_only: bool = False
    ) -> IngestReport:
        """Poll every enabled source once from its stored cursor (only those due, if asked)."""
        total = IngestReport()
        for source in self.enabled:
            now = time.monotonic()
            if due_only and self._next.get(source.name, now) > now:
                continue
            self._next[source.name] = now + self.intervals[source.name]
            cursor = await store.get_cursor(source.name)
            try:
                batch, new_cursor = await source.poll(cursor)
            except SourceError as exc:
                log.warning("%s: %s; trying again next poll", source.name, exc)
                continue
            report = await store_batch(store, batch, on_papers)
            await store.set_cursor(source.name, new_cursor)
            log.info("%s: %s", source.name, report.line())
            total.add(report)
        return total

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
