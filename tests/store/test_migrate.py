"""`paperbot migrate`: everything moves from one backend to the other, nothing is posted twice."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.migrate import NotEmpty, migrate
from bot.models import Destination, Paper, Schedule, Tenant
from bot.poll_status import status_key
from bot.routing import CURSOR, Router
from bot.store import Store, open_store

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
LAB = Destination.parse("slack:T1:C1")
ME = Destination.parse("slack:T1:@U1")
GUILD = Destination.parse("discord:9:42")


@pytest.fixture
async def other(
    store: Store, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Store]:
    """An empty store of the other backend than `store`."""
    redis_source = "redis" in request.node.callspec.params.get("store", "")
    url = f"sqlite:///{tmp_path / 'target.db'}" if redis_source else None
    opened = await open_store(url or request.getfixturevalue("clean_redis"))
    try:
        yield opened
    finally:
        await opened.close()


async def _fill(store: Store) -> None:
    """A store in use: papers routed, one post delivered, others waiting, votes, cursors."""
    papers = [
        Paper(id=f"arxiv:2411.{n:05d}", title=f"Diffusion paper {n}", published=NOW)
        for n in range(1, 6)
    ]
    await store.put_papers(papers[:3])
    await store.add_subscription(LAB, "diffusion", Schedule(), "U1")
    await store.add_subscription(ME, "diffusion", Schedule.parse("daily@08:00", "Asia/Tokyo"), "U1")
    paused = await store.add_subscription(GUILD, '"paper 2"', Schedule(), "7")
    await store.set_paused(paused.tenant, paused.id, True, "the channel no longer exists")
    router = Router(store, clock=lambda: NOW)
    assert (await router.catch_up()).queued == 6
    [first, *_] = await store.lease(NOW, 60, limit=1)
    await store.ack([first.id])  # delivered in the old store
    await store.put_papers(papers[3:])  # stored, not routed yet
    await store.record_feedback(LAB.tenant, papers[0].id, "U1", 1)
    await store.record_feedback(GUILD.tenant, papers[1].id, "7", -1)
    await store.set_cursor("huggingface", "2026-11-24")
    await store.set_value(status_key("arxiv"), json.dumps({"ok": True}))


async def _contents(store: Store) -> dict[str, object]:
    subs = sorted([s async for s in store.iter_subscriptions()], key=lambda s: s.id)
    ledger = sorted([(str(d), ids) async for d, ids in store.ledger()])
    waiting = sorted(
        (str(e.destination), e.paper_id, e.subscription_ids, e.due_at, e.terms)
        for e in await store.pending()
    )
    votes = sorted([v async for v in store.votes()], key=str)
    return {
        "papers": await store.papers_after(0, 100),
        "subscriptions": subs,
        "ledger": ledger,
        "outbox": waiting,
        "votes": votes,
        "cursors": [await store.get_cursor(c) for c in ("huggingface", "arxiv", CURSOR)],
        "polls": await store.get_value(status_key("arxiv")),
    }


async def test_everything_moves_and_nothing_is_posted_twice(store: Store, other: Store) -> None:
    await _fill(store)
    before = await _contents(store)
    report = await migrate(store, other)
    assert report.line() == "papers=5 subscriptions=3 ledger=6 outbox=5 votes=2"
    assert await _contents(other) == before
    assert await _contents(store) == before  # the source is left as it was
    # the new store routes only what the old one had not routed yet ...
    router = Router(other, clock=lambda: NOW)
    assert (await router.catch_up()).queued == 4
    # ... and even routing everything again queues nothing twice
    await other.set_cursor(CURSOR, "0")
    assert (await router.catch_up()).queued == 0
    assert len(await other.pending()) == 5 + 4


async def test_only_into_an_empty_store(store: Store, other: Store) -> None:
    await _fill(store)
    await other.record_feedback(Tenant("slack", "T9"), "arxiv:2411.00001", "U9", 1)
    with pytest.raises(NotEmpty, match="holds feedback votes"):
        await migrate(store, other)
    assert [s async for s in other.iter_subscriptions()] == []


def test_cli_moves_sqlite_to_redis(tmp_path: Path, clean_redis: str) -> None:
    runner = CliRunner()
    env = {"PAPERBOT_STORE__URL": "", "PAPERBOT_CONFIG": ""}
    base = ["--data-dir", str(tmp_path)]
    made = runner.invoke(
        main, [*base, "subscribe", "--channel", "slack:T1:C1", "diffusion"], env=env
    )
    assert made.exit_code == 0, made.output
    moved = runner.invoke(main, [*base, "migrate", "--to", clean_redis], env=env)
    assert moved.exit_code == 0, moved.output
    assert moved.stdout.splitlines()[-1] == ("papers=0 subscriptions=1 ledger=0 outbox=0 votes=0")
    listed = runner.invoke(
        main, [*base, "subscriptions"], env={**env, "PAPERBOT_STORE__URL": clean_redis}
    )
    assert "slack:T1:C1" in listed.stdout and "diffusion" in listed.stdout
    again = runner.invoke(main, [*base, "migrate", "--to", clean_redis], env=env)
    assert again.exit_code == 2 and "not empty" in again.stderr
    itself = runner.invoke(
        main, [*base, "migrate", "--to", f"sqlite:///{tmp_path / 'paperbot.db'}"], env=env
    )
    assert itself.exit_code == 2 and "configured store itself" in itself.stderr
