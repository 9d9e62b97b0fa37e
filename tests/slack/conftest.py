"""Fixtures of the Slack tests: a fake Slack server on a random loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from fake_slack import FakeSlack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A running fake Slack; its Web API base URL is `fake.url + "/api/"`."""
    fake = FakeSlack()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()
