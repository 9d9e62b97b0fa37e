"""Fixtures of the Discord tests: a fake Discord REST API on a random loopback port,
a stand-in core, and adapters pointed at the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import discord
import pytest
from fake_discord import FakeDiscord
from loopback import serve

from adapters.discord_bot import DiscordAdapter
from bot.config import DiscordSettings
from bot.messages import Card, Command, Reply


class Core:
    """Stands in for the core: records commands, answers as told."""

    def __init__(self, reply: Reply | None = None) -> None:
        self.commands: list[Command] = []
        self.reply = reply or Reply(text="ok")

    async def __call__(self, command: Command) -> Reply:
        self.commands.append(command)
        return self.reply

    @property
    def texts(self) -> list[str]:
        """The command texts received, in order."""
        return [c.text for c in self.commands]


def card(title: str = "A paper", paper_id: str = "arxiv:2411.00001", **kw: Any) -> Card:
    """A card with an arXiv URL."""
    url = f"https://arxiv.org/abs/{paper_id.removeprefix('arxiv:')}"
    return Card(paper_id=paper_id, title=title, url=url, **kw)


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A running fake Discord; `fake.url` is the API base (…/api/v10)."""
    fake = FakeDiscord()
    base = discord.http.Route.BASE
    async with serve(fake.app()) as url:
        fake.url = f"{url}/api/v10"
        yield fake
    discord.http.Route.BASE = base


@pytest.fixture
def core() -> Core:
    """The stand-in core."""
    return Core()


@pytest.fixture
async def make_bot(
    fake_discord: FakeDiscord, core: Core
) -> AsyncIterator[Callable[..., DiscordAdapter]]:
    """`make_bot(**settings)`: adapters on the fake Discord, closed after the test."""
    bots: list[DiscordAdapter] = []

    def make(ids: Any = None, **settings: Any) -> DiscordAdapter:
        config = DiscordSettings(token="test", api_url=fake_discord.url, **settings)  # type: ignore[arg-type]
        bot = DiscordAdapter(config, core, ids)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.stop()
