"""Builds paperbot from Settings and runs it: sources -> pipeline -> delivery -> adapters.

`App.open(settings)` wires the store, the paper index, the router (percolator), the
command core and the chat adapters that have tokens; `cycle()` is one round (poll
every enabled source once, index and route what is new, deliver what is due) and
`run()` repeats it forever while the adapters take commands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from adapters.base import ChatAdapter
from adapters.console import ConsoleAdapter
from bot.commands import Core
from bot.config import Settings, safe_url
from bot.delivery import Delivery, DeliveryReport
from bot.ledger import prune_daily
from bot.messages import Command, Reply
from bot.models import Destination, Paper, Tenant, utcnow
from bot.pipeline import Sources, idle
from bot.routing import Router
from bot.search import PaperIndex
from bot.store import Store, open_store
from bot.summarize_llm import Summarizer

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    """What one cycle did."""

    fetched: int = 0
    new: int = 0
    queued: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


class App:
    """Everything paperbot runs, built from one Settings object."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        index: PaperIndex,
        adapters: dict[str, ChatAdapter],
        clock: Callable[[], datetime] = utcnow,
        sources: Sources | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        self.clock = clock
        self.sources = sources or Sources(settings)
        self.router = Router(store, clock)
        self._processing = asyncio.Lock()
        self.core = Core(
            store,
            index,
            timezone=settings.delivery.timezone,
            digest_time=settings.delivery.digest_time,
            clock=clock,
        )
        self.adapters = adapters
        self.summarizer = Summarizer(settings.summaries.llm, store, clock=clock)
        self.delivery = Delivery(
            store,
            adapters,
            max_per_post=settings.delivery.max_per_post,
            lease_seconds=settings.delivery.lease_seconds,
            clock=clock,
            summarize=self.summarizer.tldr,
        )

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        console: ConsoleAdapter | None = None,
        clock: Callable[[], datetime] = utcnow,
        sources: Sources | None = None,
    ) -> App:
        """Open the store and index, and build the adapters that have tokens.

        A console adapter is always present (`console`, or one printing to stdout),
        so console destinations get their posts.
        """
        store = await open_store(settings.store_url)
        try:
            index = await PaperIndex.open(settings.index_dir)
            await index.catch_up(store)
        except BaseException:
            await store.close()
            raise
        console = console or ConsoleAdapter()
        adapters: dict[str, ChatAdapter] = {"console": console}
        app = cls(settings, store, index, adapters, clock, sources)
        for adapter in build_platform_adapters(settings, app.handle, app.core.ids):
            adapters[adapter.platform] = adapter
        console.handle = app.handle
        return app

    @property
    def platform_adapters(self) -> list[ChatAdapter]:
        """The Slack and Discord adapters (those with tokens)."""
        return [a for name, a in self.adapters.items() if name != "console"]

    async def handle(self, command: Command) -> Reply:
        """The one entry point of every adapter."""
        return await self.core.handle(command)

    async def on_papers(self, new: Sequence[Paper], updated: Sequence[Paper]) -> None:
        """Papers were just stored: re-index the updated ones (new ones come in order)."""
        if updated:
            await self.index.add(updated)

    async def process(self) -> int:
        """Index and route everything stored since the last call; entries queued.

        One at a time: the source loop and the console may both ask.
        """
        async with self._processing:
            await self.index.catch_up(self.store)
            return (await self.router.catch_up()).queued

    async def cycle(self) -> CycleReport:
        """One round: poll every enabled source once, index, route, deliver."""
        report = CycleReport()
        polled = await self.poll()
        report.fetched, report.new = polled
        report.queued = await self.process()
        report.delivery = await self.deliver()
        await prune_daily(self.store, self.clock())
        return report

    async def poll(self) -> tuple[int, int]:
        """Poll every enabled source once; (fetched, new)."""
        report = await self.sources.poll_all(self.store, self.on_papers)
        return report.fetched, report.new

    async def catch_up(self) -> DeliveryReport:
        """Route what other processes stored, then deliver what is due."""
        await self.process()
        return await self.deliver()

    async def deliver(self) -> DeliveryReport:
        """Post everything that is due."""
        return await self.delivery.run_once()

    async def close(self) -> None:
        """Stop adapters, close the index and the store."""
        for adapter in self.adapters.values():
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", adapter.platform)
        await self.sources.aclose()
        await self.summarizer.aclose()
        await self.index.close()
        await self.store.close()

    async def run(self, console_repl: bool = False, platforms: bool = True) -> None:
        """Run until cancelled (or, with `console_repl`, until the console's input ends).

        Adapters start in the background (Slack and Discord only with `platforms`);
        sources are polled, new papers indexed and routed, and the outbox delivered,
        each on its own interval. In the console, every command is followed by a
        routing and delivery round, so posts show up at once.
        """
        adapters = self.platform_adapters if platforms else []
        polling = ", ".join(f"{n} every {s:.0f} s" for n, s in self.sources.intervals.items())
        log.info(
            "paperbot running: %s; store %s; polling %s",
            ", ".join(a.platform for a in adapters) or "console only",
            safe_url(self.settings.store_url),
            polling or "no source",
        )
        starts = {asyncio.create_task(a.start()) for a in adapters}
        loops = {
            asyncio.create_task(self.run_sources_forever()),
            asyncio.create_task(self.run_delivery_forever()),
        }
        console = self.adapters["console"]
        if console_repl and isinstance(console, ConsoleAdapter):
            loops.add(asyncio.create_task(console.repl(after_each=self.catch_up)))
        try:
            while True:
                done, _ = await asyncio.wait(starts | loops, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # an adapter that failed to start raises here
                if done & loops:
                    return  # the console's input ended
                starts -= done  # an adapter that connected and returned: keep running
        finally:
            for task in starts | loops:
                task.cancel()
            await asyncio.gather(*starts, *loops, return_exceptions=True)

    async def run_sources_forever(self) -> None:
        """Poll each source on its own interval, then index and route, until cancelled.

        Papers stored by other processes (`paperbot ingest`) are routed at least every
        `delivery.interval` seconds.
        """
        while True:
            try:
                await self.sources.poll_all(self.store, self.on_papers, due_only=True)
                await self.process()
            except Exception:
                log.exception("source cycle failed; retrying next cycle")
            wait = min(self.sources.next_poll_in(), self.settings.delivery.interval)
            await idle(max(wait, 1.0))

    async def run_delivery_forever(self) -> None:
        """Deliver every `delivery.interval` seconds until cancelled."""
        while True:
            try:
                await self.deliver()
                await prune_daily(self.store, self.clock())
            except Exception:
                log.exception("delivery cycle failed; retrying next cycle")
            await idle(self.settings.delivery.interval)


def build_platform_adapters(
    settings: Settings,
    handle: Callable[[Command], Awaitable[Reply]],
    ids: Callable[[Tenant, Destination], Awaitable[list[tuple[str, str]]]],
) -> list[ChatAdapter]:
    """The Slack and Discord adapters whose tokens are configured."""
    adapters: list[ChatAdapter] = []
    if settings.slack.bot_token is not None:
        from adapters.slack import SlackAdapter

        adapters.append(SlackAdapter(settings.slack, handle))
    if settings.discord.token is not None:
        from adapters.discord_bot import DiscordAdapter

        adapters.append(DiscordAdapter(settings.discord, handle, ids))
    return adapters
