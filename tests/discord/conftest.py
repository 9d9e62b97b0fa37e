"""Fixtures of the Discord tests: a fake Discord REST API on a random loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
from fake_discord import FakeDiscord
from loopback import serve


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A running fake Discord; `fake.url` is the API base (…/api/v10)."""
    fake = FakeDiscord()
    base = discord.http.Route.BASE
    async with serve(fake.app()) as url:
        fake.url = f"{url}/api/v10"
        yield fake
    discord.http.Route.BASE = base
