"""Subscriptions in Redis, keyed under their workspace's hash tag.

Per workspace `{t}`: `paperbot:{t}:sub:<id>` (the record, JSON), `paperbot:{t}:subs`
(a sorted set of ids by creation time) and `paperbot:{t}:dq:<destination>` (query ->
id, for duplicates and per-destination listing). A global hash `paperbot:subids`
(id -> workspace) keeps ids unique in the store and lets start-up find them all
with HSCAN. An id of another workspace is simply a key that does not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.models import Destination, Schedule, Subscription, Tenant, utcnow
from bot.store.base import DuplicateSubscription, StoreUnavailable, new_short_id
from bot.store.codec import sub_from_json, sub_json, ts

P = "paperbot:"
SUBIDS = f"{P}subids"

ADD = """
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then return existing end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
return ''
"""

REMOVE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local sub = cjson.decode(raw)
redis.call('HDEL', ARGV[2] .. 'dq:' .. sub['destination'], sub['query'])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

SET_PAUSED = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local sub = cjson.decode(raw)
local pause = ARGV[1] == '1'
if ARGV[3] == 'only-running' and sub['paused'] then return false end
sub['paused'] = pause
sub['paused_reason'] = cjson.null
if pause and ARGV[2] ~= '' then sub['paused_reason'] = ARGV[2] end
local out = cjson.encode(sub)
redis.call('SET', KEYS[1], out)
return out
"""


MARK_POSTED = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local sub = cjson.decode(raw)
sub['last_post_at'] = ARGV[1]
redis.call('SET', KEYS[1], cjson.encode(sub))
return 1
"""


def text(value: object) -> str:
    """A Redis reply (bytes) as str."""
    return value.decode() if isinstance(value, bytes) else str(value)


def tenant_prefix(tenant: Tenant) -> str:
    """The key prefix of a workspace, with its cluster hash tag."""
    return f"{P}{{{tenant}}}:"


class RedisSubscriptions:
    """The subscription half of the Redis store (and its connection handling)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._add = client.register_script(ADD)
        self._remove = client.register_script(REMOVE)
        self._set_paused = client.register_script(SET_PAUSED)
        self._mark_posted = client.register_script(MARK_POSTED)

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Turn a lost or refused Redis connection into StoreUnavailable."""
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError) as exc:
            raise StoreUnavailable(f"Redis: {exc}") from exc

    async def add_subscription(
        self,
        destination: Destination,
        query: str,
        schedule: Schedule = Schedule(),
        created_by: str | None = None,
    ) -> Subscription:
        """Create a subscription with a fresh short id unique in the store."""
        tenant = destination.tenant
        prefix = tenant_prefix(tenant)
        async with self.guard():
            while True:
                sub_id = new_short_id()
                if await self.client.hsetnx(SUBIDS, sub_id, str(tenant)):
                    break
            sub = Subscription(sub_id, destination, query, schedule, utcnow(), created_by)
            existing = await self._add(
                keys=[f"{prefix}dq:{destination}", f"{prefix}sub:{sub_id}", f"{prefix}subs"],
                args=[query, sub_id, sub_json(sub), repr(ts(sub.created_at))],
            )
            if existing:
                await self.client.hdel(SUBIDS, sub_id)
                found = await self.get_subscription(tenant, text(existing))
                if found is not None:
                    raise DuplicateSubscription(found)
        return sub

    async def get_subscription(self, tenant: Tenant, sub_id: str) -> Subscription | None:
        """The subscription `sub_id` of `tenant`, or None."""
        async with self.guard():
            raw = await self.client.get(f"{tenant_prefix(tenant)}sub:{sub_id}")
        return None if raw is None else sub_from_json(raw)

    async def _load(self, tenant: Tenant, ids: Sequence[object]) -> list[Subscription]:
        if not ids:
            return []
        prefix = tenant_prefix(tenant)
        keys = [f"{prefix}sub:{text(i)}" for i in ids]
        return [sub_from_json(raw) for raw in await self.client.mget(keys) if raw is not None]

    async def list_subscriptions(
        self, tenant: Tenant, destination: Destination | None = None
    ) -> list[Subscription]:
        """The tenant's subscriptions (of one destination if given), oldest first."""
        if destination is not None and destination.tenant != tenant:
            return []
        async with self.guard():
            ids = await self.client.zrange(f"{tenant_prefix(tenant)}subs", 0, -1)
            subs = await self._load(tenant, ids)
        if destination is not None:
            subs = [s for s in subs if s.destination == destination]
        return subs

    async def iter_subscriptions(self) -> AsyncIterator[Subscription]:
        """Every subscription of every tenant (HSCAN over the id registry)."""
        cursor = 0
        while True:
            async with self.guard():
                cursor, batch = await self.client.hscan(SUBIDS, cursor, count=1000)
                by_tenant: dict[str, list[str]] = defaultdict(list)
                assert isinstance(batch, dict)
                for sub_id, tenant in batch.items():
                    by_tenant[text(tenant)].append(text(sub_id))
                loaded = [await self._load(Tenant.parse(t), ids) for t, ids in by_tenant.items()]
            for subs in loaded:
                for sub in subs:
                    yield sub
            if cursor == 0:
                return

    async def remove_subscription(self, tenant: Tenant, sub_id: str) -> bool:
        """Delete `sub_id` if it belongs to `tenant`."""
        prefix = tenant_prefix(tenant)
        async with self.guard():
            removed = await self._remove(
                keys=[f"{prefix}sub:{sub_id}", f"{prefix}subs"], args=[sub_id, prefix]
            )
            if removed:
                await self.client.hdel(SUBIDS, sub_id)
        return bool(removed)

    async def set_paused(
        self, tenant: Tenant, sub_id: str, paused: bool, reason: str | None = None
    ) -> Subscription | None:
        """Pause (with a reason) or resume; the updated record or None."""
        async with self.guard():
            raw = await self._set_paused(
                keys=[f"{tenant_prefix(tenant)}sub:{sub_id}"],
                args=["1" if paused else "0", reason or "", "any"],
            )
        return None if raw is None else sub_from_json(raw)

    async def pause_destination(self, destination: Destination, reason: str) -> int:
        """Pause every running subscription of `destination`; how many were paused."""
        prefix = tenant_prefix(destination.tenant)
        count = 0
        async with self.guard():
            for sub_id in await self.client.hvals(f"{prefix}dq:{destination}"):
                raw = await self._set_paused(
                    keys=[f"{prefix}sub:{text(sub_id)}"], args=["1", reason, "only-running"]
                )
                count += raw is not None
        return count

    async def mark_posted(self, tenant: Tenant, sub_ids: Sequence[str], at: datetime) -> None:
        """Set `last_post_at` of these subscriptions of `tenant`."""
        prefix = tenant_prefix(tenant)
        async with self.guard():
            for sub_id in dict.fromkeys(sub_ids):
                await self._mark_posted(keys=[f"{prefix}sub:{sub_id}"], args=[at.isoformat()])
