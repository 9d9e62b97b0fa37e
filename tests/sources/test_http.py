"""The shared HTTP layer: retries, Retry-After, size cap, conditional requests, politeness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Protocol

import httpx
import pytest

from bot import __version__
from bot.sources.http import (
    Fetcher,
    PayloadError,
    Politeness,
    SourceError,
    make_client,
    shared_politeness,
)

MakeFetcher = Callable[..., Fetcher]
Handler = Callable[[httpx.Request], httpx.Response]


class Sleeps(Protocol):
    """The `sleeps` fixture: the waits the fetcher asked for."""

    calls: list[float]


def raising(exc: type[httpx.TransportError]) -> Handler:
    """A handler that fails every request with `exc`."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc("simulated", request=request)

    return handler


TEN_MB = 10 * 1024 * 1024


async def test_client_names_paperbot_and_uses_the_timeout() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = make_client(12.5, httpx.MockTransport(handler))
    await client.get("http://x.test/")
    await client.aclose()
    assert seen[0].headers["User-Agent"].startswith(f"paperbot/{__version__} ")
    assert client.timeout.read == 12.5 and client.timeout.connect == 10.0


async def test_429_honours_retry_after_seconds(make_fetcher: MakeFetcher, sleeps: Sleeps) -> None:
    calls = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[])])
    f = make_fetcher(lambda r: next(calls))
    assert await f.get("http://x.test/a") == b"[]"
    assert sleeps.calls == [7.0]


async def test_429_honours_retry_after_as_a_date(make_fetcher: MakeFetcher, sleeps: Sleeps) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    calls = iter([httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200)])
    f = make_fetcher(lambda r: next(calls))
    assert await f.get("http://x.test/a") == b""
    assert len(sleeps.calls) == 1 and 50 < sleeps.calls[0] <= 60


async def test_a_retry_after_longer_than_a_poll_gives_up_now(
    make_fetcher: MakeFetcher, sleeps: Sleeps
) -> None:
    f = make_fetcher(lambda r: httpx.Response(503, headers={"Retry-After": "86400"}))
    with pytest.raises(SourceError, match="asked to wait 86400 s"):
        await f.get("http://x.test/a")
    assert sleeps.calls == []


@pytest.mark.parametrize(
    "handler",
    [
        lambda r: httpx.Response(503),
        lambda r: httpx.Response(500, text="<html>Internal Server Error</html>"),
        raising(httpx.ReadTimeout),
        raising(httpx.ConnectTimeout),
        raising(httpx.ConnectError),
        raising(httpx.RemoteProtocolError),
    ],
    ids=["503", "500", "read-timeout", "connect-timeout", "refused", "cut-connection"],
)
async def test_transient_failures_retry_with_backoff_then_give_up(
    make_fetcher: MakeFetcher, sleeps: Sleeps, handler: Callable[[httpx.Request], httpx.Response]
) -> None:
    f = make_fetcher(handler)
    with pytest.raises(SourceError, match="gave up after 4 tries"):
        await f.get("http://x.test/a")
    assert len(sleeps.calls) == 3
    # exponential backoff with jitter in [0.5, 1.5): 0.5-1.5, 1-3, 2-6
    assert 0.5 <= sleeps.calls[0] < 1.5 and 1 <= sleeps.calls[1] < 3 and 2 <= sleeps.calls[2] < 6


async def test_jitter_spreads_the_waits(make_fetcher: MakeFetcher, sleeps: Sleeps) -> None:
    for _ in range(5):
        with pytest.raises(SourceError):
            await make_fetcher(lambda r: httpx.Response(502)).get("http://x.test/a")
    firsts = sleeps.calls[::3]
    assert len(set(firsts)) > 1


async def test_recovers_after_a_passing_error(make_fetcher: MakeFetcher, sleeps: Sleeps) -> None:
    calls = iter([httpx.Response(502), httpx.Response(200, content=b"ok")])
    f = make_fetcher(lambda r: next(calls))
    assert await f.get("http://x.test/a") == b"ok"
    assert len(sleeps.calls) == 1


@pytest.mark.parametrize("status", [400, 403, 404, 410])
async def test_4xx_is_not_retried(make_fetcher: MakeFetcher, sleeps: Sleeps, status: int) -> None:
    f = make_fetcher(lambda r: httpx.Response(status))
    with pytest.raises(SourceError, match=f"HTTP {status}"):
        await f.get("http://x.test/a")
    assert sleeps.calls == []


async def test_a_10_mb_response_is_refused(make_fetcher: MakeFetcher) -> None:
    f = make_fetcher(lambda r: httpx.Response(200, content=b"[" + b" " * TEN_MB + b"]"))
    with pytest.raises(PayloadError, match="larger than"):
        await f.get("http://x.test/declared")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(10):
            yield b" " * (1024 * 1024)

    f = make_fetcher(lambda r: httpx.Response(200, content=chunks()))
    with pytest.raises(PayloadError, match="larger than"):
        await f.get("http://x.test/streamed")


async def test_a_response_at_the_cap_is_read(make_fetcher: MakeFetcher) -> None:
    f = make_fetcher(lambda r: httpx.Response(200, content=b"x" * 1000), max_bytes=1000)
    assert await f.get("http://x.test/a") == b"x" * 1000


async def test_etag_and_last_modified_make_conditional_requests(make_fetcher: MakeFetcher) -> None:
    seen: list[httpx.Headers] = []
    stamp = "Wed, 20 Nov 2024 00:30:00 GMT"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=b"[]", headers={"ETag": '"v1"', "Last-Modified": stamp})

    f = make_fetcher(handler)
    assert await f.get("http://x.test/feed", {"p": 0}) == b"[]"
    assert await f.get("http://x.test/feed", {"p": 0}) is None
    assert "If-None-Match" not in seen[0]
    assert seen[1]["If-None-Match"] == '"v1"' and seen[1]["If-Modified-Since"] == stamp
    assert await f.get("http://x.test/feed", {"p": 1}) == b"[]"  # another URL: unconditional
    assert "If-None-Match" not in seen[2]
    f.forget()
    assert await f.get("http://x.test/feed", {"p": 0}) == b"[]"
    assert "If-None-Match" not in seen[3]


async def test_no_validators_no_conditional_request(make_fetcher: MakeFetcher) -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200, content=b"[]")

    f = make_fetcher(handler)
    await f.get("http://x.test/feed")
    await f.get("http://x.test/feed")
    assert not any("If-None-Match" in h or "If-Modified-Since" in h for h in seen)


async def test_undecodable_content_is_a_payload_error(make_fetcher: MakeFetcher) -> None:
    f = make_fetcher(
        lambda r: httpx.Response(200, content=b"not gzip", headers={"Content-Encoding": "gzip"})
    )
    with pytest.raises(PayloadError):
        await f.get("http://x.test/a")


async def test_politeness_one_at_a_time_and_spaced() -> None:
    in_flight, most, starts, ends = 0, 0, [], []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        starts.append(time.monotonic())
        await asyncio.sleep(0.01)
        in_flight -= 1
        ends.append(time.monotonic())
        return httpx.Response(200)

    client = make_client(5, httpx.MockTransport(handler))
    polite = Politeness(0.05)
    fetchers = [Fetcher(client, politeness=polite) for _ in range(2)]  # two users, one limit
    await asyncio.gather(*(fetchers[i % 2].get(f"http://x.test/{i}") for i in range(4)))
    await client.aclose()
    assert most == 1
    gaps = [b - a for a, b in zip(ends, starts[1:], strict=False)]
    assert len(gaps) == 3 and all(g >= 0.05 for g in gaps)


async def test_retries_wait_outside_the_politeness_slot(
    make_fetcher: MakeFetcher, sleeps: Sleeps
) -> None:
    calls = iter([httpx.Response(503), httpx.Response(200, content=b"ok")])
    f = make_fetcher(lambda r: next(calls), polite=True)
    assert await f.get("http://x.test/a") == b"ok"
    assert len(sleeps.calls) == 1  # the backoff went through the fetcher's sleep


def test_shared_politeness_is_one_per_name_and_interval() -> None:
    a = shared_politeness("test-source", 0.5)
    assert shared_politeness("test-source", 0.5) is a
    assert shared_politeness("other-source", 0.5) is not a
    assert a.interval == 0.5


async def test_politeness_works_in_any_event_loop() -> None:
    polite = Politeness(0)
    done: list[int] = []

    async def use(n: int) -> None:
        async with polite:
            await asyncio.sleep(0)
            done.append(n)

    await asyncio.gather(use(1), use(2))  # contended: the lock is in use in this loop
    await asyncio.to_thread(lambda: asyncio.run(_gather(use(3), use(4))))
    await asyncio.gather(use(5), use(6))
    assert sorted(done) == [1, 2, 3, 4, 5, 6]


async def _gather(*aws: Coroutine[object, object, None]) -> None:
    await asyncio.gather(*aws)
