"""Connection handling and key names shared by the modules of the Redis store.

Key layout (everything under `paperbot:`; `{...}` is the Redis Cluster hash tag, so
every key with the same tag lives in the same slot and one Lua script may touch them):

- `{slack:T1}` — one per workspace: `sub:<id>` (JSON record), `subs` (zset of ids by
  creation time), `queries` (hash `<destination>\\n<query>` -> id), `feedback:<paper>`.
- `{papers}` — `data` (hash id -> JSON), `order` (zset id -> ingest seq), `counter`.
- `{outbox}` — the outbox and the delivery ledger: `e:<id>` (entry hash), `ready`
  (zset of unleased entries by due time), `leased` (zset by lease expiry),
  `dest:<destination>` (set of entry ids), `ledger:<destination>` (set of claimed
  paper ids), `counter`. The ledger lives here, not under the workspace tag, because
  `claim_and_enqueue` is one atomic script over ledger and outbox.
- untagged: `subids` (hash id -> workspace: ids unique store-wide, HSCAN at start-up),
  `cursors` (hash source -> cursor), `kv:<key>` (small values and counters).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as rx
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.models import Tenant
from bot.store.base import StoreError, StoreUnavailable
from bot.store.redis_scripts import Scripts

P = "paperbot:"

# Errors that mean "the server cannot serve us right now", not "the request is wrong".
UNAVAILABLE: tuple[type[BaseException], ...] = (
    rx.ConnectionError,  # also BusyLoadingError, AuthenticationError
    rx.TimeoutError,
    rx.ReadOnlyError,  # a replica after failover
    rx.ClusterDownError,
    rx.TryAgainError,
    ConnectionError,
    TimeoutError,
)


def text(value: object) -> str:
    """A Redis reply (bytes) as str."""
    return value.decode() if isinstance(value, bytes) else str(value)


def tenant_prefix(tenant: Tenant) -> str:
    """The key prefix of a workspace, with its cluster hash tag: `paperbot:{slack:T1}:`."""
    return f"{P}{{{tenant}}}:"


def connect(url: str) -> aioredis.Redis:
    """A client for `url` that never re-sends a command on its own.

    redis-py retries a command whose connection broke, even when the server already
    ran it: a claim or a counter would then run twice. Without retries a broken
    command raises (StoreUnavailable) and the caller decides. A pooled connection
    that died while idle is still replaced before use, which needs maintenance
    notifications off where this redis-py has them.
    """
    options: dict[str, Any] = {}
    try:
        from redis.maint_notifications import MaintNotificationsConfig
    except ImportError:  # redis-py < 7: nothing to turn off
        pass
    else:
        options["maint_notifications_config"] = MaintNotificationsConfig(enabled=False)
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=5,
        socket_timeout=15,
        retry=Retry(NoBackoff(), 0),
        **options,
    )


class RedisBase:
    """A Redis client, its registered scripts, and the error translation."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self.lua = Scripts(client)
        self._closed = False

    async def _ping(self) -> None:
        """Check the server answers; StoreUnavailable (or StoreError) if not."""
        try:
            async with self.guard():
                await self.client.ping()
        except StoreUnavailable:
            await self.close()
            raise
        except rx.RedisError as exc:  # e.g. a database number the server does not have
            await self.close()
            raise StoreError(f"Redis: {exc}") from exc

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Turn a lost, refused or timed-out connection into StoreUnavailable."""
        if self._closed:
            raise StoreUnavailable("the Redis store is closed")
        try:
            yield
        except UNAVAILABLE as exc:
            raise StoreUnavailable(f"Redis: {exc}") from exc

    async def close(self) -> None:
        """Close the connection pool; later calls raise StoreUnavailable. Idempotent."""
        if not self._closed:
            self._closed = True
            await self.client.aclose()
