"""Fixtures of the Discord tests: a fake Discord REST API on a random loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
from aiohttp import web
from fake_discord import FakeDiscord


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A running fake Discord; `fake.url` is the API base (…/api/v10)."""
    fake = FakeDiscord()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}/api/v10"
    base = discord.http.Route.BASE
    yield fake
    discord.http.Route.BASE = base
    await runner.cleanup()
