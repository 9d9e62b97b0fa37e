"""The router's upkeep of the percolator: a big index is frozen out of the GC's scans."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import routing
from bot.models import Destination
from bot.routing import Router
from bot.store import open_store

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
