"""The Redis store: production and scale-out (several bot processes, one store).

Keys live under `paperbot:`. A workspace's subscriptions and feedback carry its
hash tag (`paperbot:{slack:T1}:...`) so they share a cluster slot; papers live under
`{papers}`; the outbox and the delivery ledger share `{outbox}`, because claiming a
pair and queueing it are one atomic step. Multi-step changes are Lua scripts or
WATCH/MULTI transactions; nothing uses KEYS. A lost connection raises
StoreUnavailable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.models import (
    Destination,
    OutboxEntry,
    Paper,
    PutResult,
    Tenant,
)
from bot.store import redis_scripts as lua
from bot.store.codec import from_ts, paper_from_json, paper_json, ts
from bot.store.redis_subs import P, RedisSubscriptions, text

PAPERS, SEQS, ORDER, COUNTER = (f"{P}{{papers}}:{k}" for k in ("data", "seq", "order", "counter"))
OUTBOX = f"{P}{{outbox}}:"
DUE, OUTBOX_COUNTER = OUTBOX + "due", OUTBOX + "counter"
CURSORS = f"{P}cursors"


def ledger_key(destination: Destination) -> str:
    """The set of paper ids claimed for a destination."""
    return f"{OUTBOX}ledger:{destination}"


class RedisStore(RedisSubscriptions):
    """`Store` on Redis (redis.asyncio)."""

    @classmethod
    async def open(cls, url: str) -> RedisStore:
        """Connect to `redis://host:port/db` and check it answers."""
        client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=5, socket_timeout=30, health_check_interval=30
        )
        store = cls(client)
        async with store.guard():
            await client.ping()
        return store

    def __init__(self, client: aioredis.Redis) -> None:
        super().__init__(client)
        self._put = client.register_script(lua.PUT_PAPERS)
        self._enqueue = client.register_script(lua.ENQUEUE)
        self._lease = client.register_script(lua.LEASE)
        self._ack = client.register_script(lua.ACK)
        self._retry = client.register_script(lua.RETRY)
        self._reschedule = client.register_script(lua.RESCHEDULE)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()

    # -- papers ----------------------------------------------------------------------

    async def put_papers(self, papers: Sequence[Paper]) -> PutResult:
        """Insert or merge papers; concurrent writers retry instead of losing fields."""
        batch: dict[str, Paper] = {}
        for paper in papers:
            batch[paper.id] = batch[paper.id].merged(paper) if paper.id in batch else paper
        new: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        todo = list(batch)
        async with self.guard():
            while todo:
                raw = await self.client.hmget(PAPERS, todo)
                args: list[str] = []
                ids: list[str] = []
                for paper_id, current in zip(todo, raw, strict=True):
                    mine = batch[paper_id]
                    if current is None:
                        args += [paper_id, "", paper_json(mine)]
                    else:
                        old = paper_from_json(current, 0)
                        merged = old.merged(mine)
                        if merged == old:
                            unchanged.append(paper_id)
                            continue
                        args += [paper_id, text(current), paper_json(merged)]
                    ids.append(paper_id)
                statuses = await self._put(keys=[PAPERS, SEQS, ORDER, COUNTER], args=args)
                todo = []
                for paper_id, status in zip(ids, statuses, strict=True):
                    status = text(status)
                    if status == "conflict":
                        todo.append(paper_id)
                    else:
                        (new if status == "new" else updated).append(paper_id)
        order = {pid: i for i, pid in enumerate(batch)}
        return PutResult(
            *(tuple(sorted(ids, key=order.__getitem__)) for ids in (new, updated, unchanged))
        )

    async def get_paper(self, paper_id: str) -> Paper | None:
        """The paper with this id, or None."""
        return (await self.get_papers([paper_id])).get(paper_id)

    async def get_papers(self, paper_ids: Sequence[str]) -> dict[str, Paper]:
        """The known papers among `paper_ids`."""
        if not paper_ids:
            return {}
        async with self.guard():
            pipe = self.client.pipeline(transaction=False)
            pipe.hmget(PAPERS, list(paper_ids))
            pipe.hmget(SEQS, list(paper_ids))
            data, seqs = await pipe.execute()
        return {
            pid: paper_from_json(d, int(s))
            for pid, d, s in zip(paper_ids, data, seqs, strict=True)
            if d is not None
        }

    async def papers_after(self, seq: int, limit: int = 1000) -> list[Paper]:
        """Papers with seq > `seq`, in seq order."""
        async with self.guard():
            ids = await self.client.zrangebyscore(ORDER, f"({seq}", "+inf", start=0, num=limit)
        found = await self.get_papers([text(i) for i in ids])
        return sorted(found.values(), key=lambda p: p.seq or 0)

    async def count_papers(self) -> int:
        """How many papers are stored."""
        async with self.guard():
            return int(await self.client.hlen(PAPERS))

    # -- ledger and outbox -----------------------------------------------------------

    async def claim(self, destination: Destination, paper_ids: Sequence[str]) -> list[str]:
        """Claim (destination, paper) pairs; the ids won by this call, in order."""
        unique = list(dict.fromkeys(paper_ids))
        async with self.guard():
            pipe = self.client.pipeline(transaction=False)
            for paper_id in unique:
                pipe.sadd(ledger_key(destination), paper_id)
            won = await pipe.execute()
        return [p for p, added in zip(unique, won, strict=True) if added]

    async def _enqueue_entries(
        self, entries: Sequence[OutboxEntry], claim: bool
    ) -> list[OutboxEntry]:
        args: list[str] = ["1" if claim else "0"]
        for e in entries:
            args += [
                str(e.destination),
                e.paper_id,
                json.dumps(list(e.subscription_ids)),
                json.dumps(list(e.terms)),
                repr(ts(e.due_at)),
                ledger_key(e.destination),
            ]
        async with self.guard():
            ids = await self._enqueue(keys=[OUTBOX_COUNTER, DUE, OUTBOX], args=args)
        return [
            OutboxEntry(e.destination, e.paper_id, e.subscription_ids, e.due_at, e.terms, id=i)
            for e, i in zip(entries, ids, strict=True)
            if i
        ]

    async def enqueue(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Add entries to the outbox."""
        return await self._enqueue_entries(entries, claim=False)

    async def claim_and_enqueue(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Claim each entry's pair and enqueue the winners, in one script."""
        return await self._enqueue_entries(entries, claim=True)

    async def _entries(self, ids: Sequence[Any]) -> list[OutboxEntry]:
        pipe = self.client.pipeline(transaction=False)
        for entry_id in ids:
            pipe.hgetall(f"{OUTBOX}e:{int(entry_id)}")
        rows = await pipe.execute()
        out = []
        for entry_id, row in zip(ids, rows, strict=True):
            if not row:
                continue
            f = {text(k): text(v) for k, v in row.items()}
            out.append(
                OutboxEntry(
                    destination=Destination.parse(f["dest"]),
                    paper_id=f["paper"],
                    subscription_ids=tuple(json.loads(f["subs"])),
                    due_at=from_ts(float(f["due"])),
                    terms=tuple(json.loads(f["terms"])),
                    id=int(entry_id),
                    attempts=int(f["attempts"]),
                    lease_until=from_ts(float(f["lease"])) if f.get("lease") else None,
                    last_error=f.get("err") or None,
                )
            )
        return out

    async def lease(
        self, now: datetime, lease_seconds: float, limit: int = 100
    ) -> list[OutboxEntry]:
        """Lease due, unheld entries (see Store.lease)."""
        async with self.guard():
            ids = await self._lease(keys=[DUE, OUTBOX], args=[repr(ts(now)), lease_seconds, limit])
            entries = await self._entries(ids)
        return sorted(entries, key=lambda e: (e.due_at, e.id))

    async def ack(self, entry_ids: Sequence[int]) -> None:
        """Delete delivered entries."""
        if entry_ids:
            async with self.guard():
                await self._ack(keys=[DUE, OUTBOX], args=list(entry_ids))

    async def retry(self, entry_id: int, due_at: datetime, error: str) -> None:
        """Release an entry's lease and make it due at `due_at`."""
        async with self.guard():
            await self._retry(keys=[DUE, OUTBOX], args=[entry_id, repr(ts(due_at)), error])

    async def pending(self, destination: Destination | None = None) -> list[OutboxEntry]:
        """Entries not yet acked, oldest due first."""
        async with self.guard():
            if destination is None:
                ids = await self.client.zrange(DUE, 0, -1)
            else:
                ids = list(await self.client.smembers(f"{OUTBOX}dest:{destination}"))
            entries = await self._entries(ids)
        return sorted(entries, key=lambda e: (e.due_at, e.id))

    async def reschedule(self, destination: Destination, due_at: datetime) -> int:
        """Make every pending entry of `destination` due at `due_at`."""
        async with self.guard():
            moved = await self._reschedule(
                keys=[DUE, OUTBOX], args=[str(destination), repr(ts(due_at))]
            )
        return int(moved)

    # -- cursors and feedback --------------------------------------------------------

    async def get_cursor(self, source: str) -> str | None:
        """A source's cursor, or None."""
        async with self.guard():
            value = await self.client.hget(CURSORS, source)
        return None if value is None else text(value)

    async def set_cursor(self, source: str, value: str) -> None:
        """Store a source's cursor."""
        async with self.guard():
            await self.client.hset(CURSORS, source, value)

    async def get_value(self, key: str) -> str | None:
        """A stored small value, or None."""
        async with self.guard():
            value = await self.client.get(f"{P}kv:{key}")
        return None if value is None else text(value)

    async def set_value(self, key: str, value: str) -> None:
        """Store a small value."""
        async with self.guard():
            await self.client.set(f"{P}kv:{key}", value)

    async def incr(self, key: str, by: int = 1) -> int:
        """Atomically add to a counter (INCRBY); the new count."""
        async with self.guard():
            return int(await self.client.incrby(f"{P}kv:{key}", by))

    async def record_feedback(self, tenant: Tenant, paper_id: str, who: str, value: int) -> None:
        """Record a +1/-1 (0 withdraws) of `who` for a paper."""
        if value not in (-1, 0, 1):
            raise ValueError(f"feedback must be +1, -1 or 0, not {value!r}")
        key = f"{P}{{{tenant}}}:feedback:{paper_id}"
        async with self.guard():
            if value == 0:
                await self.client.hdel(key, who)
            else:
                await self.client.hset(key, who, value)

    async def feedback(self, tenant: Tenant, paper_id: str) -> tuple[int, int]:
        """(up, down) votes of a paper within a tenant."""
        async with self.guard():
            votes = await self.client.hvals(f"{P}{{{tenant}}}:feedback:{paper_id}")
        return sum(v == b"1" for v in votes), sum(v == b"-1" for v in votes)
