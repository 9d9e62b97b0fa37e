"""End to end through the console adapter: subscribe, ingest, cycle, read the posts."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console import ConsoleAdapter
from bot.app import App, CycleReport
from bot.config import load_settings
from bot.messages import Reply
from bot.models import Paper


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class ConsoleBot:
    """Drives a real App through its console adapter."""

    app: App
    console: ConsoleAdapter
    out: io.StringIO
    clock: Clock

    async def say(self, line: str) -> Reply:
        reply = await self.console.say(line)
        assert reply is not None
        return reply

    async def ingest(self, *papers: Paper) -> None:
        await self.app.store.put_papers(papers)

    async def cycle(self) -> CycleReport:
        return await self.app.cycle()

    def take_output(self) -> str:
        text = self.out.getvalue()
        self.out.seek(0)
        self.out.truncate()
        return text


NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def paper(n: int, title: str, abstract: str = "", days_old: float = 0.5) -> Paper:
    return Paper(
        id=f"arxiv:2411.{n:05d}",
        title=title,
        abstract=abstract,
        authors=("Ada Lovelace", "Alan Turing"),
        sources=("arxiv",),
        published=NOW - timedelta(days=days_old),
    )


@pytest.fixture(params=["sqlite", "redis"])
async def bot(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ConsoleBot]:
    url = (
        f"sqlite:///{tmp_path / 'paperbot.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("clean_redis")
    )
    settings = load_settings(
        None,
        data_dir=tmp_path,
        store={"url": url},
        sources={"huggingface": {"enabled": False}, "arxiv": {"enabled": False}},
    )
    out = io.StringIO()
    console = ConsoleAdapter(channel="lab", user="ada", out=out)
    clock = Clock(NOW)
    app = await App.open(settings, console=console, clock=clock)
    app.delivery.pacing = 0
    yield ConsoleBot(app, console, out, clock)
    await app.close()


async def test_subscribe_ingest_post_once(bot: ConsoleBot) -> None:
    reply = await bot.say("/papers subscribe diffusion -survey")
    assert "Subscribed this channel" in reply.text
    await bot.say("/papers subscribe robot*")
    await bot.ingest(
        paper(1, "Diffusion Policies for Robots"),
        paper(2, "A Survey of Diffusion Models"),
        paper(3, "Graph Neural Networks"),
        paper(4, "Robotic Grasping", "Robots grasp things."),
    )
    bot.take_output()
    report = await bot.cycle()
    assert report.queued == 2 and report.delivery.posted == 2
    posts = bot.take_output()
    assert posts.count("Diffusion Policies for Robots") == 1
    assert posts.count("Robotic Grasping") == 1
    assert "Survey of Diffusion" not in posts and "Graph Neural" not in posts
    assert "paperbot → #lab" in posts
    # Both subscriptions matched paper 1: one card listing both.
    subs = {s.id for s in await bot.app.store.list_subscriptions(bot.console.destination.tenant)}
    assert all(s in posts for s in subs)
    # Running again posts nothing; an upvote update is not new.
    await bot.ingest(
        Paper(id="arxiv:2411.00001", title="Diffusion Policies for Robots", upvotes=99)
    )
    again = await bot.cycle()
    assert again.queued == 0 and again.delivery.posted == 0
    assert bot.take_output() == ""


async def test_the_ledger_is_pruned_as_the_bot_runs(bot: ConsoleBot) -> None:
    await bot.say("/papers subscribe diffusion")
    await bot.ingest(paper(1, "Diffusion Policies for Robots"))
    assert (await bot.cycle()).delivery.posted == 1
    lab = str(bot.console.destination)
    assert {str(d): ids async for d, ids in bot.app.store.ledger()} == {lab: ["arxiv:2411.00001"]}
    bot.clock.now += timedelta(days=40)  # the paper is old now: its claim is of no use
    await bot.cycle()
    assert [d async for d, _ in bot.app.store.ledger()] == []
    await bot.app.store.set_cursor("router", "0")  # even routing it all again
    assert (await bot.cycle()).queued == 0  # posts nothing twice


async def test_search_and_preview_from_the_console(bot: ConsoleBot) -> None:
    await bot.ingest(paper(1, "Domain Generalization via MixStyle", "We propose MixStyle."))
    await bot.app.process()
    reply = await bot.say('/papers search "domain generalization"')
    assert [c.paper_id for c in reply.cards] == ["arxiv:2411.00001"]
    assert "MixStyle" in bot.take_output()
    preview = await bot.say("/papers preview domain generalization")
    assert "would have posted 1 paper in" in preview.text


async def test_backfilled_papers_are_searchable_but_not_posted(bot: ConsoleBot) -> None:
    await bot.say("subscribe diffusion")
    await bot.ingest(paper(1, "Old diffusion", days_old=30), paper(2, "New diffusion"))
    report = await bot.cycle()
    assert report.delivery.posted == 1
    assert "New diffusion" in bot.take_output()
    found = await bot.say("search diffusion")
    assert {c.paper_id for c in found.cards} == {"arxiv:2411.00001", "arxiv:2411.00002"}


async def test_follow_goes_to_the_users_dm_as_a_digest(bot: ConsoleBot) -> None:
    await bot.say('/papers follow author:"Alan Turing" --digest daily@09:00 --tz Europe/Berlin')
    await bot.ingest(paper(1, "Computing Machinery"))
    bot.take_output()
    assert (await bot.cycle()).delivery.posted == 0  # 13:00 in Berlin: tomorrow's digest
    bot.clock.now = datetime(2026, 11, 25, 7, 59, tzinfo=UTC)
    assert (await bot.cycle()).delivery.posted == 0
    bot.clock.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert (await bot.cycle()).delivery.posted == 1
    posts = bot.take_output()
    assert "paperbot → @ada" in posts and "Digest: 1 paper" in posts


async def test_digest_across_dst_and_digest_now(bot: ConsoleBot) -> None:
    bot.clock.now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    await bot.say("/papers subscribe gan --digest daily@09:00 --tz Europe/Berlin")
    await bot.ingest(
        Paper(id="arxiv:2603.00001", title="GAN", published=bot.clock.now - timedelta(hours=1))
    )
    await bot.cycle()
    bot.clock.now = datetime(2026, 3, 29, 6, 59, tzinfo=UTC)  # 08:59 CEST after the change
    assert (await bot.cycle()).delivery.posted == 0
    bot.clock.now = datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert (await bot.cycle()).delivery.posted == 1
    # /papers digest sends the pending digest at once.
    await bot.ingest(Paper(id="arxiv:2603.00002", title="GAN two", published=bot.clock.now))
    await bot.cycle()
    assert "1 pending paper will be posted" in (await bot.say("/papers digest")).text
    assert (await bot.cycle()).delivery.posted == 1


async def test_a_stored_invalid_query_is_paused_not_fatal(bot: ConsoleBot) -> None:
    broken = await bot.app.store.add_subscription(bot.console.destination, "(unclosed")
    await bot.say("/papers subscribe diffusion")
    await bot.ingest(paper(1, "Diffusion"))
    assert (await bot.cycle()).delivery.posted == 1
    stored = await bot.app.store.get_subscription(bot.console.destination.tenant, broken.id)
    assert stored is not None and stored.paused
    assert stored.paused_reason and stored.paused_reason.startswith("invalid query")


async def test_run_keeps_going_after_adapters_connect(bot: ConsoleBot) -> None:
    import asyncio

    class Connects:
        platform = "slack"
        started = False

        async def start(self) -> None:
            self.started = True  # connects and returns, like Socket Mode

        async def stop(self) -> None:
            """Nothing to stop."""

        async def send(self, destination, reply, thread=None):  # type: ignore[no-untyped-def]
            raise AssertionError("nothing to send")

    adapter = Connects()
    bot.app.adapters["slack"] = adapter  # type: ignore[assignment]
    task = asyncio.create_task(bot.app.run())
    await asyncio.sleep(0.2)
    assert adapter.started and not task.done()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
