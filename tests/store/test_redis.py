"""What only the Redis store can get wrong: key layout, connection loss, two processes.

A loopback proxy between store and server stands in for a network that fails: it
can drop a request, drop a reply after the server ran the command, swallow
requests, or refuse connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import redis
from redis.crc import key_slot

from bot.models import Destination, OutboxEntry, Paper
from bot.store import DuplicateSubscription, StoreUnavailable
from bot.store.redis import RedisStore

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
A = Destination.parse("slack:T1:C1")
FOLLOW = Destination.parse("slack:T1:@U2")
B = Destination.parse("discord:G9:C1")


def entry(dest: Destination, n: int, due: datetime = T0) -> OutboxEntry:
    return OutboxEntry(dest, f"arxiv:{n}", ("s1",), due_at=due)


class Proxy:
    """A TCP proxy to Redis on 127.0.0.1. Modes: "pass"; "drop-request" (close instead
    of forwarding); "drop-reply" (forward one request, close instead of answering, then
    "pass"); "blackhole" (read requests, never answer)."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.mode = "pass"
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in self.writers:
            writer.close()
        self.writers.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self.writers += [writer, up_writer]
        await asyncio.gather(
            self._pipe(reader, up_writer, writer, requests=True),
            self._pipe(up_reader, writer, up_writer, requests=False),
            return_exceptions=True,
        )

    async def _pipe(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        back: asyncio.StreamWriter,
        requests: bool,
    ) -> None:
        try:
            while data := await src.read(65536):
                if requests and self.mode == "drop-request":
                    break
                if requests and self.mode == "blackhole":
                    continue
                if not requests and self.mode == "drop-reply":
                    self.mode = "pass"
                    break
                dst.write(data)
                await dst.drain()
        finally:
            dst.close()
            back.close()


@pytest.fixture
async def proxy(clean_redis: str) -> AsyncIterator[tuple[Proxy, RedisStore]]:
    """A started proxy and a store connected through it (2 s socket timeout)."""
    parts = urlsplit(clean_redis)
    p = Proxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await p.start()
    store = await RedisStore.open(f"redis://127.0.0.1:{p.port}{parts.path}?socket_timeout=2")
    yield p, store
    await store.close()
    await p.stop()


@pytest.fixture
async def rstore(clean_redis: str) -> AsyncIterator[RedisStore]:
    """A RedisStore on the flushed test database."""
    store = await RedisStore.open(clean_redis)
    yield store
    await store.close()


@pytest.fixture
async def pair(clean_redis: str) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """Two stores on one database: two bot processes."""
    one, two = await RedisStore.open(clean_redis), await RedisStore.open(clean_redis)
    yield one, two
    await one.close()
    await two.close()


async def exercise(store: RedisStore) -> None:
    """Touch every kind of key the store writes."""
    await store.put_papers([Paper(id="arxiv:1", title="t", upvotes=0)])
    for dest, query in ((A, "x"), (FOLLOW, "y"), (B, "z")):
        sub = await store.add_subscription(dest, query)
    await store.set_paused(B.tenant, sub.id, True, "gone")
    await store.mark_posted(A.tenant, [sub.id], T0)
    await store.record_feedback(A.tenant, "arxiv:1", "U1", 1)
    await store.record_feedback(B.tenant, "arxiv:1", "U1", -1)
    await store.claim(A, ["arxiv:1"])
    await store.claim_and_enqueue([entry(A, 2), entry(B, 2)])
    [leased, *_] = await store.lease(T0, 60)
    await store.retry(leased.id, T0, "HTTP 502")
    await store.reschedule(B, T0)
    await store.lease(T0, 60)
    await store.pending()
    await store.set_cursor("arxiv", "2026-11-24")
    await store.set_value("llm:x", "v")
    await store.incr("llm:n")
    assert [s async for s in store.iter_subscriptions()]
    await store.papers_after(0)


async def test_keys_are_namespaced_and_share_a_slot_per_workspace(
    rstore: RedisStore, clean_redis: str
) -> None:
    await exercise(rstore)
    with redis.Redis.from_url(clean_redis) as client:
        keys = sorted(k.decode() for k in client.scan_iter(count=1000))
    assert keys and all(k.startswith("paperbot:") for k in keys), keys
    for tenant in (A.tenant, B.tenant):
        mine = [k for k in keys if str(tenant) in k and ":ledger:" not in k and ":dest:" not in k]
        assert len(mine) >= 3 and all(k.startswith(f"paperbot:{{{tenant}}}:") for k in mine)
        assert len({key_slot(k.encode()) for k in mine}) == 1
    outbox = [k for k in keys if "{outbox}" in k]
    assert any(":ledger:" in k for k in outbox) and any(":e:" in k for k in outbox)
    assert len({key_slot(k.encode()) for k in outbox}) == 1
    assert len({key_slot(k.encode()) for k in keys if "{papers}" in k}) == 1


async def test_no_keys_command_is_ever_sent(doomed_redis: str) -> None:
    store = await RedisStore.open(doomed_redis)
    try:
        await exercise(store)
    finally:
        await store.close()
    with redis.Redis.from_url(doomed_redis) as client:
        stats = client.info("commandstats")
    assert "cmdstat_hscan" in stats  # the id registry was walked
    assert not [name for name in stats if name in ("cmdstat_keys", "cmdstat_flushdb")]


async def test_unreachable_server_raises_at_open() -> None:
    with pytest.raises(StoreUnavailable):
        await asyncio.wait_for(RedisStore.open("redis://127.0.0.1:1/0"), 10)


async def test_closed_store_raises(clean_redis: str) -> None:
    store = await RedisStore.open(clean_redis)
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreUnavailable):
        await store.count_papers()


async def test_lost_request_raises_and_is_not_resent(proxy: tuple[Proxy, RedisStore]) -> None:
    p, store = proxy
    p.mode = "drop-request"
    with pytest.raises(StoreUnavailable):
        await store.claim(A, ["arxiv:1"])
    p.mode = "pass"
    assert await store.claim(A, ["arxiv:1"]) == ["arxiv:1"]  # the pair was not lost


async def test_lost_reply_raises_instead_of_running_twice(proxy: tuple[Proxy, RedisStore]) -> None:
    # a client that retries would send the INCR again and answer 2 without an error
    p, store = proxy
    p.mode = "drop-reply"
    with pytest.raises(StoreUnavailable):
        await store.incr("n")
    assert await store.get_value("n") == "1"
    assert await store.incr("n") == 2


async def test_connection_killed_while_idle_is_replaced(
    rstore: RedisStore, clean_redis: str
) -> None:
    assert await rstore.incr("n") == 1
    with redis.Redis.from_url(clean_redis) as admin:
        admin.client_kill_filter(_id=await rstore.client.client_id())
    await asyncio.sleep(0.05)
    assert await rstore.incr("n") == 2  # reconnected, and sent once


async def test_server_gone_mid_use_raises(proxy: tuple[Proxy, RedisStore]) -> None:
    p, store = proxy
    await store.add_subscription(A, "x")
    await p.stop()
    with pytest.raises(StoreUnavailable):
        await store.list_subscriptions(A.tenant)
    with pytest.raises(StoreUnavailable):
        await store.lease(T0, 60)


async def test_silent_server_times_out(proxy: tuple[Proxy, RedisStore]) -> None:
    p, store = proxy
    p.mode = "blackhole"
    with pytest.raises(StoreUnavailable):
        await asyncio.wait_for(store.count_papers(), 10)


async def test_two_stores_never_lease_the_same_entry(pair: tuple[RedisStore, ...]) -> None:
    await pair[0].enqueue([entry(A, n, T0 - timedelta(seconds=n)) for n in range(60)])
    batches = await asyncio.gather(*(s.lease(T0, 60, limit=7) for s in pair for _ in range(6)))
    ids = [e.id for b in batches for e in b]
    assert len(ids) == len(set(ids)) == 60
    assert all(e.attempts == 1 for b in batches for e in b)


async def test_two_writers_never_lose_fields(pair: tuple[RedisStore, ...]) -> None:
    one, two = pair
    ids = [f"arxiv:{n}" for n in range(40)]
    hf = [Paper(id=i, title="t", sources=("huggingface",)) for i in ids]
    results = await asyncio.gather(
        *(one.put_papers([Paper(id=i, title="t", upvotes=n)]) for n, i in enumerate(ids)),
        *(
            two.put_papers([Paper(id=i, title="t", github_repo="g", sources=("arxiv",))])
            for i in ids
        ),
        one.put_papers(hf),
    )
    stored = await one.get_papers(ids)
    assert all(stored[i].upvotes == n and stored[i].github_repo == "g" for n, i in enumerate(ids))
    assert all(set(p.sources) == {"arxiv", "huggingface"} for p in stored.values())
    assert sorted(i for r in results for i in r.new) == sorted(ids)  # one "new" each
    assert len({p.seq for p in stored.values()}) == 40


async def test_same_query_from_two_stores_makes_one_subscription(
    pair: tuple[RedisStore, ...], clean_redis: str
) -> None:
    results = await asyncio.gather(
        *(s.add_subscription(A, "gan") for s in pair for _ in range(5)), return_exceptions=True
    )
    made = [r for r in results if not isinstance(r, BaseException)]
    assert len(made) == 1
    assert all(isinstance(r, DuplicateSubscription) for r in results if r not in made)
    with redis.Redis.from_url(clean_redis) as client:
        assert client.hlen("paperbot:subids") == 1  # losers freed their ids


async def test_scripted_edits_keep_text_and_falsy_values(rstore: RedisStore) -> None:
    query = 'title:"café/naïve" -\\x \u2014 "a\nb" 12345678901234567'
    sub = await rstore.add_subscription(A, query)
    paused = await rstore.set_paused(A.tenant, sub.id, True, "")
    assert paused is not None and paused.query == query and paused.paused_reason == ""
    await rstore.mark_posted(A.tenant, [sub.id], T0.astimezone(timezone(timedelta(hours=2))))
    got = await rstore.get_subscription(A.tenant, sub.id)
    assert got is not None and got.query == query and got.last_post_at == T0
    assert got.last_post_at is not None and got.last_post_at.utcoffset() == timedelta(0)
    [queued] = await rstore.enqueue([entry(A, 1)])
    await rstore.retry(queued.id, T0, "")
    [pending] = await rstore.pending(A)
    assert pending.last_error == "" and pending.lease_until is None


async def test_times_keep_microseconds_and_expired_leases_keep_due_order(
    rstore: RedisStore,
) -> None:
    now = T0 + timedelta(microseconds=123457)
    await rstore.enqueue([entry(A, 1, due=now)])
    [held] = await rstore.lease(now, 0.5)
    assert held.due_at == now and held.lease_until == now + timedelta(seconds=0.5)
    await rstore.enqueue([entry(A, 2, due=now + timedelta(seconds=30))])
    [first] = await rstore.lease(now + timedelta(seconds=200), 60, limit=1)
    assert first.paper_id == "arxiv:1" and first.attempts == 2  # oldest due, not newest
