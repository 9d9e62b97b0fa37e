"""Fixtures of the Slack tests: a fake Slack server on a random loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_slack import FakeSlack
from loopback import serve


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A running fake Slack; its Web API base URL is `fake.url + "/api/"`."""
    fake = FakeSlack()
    async with serve(fake.app()) as url:
        fake.url = url
        yield fake
        await fake.close_sockets()
