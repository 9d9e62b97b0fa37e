"""HTTP for paper sources: one shared client, retries, politeness, size caps, ETags.

- `make_client` builds the one `httpx.AsyncClient` of the process: timeouts from the
  settings and a User-Agent naming paperbot.
- `Fetcher.get` retries 429 (honouring Retry-After), 5xx, timeouts and connection
  errors with exponential backoff and jitter (tenacity), then raises SourceError so
  the poll gives up until the next one; it refuses bodies over `max_bytes`; it sends
  If-None-Match / If-Modified-Since where the server gave ETag / Last-Modified, and
  returns None for 304 Not Modified.
- `Politeness` spaces requests (arXiv: one every 3 s, one at a time).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from bot import __version__

log = logging.getLogger(__name__)

USER_AGENT = (
    f"paperbot/{__version__} (self-hosted research paper bot; +https://pypi.org/project/paperbot)"
)
MAX_BYTES = 8 * 1024 * 1024
MAX_RETRY_AFTER = 600.0


class SourceError(Exception):
    """A source could not be read this time (after retries, or a broken payload)."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def make_client(
    timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The shared HTTP client of paper sources."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        transport=transport,
    )


class Politeness:
    """At most one request every `interval` seconds, one at a time."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = asyncio.Lock()
        self._last = float("-inf")

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def __aexit__(self, *exc: object) -> None:
        self._last = time.monotonic()
        self._lock.release()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class Fetcher:
    """GETs with retries, a size cap and conditional requests."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retries: int = 4,
        backoff: float = 1.0,
        max_bytes: int = MAX_BYTES,
        politeness: Politeness | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.retries = retries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.politeness = politeness
        self.sleep = sleep
        self._validators: dict[str, dict[str, str]] = {}

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER)
        return float(self.backoff * 2 ** (state.attempt_number - 1) * random.uniform(0.5, 1.5))

    async def get(self, url: str, params: dict[str, Any] | None = None) -> bytes | None:
        """The body of a GET, or None if unchanged since last time (304)."""
        key = str(httpx.URL(url, params=params))
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.retries + 1),
                wait=self._wait,
                retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
                sleep=self.sleep,
                reraise=True,
            ):
                with attempt:
                    return await self._once(url, params, key)
        except _Retryable as exc:
            raise SourceError(f"{key}: {exc} (gave up after {self.retries + 1} tries)") from exc
        raise AssertionError("unreachable")

    async def _once(self, url: str, params: dict[str, Any] | None, key: str) -> bytes | None:
        headers = dict(self._validators.get(key, {}))
        try:
            if self.politeness is not None:
                async with self.politeness:
                    return await self._request(url, params, headers, key)
            return await self._request(url, params, headers, key)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc

    async def _request(
        self, url: str, params: dict[str, Any] | None, headers: dict[str, str], key: str
    ) -> bytes | None:
        async with self.client.stream("GET", url, params=params, headers=headers) as response:
            status = response.status_code
            if status == 304:
                return None
            if status == 429 or status >= 500:
                raise _Retryable(
                    f"HTTP {status}", _retry_after(response.headers.get("Retry-After"))
                )
            if status >= 400:
                raise SourceError(f"{key}: HTTP {status}")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise SourceError(f"{key}: response is larger than {self.max_bytes} bytes")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise SourceError(f"{key}: response is larger than {self.max_bytes} bytes")
                chunks.append(chunk)
            validators = {}
            if etag := response.headers.get("ETag"):
                validators["If-None-Match"] = etag
            if modified := response.headers.get("Last-Modified"):
                validators["If-Modified-Since"] = modified
            if validators:
                self._validators[key] = validators
            return b"".join(chunks)
