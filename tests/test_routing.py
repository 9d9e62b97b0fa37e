"""The router's upkeep of the percolator: synced only after changes, frozen when big."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import routing
from bot.models import Destination, Paper, Subscription
from bot.routing import Router
from bot.store import Store, open_store
from bot.store.codec import sub_json

LAB = Destination("console", "default", "lab")


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_a_big_sync_freezes_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    monkeypatch.setattr(routing, "FREEZE_AFTER", 3)
    store = await open_store(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        for query in ("diffusion", "robots", "author:finn"):
            await store.add_subscription(LAB, query)
        router = Router(store)
        await router.sync()
        assert router.index is not None and len(router.index) == 3
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        await store.add_subscription(LAB, "tabular")
        await router.sync()  # one new subscription: nothing to freeze
        assert len(router.index) == 4 and gc.get_freeze_count() == 0
    finally:
        await store.close()


async def test_sync_reads_subscriptions_only_after_a_change(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        await store.add_subscription(LAB, "diffusion")
        router = Router(store)
        await router.sync()
        # A row written behind the store's back does not move subscriptions_version:
        # the next sync must not even look (it would find "robots").
        hidden = Subscription("hid01", LAB, "robots", created_at=datetime.now(UTC))
        with sqlite3.connect(tmp_path / "p.db") as conn:
            conn.execute(
                "INSERT INTO subscriptions (id, tenant, destination, query, created, data) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                ("hid01", str(LAB.tenant), str(LAB), "robots", 0.0, sub_json(hidden)),
            )
        await router.sync()
        assert router.index is not None and "hid01" not in router.index
        await store.add_subscription(LAB, "tabular")  # a real change: read them all
        await router.sync()
        assert "hid01" in router.index and len(router.index) == 3
    finally:
        await store.close()


async def test_a_pause_for_a_while_ends_by_itself(store: Store) -> None:
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    clock = Clock(now)
    sub = await store.add_subscription(LAB, "diffusion")
    other = await store.add_subscription(LAB, "robots")
    await store.set_paused(LAB.tenant, sub.id, True, "paused by ada", now + timedelta(days=3))
    await store.set_paused(LAB.tenant, other.id, True, "paused by ada")  # until resumed
    router = Router(store, clock)
    await store.put_papers([Paper(id="arxiv:2411.00001", title="Diffusion", published=now)])
    assert (await router.catch_up()).queued == 0  # paused: not posted, then or later
    clock.now = now + timedelta(days=3)
    await store.put_papers([Paper(id="arxiv:2411.00002", title="Diffusion", published=clock.now)])
    assert (await router.catch_up()).queued == 1  # resumed first, then routed
    running = {s.id: s for s in await store.list_subscriptions(LAB.tenant)}
    assert not running[sub.id].paused and running[sub.id].resume_at is None
    assert running[other.id].paused  # no end given: stays paused
    assert [e.paper_id for e in await store.pending()] == ["arxiv:2411.00002"]


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
