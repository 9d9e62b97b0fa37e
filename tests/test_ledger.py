"""Pruning the delivery ledger: old claims go, and still nothing is posted twice."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.ledger import KEEP, prune_daily, prune_ledger
from bot.models import Destination, Paper
from bot.routing import CURSOR, MAX_AGE, Router
from bot.store import Store

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
LAB = Destination.parse("slack:T1:C1")
ME = Destination.parse("slack:T1:@U1")


def test_a_claim_outlives_every_chance_of_routing_its_paper() -> None:
    assert KEEP > MAX_AGE * 2


async def _claims(store: Store) -> dict[str, list[str]]:
    return {str(d): ids async for d, ids in store.ledger()}


async def test_old_claims_go_and_nothing_is_posted_twice(store: Store) -> None:
    day = timedelta(days=1)
    papers = [
        Paper(id="arxiv:2410.00001", title="Diffusion old", published=NOW - 5 * day),
        Paper(id="arxiv:2411.00002", title="Diffusion new", published=NOW - day),
        Paper(id="arxiv:2411.00003", title="Diffusion undated"),
    ]
    await store.put_papers(papers)
    for dest in (LAB, ME):
        await store.add_subscription(dest, "diffusion")
    assert (await Router(store, clock=lambda: NOW).catch_up()).queued == 6
    await store.claim(LAB, ["arxiv:2401.99999"])  # a paper the store does not know
    later = NOW + KEEP - timedelta(days=2)  # the old paper is past KEEP, the new one not
    assert await prune_ledger(store, later) == 2  # the old paper, for both destinations
    assert await _claims(store) == {
        "slack:T1:C1": ["arxiv:2401.99999", "arxiv:2411.00002", "arxiv:2411.00003"],
        "slack:T1:@U1": ["arxiv:2411.00002", "arxiv:2411.00003"],
    }
    # routing everything again, a month later, queues nothing
    await store.set_cursor(CURSOR, "0")
    assert (await Router(store, clock=lambda: later).catch_up()).queued == 0
    assert len(await store.pending()) == 6


async def test_pruning_logs_only_what_it_dropped(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.ledger")
    assert await prune_daily(store, NOW) == 0
    assert caplog.records == []  # nothing pruned: nothing said
    await store.put_papers([Paper(id="arxiv:2410.00001", title="x", published=NOW - KEEP)])
    await store.claim(LAB, ["arxiv:2410.00001"])
    assert await prune_daily(store, NOW + timedelta(days=2)) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "pruned 1 delivery ledger claims of papers older than 30 days"
    ]


async def test_pruned_once_a_day_by_whichever_process(store: Store) -> None:
    await store.put_papers([Paper(id="arxiv:2410.00001", title="x", published=NOW - KEEP)])
    await store.claim(LAB, ["arxiv:2410.00001"])
    assert await prune_daily(store, NOW + timedelta(seconds=1)) == 1
    await store.claim(LAB, ["arxiv:2410.00001"])
    assert await prune_daily(store, NOW + timedelta(hours=23)) is None  # not due yet
    assert await _claims(store) == {"slack:T1:C1": ["arxiv:2410.00001"]}
    assert await prune_daily(store, NOW + timedelta(days=1, seconds=2)) == 1
    assert await _claims(store) == {}
