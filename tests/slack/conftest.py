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


@pytest.fixture
def slack_env(fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> FakeSlack:
    """`paperbot run` pointed at the fake Slack, with the paper sources off."""
    monkeypatch.setenv("PAPERBOT_SLACK__BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("PAPERBOT_SLACK__API_URL", f"{fake_slack.url}/api/")
    monkeypatch.setenv("PAPERBOT_SOURCES__HUGGINGFACE__ENABLED", "false")
    monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV__ENABLED", "false")
    return fake_slack
