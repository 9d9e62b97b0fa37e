"""The Store contract: every test runs on every backend (the `store` fixture)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.models import Destination, OutboxEntry, Paper, Schedule, Tenant
from bot.store import DuplicateSubscription, Store

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
A = Destination.parse("slack:T1:C1")
A2 = Destination.parse("slack:T1:C2")
B = Destination.parse("slack:T2:C1")  # same channel id, other workspace
D = Destination.parse("discord:T1:C1")  # same ids, other platform
FOLLOW = Destination.parse("slack:T1:@U2")


def paper(n: int, **kw: object) -> Paper:
    return Paper(id=f"arxiv:2411.{n:05d}", title=f"Paper {n}", **kw)  # type: ignore[arg-type]


def entry(
    dest: Destination, n: int, due: datetime = T0, subs: tuple[str, ...] = ("s1",)
) -> OutboxEntry:
    return OutboxEntry(dest, f"arxiv:2411.{n:05d}", subs, due_at=due, terms=("x", "y z"))


# -- papers ---------------------------------------------------------------------------


async def test_put_new_updated_unchanged(store: Store) -> None:
    first = await store.put_papers([paper(1, upvotes=3), paper(2)])
    assert first.new == ("arxiv:2411.00001", "arxiv:2411.00002")
    again = await store.put_papers([paper(1, upvotes=3), paper(2, upvotes=5)])
    assert again.new == () and again.unchanged == ("arxiv:2411.00001",)
    assert again.updated == ("arxiv:2411.00002",)
    stored = await store.get_paper("arxiv:2411.00002")
    assert stored is not None and stored.upvotes == 5
    assert await store.count_papers() == 2


async def test_merge_keeps_seq_and_unites_sources(store: Store) -> None:
    await store.put_papers([paper(1, sources=("huggingface",), upvotes=7, abstract="a")])
    before = await store.get_paper("arxiv:2411.00001")
    await store.put_papers(
        [paper(1, sources=("arxiv",), categories=("cs.LG",), version=2, abstract="")]
    )
    after = await store.get_paper("arxiv:2411.00001")
    assert before is not None and after is not None
    assert after.seq == before.seq
    assert after.sources == ("huggingface", "arxiv")
    assert after.upvotes == 7 and after.version == 2 and after.abstract == "a"


async def test_same_id_twice_in_a_batch(store: Store) -> None:
    result = await store.put_papers([paper(1, upvotes=1), paper(1, upvotes=2)])
    assert result.new == ("arxiv:2411.00001",)
    stored = await store.get_paper("arxiv:2411.00001")
    assert stored is not None and stored.upvotes == 2


async def test_falsy_values_survive(store: Store) -> None:
    published = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    original = paper(1, upvotes=0, version=1, published=published, authors=("A", "B"))
    await store.put_papers([original])
    stored = await store.get_paper(original.id)
    assert stored == original and stored is not None
    assert stored.upvotes == 0 and stored.published == published


async def test_get_papers_and_unknown_ids(store: Store) -> None:
    await store.put_papers([paper(1), paper(2)])
    found = await store.get_papers(["arxiv:2411.00002", "arxiv:nope", "arxiv:2411.00001"])
    assert set(found) == {"arxiv:2411.00001", "arxiv:2411.00002"}
    assert await store.get_paper("arxiv:nope") is None


async def test_papers_after_pages_in_ingest_order(store: Store) -> None:
    await store.put_papers([paper(n) for n in range(5)])
    await store.put_papers([paper(0, upvotes=9), paper(5)])  # a merge does not move paper 0
    seen, last = [], 0
    while page := await store.papers_after(last, limit=2):
        seen += [p.id for p in page]
        last = page[-1].seq or 0
    assert seen == [f"arxiv:2411.{n:05d}" for n in range(6)]


# -- subscriptions --------------------------------------------------------------------


async def test_subscription_lifecycle(store: Store) -> None:
    schedule = Schedule.parse("daily@07:30", "Europe/Berlin")
    sub = await store.add_subscription(A, '"domain generalization" -survey', schedule, "U1")
    assert 4 <= len(sub.id) <= 8
    got = await store.get_subscription(A.tenant, sub.id)
    assert got == sub and got is not None and got.schedule == schedule
    paused = await store.set_paused(A.tenant, sub.id, True, "channel_not_found")
    assert paused is not None and paused.paused and paused.paused_reason == "channel_not_found"
    got = await store.get_subscription(A.tenant, sub.id)
    assert got is not None and got.paused_reason == "channel_not_found"
    resumed = await store.set_paused(A.tenant, sub.id, False)
    assert resumed is not None and not resumed.paused and resumed.paused_reason is None
    assert await store.remove_subscription(A.tenant, sub.id)
    assert await store.get_subscription(A.tenant, sub.id) is None
    assert not await store.remove_subscription(A.tenant, sub.id)


async def test_lists_are_scoped_and_ordered(store: Store) -> None:
    s1 = await store.add_subscription(A, "one")
    s2 = await store.add_subscription(A2, "two")
    f = await store.add_subscription(FOLLOW, 'author:"Chelsea Finn"')
    await store.add_subscription(B, "other workspace")
    assert [s.id for s in await store.list_subscriptions(A.tenant)] == [s1.id, s2.id, f.id]
    assert [s.id for s in await store.list_subscriptions(A.tenant, A)] == [s1.id]
    follows = await store.list_subscriptions(A.tenant, FOLLOW)
    assert [s.id for s in follows] == [f.id] and follows[0].is_follow
    assert await store.list_subscriptions(A.tenant, B) == []
    assert len([s async for s in store.iter_subscriptions()]) == 4


async def test_duplicate_query_in_one_destination(store: Store) -> None:
    first = await store.add_subscription(A, "gan")
    with pytest.raises(DuplicateSubscription) as info:
        await store.add_subscription(A, "gan")
    assert info.value.existing.id == first.id
    assert (await store.add_subscription(A2, "gan")).id != first.id


async def test_ids_are_unique(store: Store) -> None:
    subs = [await store.add_subscription(A, f"q{i}") for i in range(200)]
    assert len({s.id for s in subs}) == 200


@pytest.mark.parametrize("other", [B, D])
async def test_tenant_isolation(store: Store, other: Destination) -> None:
    mine = await store.add_subscription(A, "mine")
    theirs = await store.add_subscription(other, "theirs")
    assert await store.get_subscription(A.tenant, theirs.id) is None
    assert not await store.remove_subscription(A.tenant, theirs.id)
    assert await store.set_paused(A.tenant, theirs.id, True, "x") is None
    assert [s.id for s in await store.list_subscriptions(A.tenant)] == [mine.id]
    still = await store.get_subscription(other.tenant, theirs.id)
    assert still is not None and not still.paused
    await store.record_feedback(A.tenant, "arxiv:1", "U1", 1)
    assert await store.feedback(other.tenant, "arxiv:1") == (0, 0)


async def test_pause_destination(store: Store) -> None:
    await store.add_subscription(A, "one")
    await store.add_subscription(A, "two")
    other = await store.add_subscription(A2, "three")
    assert await store.pause_destination(A, "bot removed from channel") == 2
    assert await store.pause_destination(A, "again") == 0
    reasons = {s.paused_reason for s in await store.list_subscriptions(A.tenant, A)}
    assert reasons == {"bot removed from channel"}
    kept = await store.get_subscription(A.tenant, other.id)
    assert kept is not None and not kept.paused


# -- ledger ---------------------------------------------------------------------------


async def test_claim_returns_only_new_pairs_in_order(store: Store) -> None:
    assert await store.claim(A, ["p3", "p1", "p2"]) == ["p3", "p1", "p2"]
    assert await store.claim(A, ["p4", "p1"]) == ["p4"]
    assert await store.claim(B, ["p1"]) == ["p1"]  # another destination is another pair


async def test_concurrent_claims_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.claim(A, ["p1", "p2"]) for _ in range(20)))
    winners = [r for r in results if r]
    assert sorted(p for r in results for p in r) == ["p1", "p2"]
    assert 1 <= len(winners) <= 2


async def test_claim_and_enqueue_is_once_per_pair(store: Store) -> None:
    first = await store.claim_and_enqueue([entry(A, 1), entry(A, 2), entry(B, 1)])
    assert [(str(e.destination), e.paper_id) for e in first] == [
        ("slack:T1:C1", "arxiv:2411.00001"),
        ("slack:T1:C1", "arxiv:2411.00002"),
        ("slack:T2:C1", "arxiv:2411.00001"),
    ]
    assert all(e.id for e in first)
    second = await store.claim_and_enqueue([entry(A, 1), entry(A, 3)])
    assert [e.paper_id for e in second] == ["arxiv:2411.00003"]
    assert len(await store.pending(A)) == 3
    results = await asyncio.gather(*(store.claim_and_enqueue([entry(A2, 9)]) for _ in range(10)))
    assert sum(len(r) for r in results) == 1


# -- outbox ---------------------------------------------------------------------------


async def test_enqueue_lease_ack(store: Store) -> None:
    queued = await store.enqueue([entry(A, 1), entry(A, 2, due=T0 + timedelta(hours=1))])
    assert len({e.id for e in queued}) == 2
    leased = await store.lease(T0, 60, limit=10)
    assert [e.paper_id for e in leased] == ["arxiv:2411.00001"]  # the other is not due
    [got] = leased
    assert got.attempts == 1 and got.lease_until == T0 + timedelta(seconds=60)
    assert got.terms == ("x", "y z") and got.subscription_ids == ("s1",)
    assert await store.lease(T0 + timedelta(seconds=30), 60) == []  # held
    await store.ack([got.id])
    assert [e.paper_id for e in await store.pending()] == ["arxiv:2411.00002"]
    await store.ack([123456])  # unknown ids are ignored


async def test_expired_lease_comes_back(store: Store) -> None:
    await store.enqueue([entry(A, 1)])
    await store.lease(T0, 60)
    [again] = await store.lease(T0 + timedelta(seconds=61), 60)
    assert again.attempts == 2


async def test_lease_order_and_limit(store: Store) -> None:
    await store.enqueue([entry(A, n, due=T0 - timedelta(minutes=n)) for n in range(5)])
    leased = await store.lease(T0, 60, limit=3)
    assert [e.paper_id[-1] for e in leased] == ["4", "3", "2"]


async def test_concurrent_leases_never_share(store: Store) -> None:
    await store.enqueue([entry(A, n) for n in range(30)])
    batches = await asyncio.gather(*(store.lease(T0, 60, limit=7) for _ in range(6)))
    ids = [e.id for b in batches for e in b]
    assert len(ids) == len(set(ids)) == 30


async def test_retry_releases_and_delays(store: Store) -> None:
    [queued] = await store.enqueue([entry(A, 1)])
    await store.lease(T0, 600)
    await store.retry(queued.id, T0 + timedelta(minutes=5), "HTTP 502")
    assert await store.lease(T0 + timedelta(minutes=4), 60) == []
    [again] = await store.lease(T0 + timedelta(minutes=5), 60)
    assert again.last_error == "HTTP 502" and again.attempts == 2


async def test_pending_and_reschedule(store: Store) -> None:
    later = T0 + timedelta(days=1)
    await store.enqueue([entry(A, 1, due=later), entry(A, 2, due=later), entry(A2, 3, due=later)])
    assert [e.paper_id[-1] for e in await store.pending(A)] == ["1", "2"]
    assert await store.reschedule(A, T0) == 2
    assert {e.paper_id[-1] for e in await store.lease(T0, 60)} == {"1", "2"}


# -- cursors and feedback -------------------------------------------------------------


async def test_cursors(store: Store) -> None:
    assert await store.get_cursor("huggingface") is None
    await store.set_cursor("huggingface", "2026-11-23")
    await store.set_cursor("huggingface", "2026-11-24")
    await store.set_cursor("arxiv", "")
    assert await store.get_cursor("huggingface") == "2026-11-24"
    assert await store.get_cursor("arxiv") == ""


async def test_feedback_last_vote_wins(store: Store) -> None:
    t = Tenant("slack", "T1")
    await store.record_feedback(t, "arxiv:1", "U1", 1)
    await store.record_feedback(t, "arxiv:1", "U2", 1)
    await store.record_feedback(t, "arxiv:1", "U1", -1)
    assert await store.feedback(t, "arxiv:1") == (1, 1)
    await store.record_feedback(t, "arxiv:1", "U2", 0)
    assert await store.feedback(t, "arxiv:1") == (0, 1)
    with pytest.raises(ValueError):
        await store.record_feedback(t, "arxiv:1", "U1", 2)


async def test_mark_posted_is_tenant_scoped(store: Store) -> None:
    mine = await store.add_subscription(A, "mine")
    theirs = await store.add_subscription(B, "theirs")
    await store.mark_posted(A.tenant, [mine.id, theirs.id, "nope"], T0)
    got = await store.get_subscription(A.tenant, mine.id)
    assert got is not None and got.last_post_at == T0
    other = await store.get_subscription(B.tenant, theirs.id)
    assert other is not None and other.last_post_at is None


async def test_values_and_counters(store: Store) -> None:
    assert await store.get_value("llm:tldr:arxiv:1") is None
    await store.set_value("llm:tldr:arxiv:1", "")
    assert await store.get_value("llm:tldr:arxiv:1") == ""
    await store.set_value("llm:tldr:arxiv:1", "A summary.")
    assert await store.get_value("llm:tldr:arxiv:1") == "A summary."
    counts = await asyncio.gather(*(store.incr("llm:budget:2026-11-24") for _ in range(10)))
    assert sorted(counts) == list(range(1, 11))
    assert await store.incr("llm:budget:2026-11-24", 5) == 15
