"""What only one backend can show: files that survive, keys that are tagged, servers
that go away."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from bot.models import Destination, Paper
from bot.store import StoreUnavailable, open_store
from bot.store.sqlite import SQLiteStore

A = Destination.parse("slack:T1:C1")


async def test_sqlite_survives_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = await open_store(url)
    sub = await store.add_subscription(A, "diffusion")
    await store.put_papers([Paper(id="arxiv:1", title="t", upvotes=0)])
    await store.claim(A, ["arxiv:1"])
    await store.close()
    store = await open_store(url)
    try:
        assert await store.get_subscription(A.tenant, sub.id) == sub
        stored = await store.get_paper("arxiv:1")
        assert stored is not None and stored.upvotes == 0
        assert await store.claim(A, ["arxiv:1"]) == []
    finally:
        await store.close()


async def test_two_sqlite_stores_on_one_file_have_one_winner(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    one, two = await open_store(url), await open_store(url)
    try:
        results = await asyncio.gather(
            *(s.claim(A, [f"p{i}" for i in range(20)]) for s in (one, two) for _ in range(5))
        )
        claimed = [p for r in results for p in r]
        assert sorted(claimed) == sorted(f"p{i}" for i in range(20))
    finally:
        await one.close()
        await two.close()


async def test_sqlite_unusable_path_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreUnavailable):
        await SQLiteStore.open(f"sqlite:///{tmp_path / 'dir.db'}")


async def test_sqlite_closed_store_raises(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'p.db'}")
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.count_papers()


async def test_redis_unreachable_raises() -> None:
    with pytest.raises(StoreUnavailable):
        await open_store("redis://127.0.0.1:1/0")


async def test_redis_keys_are_namespaced_and_tagged(clean_redis: str) -> None:
    store = await open_store(clean_redis)
    try:
        await store.put_papers([Paper(id="arxiv:1", title="t")])
        sub = await store.add_subscription(A, "x")
        await store.add_subscription(Destination.parse("discord:G1:C1"), "y")
        await store.record_feedback(A.tenant, "arxiv:1", "U1", 1)
        await store.claim_and_enqueue([])
        await store.set_cursor("arxiv", "2026-11-24")
        client = redis.Redis.from_url(clean_redis)
        keys = sorted(k.decode() for k in client.scan_iter(count=1000))
        assert keys and all(k.startswith("paperbot:") for k in keys)
        tenant_keys = [k for k in keys if "slack:T1" in k]
        assert tenant_keys and all("{slack:T1}" in k for k in tenant_keys)
        assert f"paperbot:{{slack:T1}}:sub:{sub.id}" in keys
        assert any(k.startswith("paperbot:{discord:G1}:") for k in keys)
    finally:
        await store.close()


def test_redis_backend_never_uses_keys() -> None:
    source = "".join(
        (Path(__file__).parents[2] / "bot" / "store" / name).read_text()
        for name in ("redis.py", "redis_subs.py", "redis_scripts.py")
    )
    assert not re.search(r"\.keys\(|'KEYS'|\"KEYS\"", source)


async def test_redis_going_away_mid_use_raises(doomed_redis: str) -> None:
    store = await open_store(doomed_redis)
    try:
        await store.add_subscription(A, "x")
        try:
            redis.Redis.from_url(doomed_redis).shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it stops
        with pytest.raises(StoreUnavailable):
            await store.count_papers()
        with pytest.raises(StoreUnavailable):
            await store.add_subscription(A, "y")
        with pytest.raises(StoreUnavailable):
            await store.lease(datetime.now(UTC), 60)
    finally:
        await store.close()
