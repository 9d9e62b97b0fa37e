"""The router's upkeep of the percolator: synced only after changes, frozen when big."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import routing
from bot.models import Destination, Subscription
from bot.routing import Router
from bot.store import open_store
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
