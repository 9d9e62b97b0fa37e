"""The delivery ledger and the outbox in Redis, all under the `{outbox}` hash tag.

An entry is a hash `paperbot:{outbox}:e:<id>` (dest, paper, subs, terms, due,
attempts, and lease / err when set). It sits in exactly one of two sorted sets:
`ready` (scored by due time) or `leased` (scored by lease expiry), so leasing takes
the oldest due entries straight from `ready` after moving expired leases back.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from bot.models import Destination, OutboxEntry
from bot.store.codec import from_ts, ts
from bot.store.redis_base import P, RedisBase, text

OUTBOX = f"{P}{{outbox}}:"
READY, LEASED, OUTBOX_COUNTER = (OUTBOX + k for k in ("ready", "leased", "counter"))


def ledger_key(destination: Destination) -> str:
    """The set of paper ids claimed for a destination."""
    return f"{OUTBOX}ledger:{destination}"


def _time(value: datetime) -> str:
    return repr(ts(value))


def _entry(entry_id: object, raw: dict[str, str]) -> OutboxEntry:
    return OutboxEntry(
        destination=Destination.parse(raw["dest"]),
        paper_id=raw["paper"],
        subscription_ids=tuple(json.loads(raw["subs"])),
        due_at=from_ts(float(raw["due"])),
        terms=tuple(json.loads(raw["terms"])),
        id=int(text(entry_id)),
        attempts=int(raw["attempts"]),
        lease_until=from_ts(float(raw["lease"])) if "lease" in raw else None,
        last_error=raw.get("err"),
    )


def _by_due(entries: list[OutboxEntry]) -> list[OutboxEntry]:
    return sorted(entries, key=lambda e: (e.due_at, e.id))


class RedisOutbox(RedisBase):
    """The ledger and outbox half of the Redis store."""

    async def claim(self, destination: Destination, paper_ids: Sequence[str]) -> list[str]:
        """Atomically mark (destination, paper) pairs as delivered-or-queued.

        Returns, in input order, only the ids that were not claimed before (each
        SADD is atomic, so among concurrent callers exactly one wins each pair).
        """
        unique = list(dict.fromkeys(paper_ids))
        if not unique:
            return []
        async with self.guard():
            pipe = self.client.pipeline(transaction=False)
            for paper_id in unique:
                pipe.sadd(ledger_key(destination), paper_id)
            won = await pipe.execute()
        return [p for p, added in zip(unique, won, strict=True) if added]

    async def ledger(self) -> AsyncIterator[tuple[Destination, list[str]]]:
        """Every destination with the paper ids claimed for it (SCAN, never KEYS)."""
        prefix = f"{OUTBOX}ledger:"
        async with self.guard():
            keys = [text(k) async for k in self.client.scan_iter(match=prefix + "*", count=500)]
        for key in sorted(set(keys)):
            async with self.guard():
                members = await self.client.smembers(key)
            yield Destination.parse(key.removeprefix(prefix)), sorted(map(text, members))

    async def unclaim(self, destination: Destination, paper_ids: Sequence[str]) -> int:
        """Forget claims of (destination, paper) pairs; how many there were."""
        if not paper_ids:
            return 0
        async with self.guard():
            return int(await self.client.srem(ledger_key(destination), *paper_ids))

    async def _enqueue(self, entries: Sequence[OutboxEntry], claim: bool) -> list[OutboxEntry]:
        if not entries:
            return []
        args: list[str] = [OUTBOX, "1" if claim else "0"]
        for e in entries:
            subs, terms = json.dumps(list(e.subscription_ids)), json.dumps(list(e.terms))
            args += [str(e.destination), e.paper_id, subs, terms, _time(e.due_at)]
        async with self.guard():
            ids = await self.lua.enqueue(keys=[OUTBOX_COUNTER, READY], args=args)
        return [
            OutboxEntry(e.destination, e.paper_id, e.subscription_ids, e.due_at, e.terms, id=i)
            for e, i in zip(entries, ids, strict=True)
            if i
        ]

    async def enqueue(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Add entries to the outbox; returns them with their store-assigned ids."""
        return await self._enqueue(entries, claim=False)

    async def claim_and_enqueue(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """`claim` each entry's (destination, paper) and enqueue only the winners, atomically.

        One script, so a crash can neither lose a claimed pair nor queue it twice.
        Returns the enqueued entries with their ids, in input order.
        """
        return await self._enqueue(entries, claim=True)

    async def lease(
        self, now: datetime, lease_seconds: float, limit: int = 100
    ) -> list[OutboxEntry]:
        """Take up to `limit` entries due by `now` that nobody holds, oldest due first.

        One script moves expired leases back and leases the oldest due entries
        (`lease_until = now + lease_seconds`, `attempts + 1`), so concurrent callers,
        in this process or another, never receive the same entry.
        """
        if limit <= 0:
            return []
        args = [OUTBOX, _time(now), repr(float(lease_seconds)), str(int(limit))]
        async with self.guard():
            rows = await self.lua.lease(keys=[READY, LEASED], args=args)
        entries = []
        for entry_id, flat in rows:
            fields = [text(v) for v in flat]
            entries.append(_entry(entry_id, dict(zip(fields[::2], fields[1::2], strict=True))))
        return _by_due(entries)

    async def ack(self, entry_ids: Sequence[int]) -> None:
        """Delivery confirmed: delete these entries. Unknown ids are ignored."""
        if entry_ids:
            async with self.guard():
                await self.lua.ack(keys=[READY, LEASED], args=[OUTBOX, *map(int, entry_ids)])

    async def retry(self, entry_id: int, due_at: datetime, error: str) -> None:
        """Delivery failed transiently: release the lease and make it due at `due_at`."""
        args: list[str | int] = [OUTBOX, int(entry_id), _time(due_at), error]
        async with self.guard():
            await self.lua.retry(keys=[READY, LEASED], args=args)

    async def pending(self, destination: Destination | None = None) -> list[OutboxEntry]:
        """Entries not yet acked (of one destination if given), oldest due first."""
        async with self.guard():
            if destination is None:
                pipe = self.client.pipeline(transaction=True)  # one snapshot of both sets
                pipe.zrange(READY, 0, -1)
                pipe.zrange(LEASED, 0, -1)
                ready, leased = await pipe.execute()
                ids = [*ready, *leased]
            else:
                ids = list(await self.client.smembers(f"{OUTBOX}dest:{destination}"))
            pipe = self.client.pipeline(transaction=False)
            for entry_id in ids:
                pipe.hgetall(f"{OUTBOX}e:{text(entry_id)}")
            rows = await pipe.execute() if ids else []
        return _by_due(
            [
                _entry(entry_id, {text(k): text(v) for k, v in row.items()})
                for entry_id, row in zip(ids, rows, strict=True)
                if row  # acked between the two reads
            ]
        )

    async def reschedule(self, destination: Destination, due_at: datetime) -> int:
        """Make every pending entry of `destination` due at `due_at` (send digest now)."""
        keys = [READY, f"{OUTBOX}dest:{destination}"]
        async with self.guard():
            moved = await self.lua.reschedule(keys=keys, args=[OUTBOX, _time(due_at)])
        return int(moved)
