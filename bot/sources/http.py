"""HTTP for paper sources: one shared client, retries, politeness, size caps, ETags.

- `make_client` builds the one `httpx.AsyncClient` of the process: timeouts from the
  settings and a User-Agent naming paperbot and its version.
- `Fetcher.get` retries 429 (honouring Retry-After), 5xx, timeouts and connection
  errors with exponential backoff and jitter (tenacity), then raises SourceError so
  the poll gives up until the next one. A body over `max_bytes` is refused with
  PayloadError. It sends If-None-Match / If-Modified-Since where the server gave
  ETag / Last-Modified, and returns None for 304 Not Modified.
- `Politeness` spaces requests (arXiv: one every 3 s, one at a time);
  `shared_politeness` gives every fetcher of the process the same one.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from bot import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"paperbot/{__version__} (self-hosted research paper bot; python-httpx)"
MAX_BYTES = 8 * 1024 * 1024
MAX_RETRY_AFTER = 300.0
MAX_VALIDATORS = 512


class SourceError(Exception):
    """A source could not be read this time (after retries, or a broken payload)."""


class PayloadError(SourceError):
    """The server answered, but with something unusable (too large, not JSON or XML)."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def make_client(
    timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The shared HTTP client of paper sources (`timeout` seconds per request)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        transport=transport,
    )


class Politeness:
    """At most one request every `interval` seconds, one at a time.

    The interval runs from the end of one request to the start of the next. It
    works in any event loop (asyncio locks belong to one loop, so each gets its own).
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._last = float("-inf")

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def __aenter__(self) -> None:
        await self._lock().acquire()
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def __aexit__(self, *exc: object) -> None:
        self._last = time.monotonic()
        self._lock().release()


_SHARED: dict[tuple[str, float], Politeness] = {}


def shared_politeness(name: str, interval: float) -> Politeness:
    """The process's one Politeness for `name` (e.g. "arxiv") at this interval."""
    return _SHARED.setdefault((name, interval), Politeness(interval))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
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
        self._validators: OrderedDict[str, dict[str, str]] = OrderedDict()

    def forget(self) -> None:
        """Drop remembered ETags: the next requests fetch in full (after a lost batch)."""
        self._validators.clear()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return float(self.backoff * 2 ** (state.attempt_number - 1) * random.uniform(0.5, 1.5))

    async def get(self, url: str, params: dict[str, Any] | None = None) -> bytes | None:
        """The body of a GET, or None if unchanged since last time (304).

        Raises SourceError when the source cannot be read this time (PayloadError
        when it answered with something unusable).
        """
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
        except httpx.TransportError as exc:  # timeouts, refused, reset, broken chunks
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:  # undecodable content, too many redirects
            raise PayloadError(f"{key}: {type(exc).__name__}: {exc}") from exc

    async def _request(
        self, url: str, params: dict[str, Any] | None, headers: dict[str, str], key: str
    ) -> bytes | None:
        async with self.client.stream("GET", url, params=params, headers=headers) as response:
            status = response.status_code
            if status == 304:
                return None
            if status == 429 or status >= 500:
                wait = _retry_after(response.headers.get("Retry-After"))
                if wait is not None and wait > MAX_RETRY_AFTER:
                    raise SourceError(f"{key}: HTTP {status}, asked to wait {wait:.0f} s")
                raise _Retryable(f"HTTP {status}", wait)
            if status >= 400:
                raise SourceError(f"{key}: HTTP {status}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise PayloadError(f"{key}: response is larger than {self.max_bytes} bytes")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise PayloadError(f"{key}: response is larger than {self.max_bytes} bytes")
                chunks.append(chunk)
            self._remember(key, response.headers)
            return b"".join(chunks)

    def _remember(self, key: str, headers: httpx.Headers) -> None:
        validators = {}
        if etag := headers.get("ETag"):
            validators["If-None-Match"] = etag
        if modified := headers.get("Last-Modified"):
            validators["If-Modified-Since"] = modified
        if validators:
            self._validators[key] = validators
            self._validators.move_to_end(key)
            while len(self._validators) > MAX_VALIDATORS:
                self._validators.popitem(last=False)
        else:
            self._validators.pop(key, None)
