"""The Redis store: production and scale-out (several bot processes, one store).

Keys live under `paperbot:` with cluster hash tags (layout in redis_base.py): a
workspace's subscriptions and feedback under `{platform:workspace}`, papers under
`{papers}`, the outbox and the delivery ledger under `{outbox}`. Multi-step changes
are Lua scripts (redis_scripts.py); nothing uses KEYS. A refused, lost or timed-out
connection raises StoreUnavailable, and no command is ever sent twice on its own.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence

from bot.models import Paper, PutResult, Tenant
from bot.store.codec import paper_from_json, paper_json
from bot.store.redis_base import P, connect, tenant_prefix, text
from bot.store.redis_outbox import RedisOutbox
from bot.store.redis_subs import RedisSubscriptions

PAPERS, ORDER, PAPER_COUNTER = (f"{P}{{papers}}:{k}" for k in ("data", "order", "counter"))
CURSORS = f"{P}cursors"
CHUNK = 500  # papers per script call: keeps each atomic step short


def value_key(key: str) -> str:
    """The key of a small value or counter."""
    return f"{P}kv:{key}"


def feedback_key(tenant: Tenant, paper_id: str) -> str:
    """The hash of votes (who -> +1/-1) on a paper within a workspace."""
    return f"{tenant_prefix(tenant)}feedback:{paper_id}"


FEEDBACK_KEYS = f"{P}{{*}}:feedback:*"
_FEEDBACK_KEY = re.compile(re.escape(P) + r"\{([^}]+)\}:feedback:(.+)", re.DOTALL)


class RedisStore(RedisSubscriptions, RedisOutbox):
    """`Store` on Redis (redis.asyncio)."""

    @classmethod
    async def open(cls, url: str) -> RedisStore:
        """Connect to `redis://host:port/db` and PING it.

        Raises StoreUnavailable when the server does not answer, and ValueError for a
        URL redis-py cannot parse.
        """
        store = cls(connect(url))
        await store._ping()
        return store

    # -- papers ----------------------------------------------------------------------

    async def put_papers(self, papers: Sequence[Paper]) -> PutResult:
        """Insert or merge papers (with `Paper.merged`), atomically per paper.

        The merge happens here; a script stores it only if the record is still the
        one that was read (compare-and-set), else the paper is read and merged again,
        so concurrent writers never lose each other's fields. A new paper gets its
        `seq` from INCR inside the same script.
        """
        batch: dict[str, Paper] = {}
        for paper in papers:
            batch[paper.id] = batch[paper.id].merged(paper) if paper.id in batch else paper
        status: dict[str, str] = {}
        ids = list(batch)
        async with self.guard():
            for start in range(0, len(ids), CHUNK):
                todo = ids[start : start + CHUNK]
                while todo:
                    todo = await self._put_chunk(todo, batch, status)
        result: dict[str, list[str]] = {"new": [], "updated": [], "unchanged": []}
        for paper_id in ids:
            result[status[paper_id]].append(paper_id)
        return PutResult(*(tuple(result[k]) for k in ("new", "updated", "unchanged")))

    async def _put_chunk(
        self, todo: list[str], batch: dict[str, Paper], status: dict[str, str]
    ) -> list[str]:
        """One compare-and-set round; returns the ids that met a concurrent change."""
        args: list[str] = []
        sent: list[str] = []
        for paper_id, current in zip(todo, await self.client.hmget(PAPERS, todo), strict=True):
            if current is None:
                args += [paper_id, "", paper_json(batch[paper_id])]
            else:
                old = paper_from_json(current, 0)
                merged = old.merged(batch[paper_id])
                if merged == old:
                    status[paper_id] = "unchanged"
                    continue
                args += [paper_id, text(current), paper_json(merged)]
            sent.append(paper_id)
        if not sent:
            return []
        replies = await self.lua.put_papers(keys=[PAPERS, ORDER, PAPER_COUNTER], args=args)
        conflicts = []
        for paper_id, reply in zip(sent, replies, strict=True):
            if text(reply) == "conflict":
                conflicts.append(paper_id)
            else:
                status[paper_id] = text(reply)
        return conflicts

    async def get_paper(self, paper_id: str) -> Paper | None:
        """The paper with this canonical id (with its `seq`), or None."""
        return (await self.get_papers([paper_id])).get(paper_id)

    async def get_papers(self, paper_ids: Sequence[str]) -> dict[str, Paper]:
        """The known papers among `paper_ids`, keyed by id; unknown ids are left out."""
        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return {}
        async with self.guard():
            pipe = self.client.pipeline(transaction=True)  # record and seq of one moment
            pipe.hmget(PAPERS, ids)
            pipe.zmscore(ORDER, ids)
            data, seqs = await pipe.execute()
        return {
            pid: paper_from_json(d, int(s))
            for pid, d, s in zip(ids, data, seqs, strict=True)
            if d is not None and s is not None
        }

    async def papers_after(self, seq: int, limit: int = 1000) -> list[Paper]:
        """Up to `limit` papers with ingest sequence > `seq`, in sequence order."""
        if limit <= 0:
            return []
        async with self.guard():
            ids = await self.client.zrangebyscore(ORDER, f"({seq}", "+inf", start=0, num=limit)
        found = await self.get_papers([text(i) for i in ids])
        return sorted(found.values(), key=lambda p: p.seq or 0)

    async def count_papers(self) -> int:
        """How many papers are stored."""
        async with self.guard():
            return int(await self.client.hlen(PAPERS))

    # -- source cursors and small values ---------------------------------------------

    async def get_cursor(self, source: str) -> str | None:
        """The stored polling cursor of a source (e.g. last date or ETag), or None."""
        async with self.guard():
            value = await self.client.hget(CURSORS, source)
        return None if value is None else text(value)

    async def set_cursor(self, source: str, value: str) -> None:
        """Store a source's polling cursor."""
        async with self.guard():
            await self.client.hset(CURSORS, source, value)

    async def get_value(self, key: str) -> str | None:
        """A stored small value (e.g. a cached LLM summary), or None."""
        async with self.guard():
            value = await self.client.get(value_key(key))
        return None if value is None else text(value)

    async def set_value(self, key: str, value: str) -> None:
        """Store a small value under `key`."""
        async with self.guard():
            await self.client.set(value_key(key), value)

    async def incr(self, key: str, by: int = 1) -> int:
        """Atomically add `by` to the counter `key` (0 when new); the new count (INCRBY)."""
        async with self.guard():
            return int(await self.client.incrby(value_key(key), by))

    # -- feedback ---------------------------------------------------------------------

    async def record_feedback(self, tenant: Tenant, paper_id: str, who: str, value: int) -> None:
        """Record +1 or -1 of a user or channel (`who`) for a paper; last vote wins.

        `value` 0 withdraws the vote. Raises ValueError for anything else.
        """
        if type(value) is not int or value not in (-1, 0, 1):
            raise ValueError(f"feedback must be +1, -1 or 0, not {value!r}")
        async with self.guard():
            if value == 0:
                await self.client.hdel(feedback_key(tenant, paper_id), who)
            else:
                await self.client.hset(feedback_key(tenant, paper_id), who, str(value))

    async def votes(self) -> AsyncIterator[tuple[Tenant, str, str, int]]:
        """Every standing vote: (tenant, paper id, who, +1 or -1) (SCAN, never KEYS)."""
        async with self.guard():
            keys = {text(k) async for k in self.client.scan_iter(match=FEEDBACK_KEYS, count=500)}
        for key in sorted(keys):
            m = _FEEDBACK_KEY.fullmatch(key)
            if m is None:
                continue
            async with self.guard():
                votes = await self.client.hgetall(key)
            for who, value in sorted((text(w), int(text(v))) for w, v in votes.items()):
                yield Tenant.parse(m[1]), m[2], who, value

    async def feedback(self, tenant: Tenant, paper_id: str) -> tuple[int, int]:
        """(up, down) vote counts of a paper within a tenant."""
        async with self.guard():
            votes = [text(v) for v in await self.client.hvals(feedback_key(tenant, paper_id))]
        return votes.count("1"), votes.count("-1")
