"""Subscriptions (and follows) in Redis, every key under its workspace's hash tag.

An operation given a workspace only builds keys with that workspace's prefix, so an
id of another workspace is simply a key that does not exist: isolation by
construction. The store-wide registry `paperbot:subids` (id -> workspace) keeps ids
unique (HSETNX) and lets start-up find every subscription with HSCAN.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import cast

from bot.models import Destination, Schedule, Subscription, Tenant, utcnow
from bot.store.base import DuplicateSubscription, new_short_id
from bot.store.codec import from_ts, sub_from_json, sub_json, ts
from bot.store.redis_base import P, RedisBase, tenant_prefix, text

SUBIDS = f"{P}subids"
#: `Store.subscriptions_version`: INCR right after each change, as its own command
#: (the change's script only touches its workspace's hash slot).
VERSION = f"{P}subscriptions:version"


def query_field(destination: Destination, query: str) -> str:
    """The field of the workspace's `queries` hash: one query of one destination."""
    return f"{destination}\n{query}"


class RedisSubscriptions(RedisBase):
    """The subscription half of the Redis store."""

    async def add_subscription(
        self,
        destination: Destination,
        query: str,
        schedule: Schedule = Schedule(),
        created_by: str | None = None,
    ) -> Subscription:
        """Create a subscription with a new short id unique in this store.

        Raises DuplicateSubscription if the destination already has this exact query.
        """
        async with self.guard():
            sub_id = new_short_id()
            while not await self.client.hsetnx(SUBIDS, sub_id, str(destination.tenant)):
                sub_id = new_short_id()
            sub = Subscription(sub_id, destination, query, schedule, utcnow(), created_by)
            await self._insert(sub)
        return sub

    async def restore_subscription(self, sub: Subscription) -> None:
        """Store `sub` exactly as given (DuplicateSubscription if its id or query is taken)."""
        async with self.guard():
            if not await self.client.hsetnx(SUBIDS, sub.id, str(sub.tenant)):
                owner = Tenant.parse(text(await self.client.hget(SUBIDS, sub.id)))
                [existing] = await self._load(owner, [sub.id])
                raise DuplicateSubscription(existing)
            await self._insert(sub)

    async def _insert(self, sub: Subscription) -> None:
        """Write `sub`, whose id is registered already (unregistered again on a duplicate)."""
        prefix = tenant_prefix(sub.tenant)
        existing = await self.lua.add_sub(
            keys=[f"{prefix}queries", f"{prefix}sub:{sub.id}", f"{prefix}subs"],
            args=[
                query_field(sub.destination, sub.query),
                sub.id,
                sub_json(sub),
                repr(ts(sub.created_at)),
                prefix,
            ],
        )
        if existing is not None:
            await self.client.hdel(SUBIDS, sub.id)
            raise DuplicateSubscription(sub_from_json(existing))
        await self.client.incr(VERSION)

    async def get_subscription(self, tenant: Tenant, sub_id: str) -> Subscription | None:
        """The subscription `sub_id` if it belongs to `tenant`, else None."""
        async with self.guard():
            raw = await self.client.get(f"{tenant_prefix(tenant)}sub:{sub_id}")
        return None if raw is None else sub_from_json(raw)

    async def _load(self, tenant: Tenant, ids: Sequence[object]) -> list[Subscription]:
        if not ids:
            return []
        prefix = tenant_prefix(tenant)
        raws = await self.client.mget([f"{prefix}sub:{text(i)}" for i in ids])
        return [sub_from_json(raw) for raw in raws if raw is not None]

    async def list_subscriptions(
        self, tenant: Tenant, destination: Destination | None = None
    ) -> list[Subscription]:
        """The tenant's subscriptions (only those of `destination` if given), oldest first.

        `destination` must belong to `tenant`; otherwise the result is empty.
        """
        if destination is not None and destination.tenant != tenant:
            return []
        async with self.guard():
            ids = await self.client.zrange(f"{tenant_prefix(tenant)}subs", 0, -1)
            subs = await self._load(tenant, ids)
        if destination is not None:
            subs = [s for s in subs if s.destination == destination]
        return subs

    async def iter_subscriptions(self) -> AsyncIterator[Subscription]:
        """Every subscription of every tenant, in no particular order (HSCAN, never KEYS)."""
        cursor: int = 0
        seen: set[str] = set()  # HSCAN may return an id twice
        while True:
            async with self.guard():
                cursor, reply = await self.client.hscan(SUBIDS, cursor, count=500)
                batch = cast(dict[bytes, bytes], reply)
                by_tenant: dict[str, list[str]] = defaultdict(list)
                for sub_id, tenant in batch.items():
                    if text(sub_id) not in seen:
                        seen.add(text(sub_id))
                        by_tenant[text(tenant)].append(text(sub_id))
                loaded = [await self._load(Tenant.parse(t), ids) for t, ids in by_tenant.items()]
            for subs in loaded:
                for sub in subs:
                    yield sub
            if cursor == 0:
                return

    async def remove_subscription(self, tenant: Tenant, sub_id: str) -> bool:
        """Delete `sub_id` if it belongs to `tenant`; True if something was deleted."""
        prefix = tenant_prefix(tenant)
        async with self.guard():
            removed = await self.lua.remove_sub(
                keys=[f"{prefix}sub:{sub_id}", f"{prefix}subs", f"{prefix}queries"],
                args=[sub_id],
            )
            if removed:
                await self.client.hdel(SUBIDS, sub_id)
                await self.client.incr(VERSION)
        return bool(removed)

    async def subscriptions_version(self) -> int:
        """A count that grows with every subscription change (added, removed, paused...)."""
        async with self.guard():
            raw = await self.client.get(VERSION)
        return 0 if raw is None else int(raw)

    async def _set_paused(
        self,
        key: str,
        paused: bool,
        reason: str | None,
        mode: str,
        resume_at: datetime | None = None,
    ) -> bytes | None:
        until = from_ts(ts(resume_at)).isoformat() if resume_at else ""  # naive: refused
        args = ["1" if paused else "0", "0" if reason is None else "1", reason or "", mode, until]
        raw: bytes | None = await self.lua.set_paused(keys=[key], args=args)
        return raw

    async def set_paused(
        self,
        tenant: Tenant,
        sub_id: str,
        paused: bool,
        reason: str | None = None,
        resume_at: datetime | None = None,
    ) -> Subscription | None:
        """Pause (with a reason, until `resume_at`) or resume; the updated record or None."""
        async with self.guard():
            raw = await self._set_paused(
                f"{tenant_prefix(tenant)}sub:{sub_id}", paused, reason, "any", resume_at
            )
            if raw is not None:
                await self.client.incr(VERSION)
        return None if raw is None else sub_from_json(raw)

    async def set_schedule(
        self, tenant: Tenant, sub_id: str, schedule: Schedule
    ) -> Subscription | None:
        """Change how often a subscription of `tenant` posts; it, or None."""
        async with self.guard():
            raw = await self.lua.set_schedule(
                keys=[f"{tenant_prefix(tenant)}sub:{sub_id}"], args=[str(schedule), schedule.tz]
            )
            if raw is not None:
                await self.client.incr(VERSION)
        return None if raw is None else sub_from_json(raw)

    async def pause_destination(self, destination: Destination, reason: str) -> int:
        """Pause every running subscription of a destination; how many were paused."""
        prefix = tenant_prefix(destination.tenant)
        mine = f"{destination}\n"
        count = 0
        async with self.guard():
            queries = await self.client.hgetall(f"{prefix}queries")
            for field, sub_id in queries.items():
                if text(field).startswith(mine):
                    key = f"{prefix}sub:{text(sub_id)}"
                    count += await self._set_paused(key, True, reason, "only-running") is not None
            if count:
                await self.client.incr(VERSION)
        return count

    async def mark_posted(self, tenant: Tenant, sub_ids: Sequence[str], at: datetime) -> None:
        """Record that these subscriptions of `tenant` just had a post (`last_post_at`).

        Ids of other tenants and unknown ids are ignored.
        """
        when = from_ts(ts(at)).isoformat()  # in UTC; a naive datetime is refused
        prefix = tenant_prefix(tenant)
        async with self.guard():
            for sub_id in dict.fromkeys(sub_ids):
                await self.lua.mark_posted(keys=[f"{prefix}sub:{sub_id}"], args=[when])
