"""Shared pieces of the source tests: recorded-shape payloads and a fetcher on MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.sources.http import Fetcher, Politeness, make_client

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

Handler = Callable[[httpx.Request], httpx.Response]


class Sleeps:
    """Records the waits a fetcher asks for, without waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def hf_items() -> list[dict[str, Any]]:
    """Six daily_papers items: two good, four bad (bad id, wrong types, no paper, dup)."""
    items: list[dict[str, Any]] = json.loads((FIXTURES / "hf_daily_papers.json").read_text())
    return items


@pytest.fixture
def rss() -> bytes:
    """An arXiv announcement: new, cross, replace, replace-cross and three bad items."""
    return (FIXTURES / "arxiv_rss.xml").read_bytes()


@pytest.fixture
def atom() -> bytes:
    """An export-API answer with one entry (2310.00001v3)."""
    return (FIXTURES / "arxiv_api.xml").read_bytes()


@pytest.fixture
def rss_empty() -> bytes:
    """A weekend announcement: no items, skipDays Saturday and Sunday."""
    return (FIXTURES / "arxiv_rss_empty.xml").read_bytes()


@pytest.fixture
def api_error() -> bytes:
    """The export API's answer to a malformed id: an Atom feed with one error entry."""
    return (FIXTURES / "arxiv_api_error.xml").read_bytes()


@pytest.fixture
def sleeps() -> Sleeps:
    """The fake sleep given to fetchers."""
    return Sleeps()


@pytest.fixture
def make_fetcher(sleeps: Sleeps) -> Callable[..., Fetcher]:
    """`make_fetcher(handler, polite=False, **kw)`: a Fetcher on a MockTransport."""

    def make(handler: Handler, polite: bool = False, **kw: Any) -> Fetcher:
        client = make_client(5, httpx.MockTransport(handler))
        politeness = Politeness(0) if polite else None
        return Fetcher(client, retries=3, sleep=sleeps, politeness=politeness, **kw)

    return make
