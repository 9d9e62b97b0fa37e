"""The Store contract, part two: delivery ledger, outbox, cursors, values, feedback.

Every test runs on every backend (the `store` fixture in tests/conftest.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.models import Destination, OutboxEntry, Tenant
from bot.store import Store

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
A = Destination.parse("slack:T1:C1")
A2 = Destination.parse("slack:T1:C2")
B = Destination.parse("slack:T2:C1")
FOLLOW = Destination.parse("slack:T1:@U2")


def entry(
    dest: Destination, n: int, due: datetime = T0, subs: tuple[str, ...] = ("s1",)
) -> OutboxEntry:
    return OutboxEntry(dest, f"arxiv:2411.{n:05d}", subs, due_at=due, terms=("x", "y z"))


def tails(entries: list[OutboxEntry]) -> list[str]:
    return [e.paper_id[-1] for e in entries]


# -- ledger ---------------------------------------------------------------------------


async def test_claim_returns_only_new_pairs_in_order(store: Store) -> None:
    assert await store.claim(A, []) == []
    assert await store.claim(A, ["p3", "p1", "p2"]) == ["p3", "p1", "p2"]
    assert await store.claim(A, ["p4", "p1", "p5", "p3"]) == ["p4", "p5"]
    assert await store.claim(A, ["p6", "p6"]) == ["p6"]  # a pair is won once
    assert await store.claim(B, ["p1"]) == ["p1"]  # another destination is another pair
    assert await store.claim(FOLLOW, ["p1"]) == ["p1"]
    assert await store.claim(A, ["p1", "p2", "p3", "p4", "p5", "p6"]) == []


async def test_unclaim_forgets_only_the_pairs_given(store: Store) -> None:
    await store.claim(A, ["p1", "p2", "p3"])
    await store.claim(B, ["p1"])
    assert await store.unclaim(A, ["p1", "p3", "p9", "p1"]) == 2
    assert await store.unclaim(A, []) == 0
    assert [(str(d), ids) async for d, ids in store.ledger()] in (
        [("slack:T1:C1", ["p2"]), ("slack:T2:C1", ["p1"])],
        [("slack:T2:C1", ["p1"]), ("slack:T1:C1", ["p2"])],
    )
    assert await store.claim(A, ["p1", "p2"]) == ["p1"]  # forgotten: may be claimed again
    assert await store.unclaim(A, ["p1", "p2"]) == 2
    assert [str(d) async for d, _ in store.ledger()] == ["slack:T2:C1"]  # none left for A


async def test_twenty_concurrent_claims_of_one_pair_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.claim(A, ["p1"]) for _ in range(20)))
    assert sorted(results) == [[]] * 19 + [["p1"]]


async def test_concurrent_overlapping_claims_win_each_pair_once(store: Store) -> None:
    ids = [f"p{i}" for i in range(10)]
    results = await asyncio.gather(*(store.claim(A, ids[i % 3 :]) for i in range(12)))
    won = [p for r in results for p in r]
    assert sorted(won) == sorted(ids)
    assert all(r == sorted(r, key=ids.index) for r in results)  # input order kept


async def test_claim_and_enqueue_is_once_per_pair(store: Store) -> None:
    first = await store.claim_and_enqueue([entry(A, 1), entry(A, 2), entry(B, 1)])
    assert [(str(e.destination), e.paper_id) for e in first] == [
        ("slack:T1:C1", "arxiv:2411.00001"),
        ("slack:T1:C1", "arxiv:2411.00002"),
        ("slack:T2:C1", "arxiv:2411.00001"),
    ]
    assert all(e.id for e in first) and len({e.id for e in first}) == 3
    second = await store.claim_and_enqueue([entry(A, 1), entry(A, 3)])
    assert [e.paper_id for e in second] == ["arxiv:2411.00003"]
    assert await store.claim(A, ["arxiv:2411.00003", "arxiv:2411.00004"]) == ["arxiv:2411.00004"]
    assert len(await store.pending(A)) == 3
    results = await asyncio.gather(*(store.claim_and_enqueue([entry(A2, 9)]) for _ in range(10)))
    assert sum(len(r) for r in results) == 1
    assert len(await store.pending(A2)) == 1


# -- outbox ---------------------------------------------------------------------------


async def test_enqueue_round_trips_entries(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    given = OutboxEntry(
        FOLLOW, "arxiv:1", ("s1", "s2"), due_at=T0.astimezone(plus_two), terms=("diffusion",)
    )
    [queued] = await store.enqueue([given])
    [stored] = await store.pending()
    assert queued.id != 0 and stored == queued
    assert stored.destination == FOLLOW and stored.subscription_ids == ("s1", "s2")
    assert stored.terms == ("diffusion",) and stored.attempts == 0
    assert stored.lease_until is None and stored.last_error is None
    assert stored.due_at == T0 and stored.due_at.utcoffset() == timedelta(0)
    assert await store.enqueue([]) == []


async def test_enqueue_lease_ack(store: Store) -> None:
    queued = await store.enqueue([entry(A, 1), entry(A, 2, due=T0 + timedelta(hours=1))])
    assert len({e.id for e in queued}) == 2
    leased = await store.lease(T0, 60, limit=10)
    assert tails(leased) == ["1"]  # the other is not due
    [got] = leased
    assert got.id == queued[0].id and got.attempts == 1
    assert got.lease_until == T0 + timedelta(seconds=60)
    assert got.terms == ("x", "y z") and got.subscription_ids == ("s1",)
    assert await store.lease(T0 + timedelta(seconds=30), 60) == []  # held
    assert tails(await store.pending()) == ["1", "2"]  # leased entries are still pending
    await store.ack([got.id, 123456])  # unknown ids are ignored
    assert tails(await store.pending()) == ["2"]
    assert tails(await store.lease(T0 + timedelta(hours=2), 60)) == ["2"]


async def test_lease_is_held_until_it_expires(store: Store) -> None:
    await store.enqueue([entry(A, 1)])
    [first] = await store.lease(T0, 60)
    assert await store.lease(T0 + timedelta(seconds=59), 60) == []
    assert await store.lease(T0 + timedelta(seconds=60), 60) == []  # not expired *before* now
    [again] = await store.lease(T0 + timedelta(seconds=61), 60)
    assert again.id == first.id and again.attempts == 2
    assert again.lease_until == T0 + timedelta(seconds=121)
    [third] = await store.lease(T0 + timedelta(seconds=200), 60)
    assert third.attempts == 3
    [pending] = await store.pending()
    assert pending.attempts == 3 and pending.lease_until == T0 + timedelta(seconds=260)


async def test_lease_order_and_limit(store: Store) -> None:
    await store.enqueue([entry(A, n, due=T0 - timedelta(minutes=n)) for n in range(5)])
    assert tails(await store.lease(T0, 60, limit=3)) == ["4", "3", "2"]
    assert tails(await store.lease(T0, 60, limit=3)) == ["1", "0"]
    assert tails(await store.pending()) == ["4", "3", "2", "1", "0"]


async def test_concurrent_leases_never_share(store: Store) -> None:
    await store.enqueue([entry(A, n) for n in range(30)])
    batches = await asyncio.gather(*(store.lease(T0, 60, limit=7) for _ in range(6)))
    ids = [e.id for b in batches for e in b]
    assert len(ids) == len(set(ids)) == 30


async def test_retry_releases_and_delays(store: Store) -> None:
    [queued] = await store.enqueue([entry(A, 1)])
    await store.lease(T0, 600)
    await store.retry(queued.id, T0 + timedelta(minutes=5), "HTTP 502")
    [waiting] = await store.pending()
    assert waiting.lease_until is None and waiting.last_error == "HTTP 502"
    assert waiting.due_at == T0 + timedelta(minutes=5) and waiting.attempts == 1
    assert await store.lease(T0 + timedelta(minutes=4), 60) == []
    [again] = await store.lease(T0 + timedelta(minutes=5), 60)
    assert again.last_error == "HTTP 502" and again.attempts == 2
    await store.retry(987654, T0, "unknown")  # ignored
    assert len(await store.pending()) == 1


async def test_pending_and_reschedule(store: Store) -> None:
    later = T0 + timedelta(days=1)
    await store.enqueue([entry(A, 1, due=later), entry(A2, 3, due=later), entry(A, 2, due=later)])
    assert tails(await store.pending(A)) == ["1", "2"]
    assert tails(await store.pending(B)) == []
    assert await store.reschedule(A, T0) == 2
    assert {e.due_at for e in await store.pending(A)} == {T0}
    assert tails(await store.lease(T0, 60)) == ["1", "2"]  # A2's digest still waits
    assert await store.reschedule(B, T0) == 0


# -- cursors, values, feedback --------------------------------------------------------


async def test_cursors(store: Store) -> None:
    assert await store.get_cursor("huggingface") is None
    await store.set_cursor("huggingface", "2026-11-23")
    await store.set_cursor("huggingface", "2026-11-24")
    await store.set_cursor("arxiv", "")
    assert await store.get_cursor("huggingface") == "2026-11-24"
    assert await store.get_cursor("arxiv") == ""
    assert await store.get_cursor("file") is None


async def test_values_and_counters(store: Store) -> None:
    assert await store.get_value("llm:tldr:arxiv:1") is None
    await store.set_value("llm:tldr:arxiv:1", "")
    assert await store.get_value("llm:tldr:arxiv:1") == ""
    await store.set_value("llm:tldr:arxiv:1", "A summary.")
    assert await store.get_value("llm:tldr:arxiv:1") == "A summary."
    counts = await asyncio.gather(*(store.incr("llm:budget:2026-11-24") for _ in range(10)))
    assert sorted(counts) == list(range(1, 11))
    assert await store.incr("llm:budget:2026-11-24", 5) == 15
    assert await store.incr("other", 0) == 0
    assert await store.get_value("llm:budget:2026-11-24") == "15"


async def test_feedback_last_vote_wins(store: Store) -> None:
    t = Tenant("slack", "T1")
    assert await store.feedback(t, "arxiv:1") == (0, 0)
    await store.record_feedback(t, "arxiv:1", "U1", 1)
    await store.record_feedback(t, "arxiv:1", "U2", 1)
    await store.record_feedback(t, "arxiv:1", "C1", 1)  # a channel votes too
    await store.record_feedback(t, "arxiv:1", "U1", -1)
    assert await store.feedback(t, "arxiv:1") == (2, 1)
    await store.record_feedback(t, "arxiv:1", "U1", 1)
    await store.record_feedback(t, "arxiv:1", "U2", 0)
    await store.record_feedback(t, "arxiv:1", "U3", 0)  # withdrawing nothing is fine
    assert await store.feedback(t, "arxiv:1") == (2, 0)
    assert await store.feedback(t, "arxiv:2") == (0, 0)  # per paper


async def test_every_vote_can_be_listed(store: Store) -> None:
    t1, t2 = Tenant("slack", "T1"), Tenant("discord", "9")
    assert [v async for v in store.votes()] == []
    await store.record_feedback(t1, "arxiv:2411.00001", "U2", 1)
    await store.record_feedback(t1, "arxiv:2411.00001", "U1", -1)
    await store.record_feedback(t1, "doi:10.1/x:y", "U1", 1)
    await store.record_feedback(t2, "arxiv:2411.00001", "42", 1)
    await store.record_feedback(t2, "arxiv:2411.00001", "43", 1)
    await store.record_feedback(t2, "arxiv:2411.00001", "43", 0)  # withdrawn
    assert sorted([v async for v in store.votes()], key=str) == sorted(
        [
            (t1, "arxiv:2411.00001", "U1", -1),
            (t1, "arxiv:2411.00001", "U2", 1),
            (t1, "doi:10.1/x:y", "U1", 1),
            (t2, "arxiv:2411.00001", "42", 1),
        ],
        key=str,
    )


async def test_the_whole_ledger_can_be_listed(store: Store) -> None:
    assert [x async for x in store.ledger()] == []
    await store.claim(A, ["arxiv:2", "arxiv:1"])
    await store.claim(B, ["arxiv:1"])
    await store.claim_and_enqueue([OutboxEntry(FOLLOW, "arxiv:3", ("s1",), T0)])
    assert sorted([(str(d), ids) async for d, ids in store.ledger()]) == [
        ("slack:T1:@U2", ["arxiv:3"]),
        ("slack:T1:C1", ["arxiv:1", "arxiv:2"]),
        ("slack:T2:C1", ["arxiv:1"]),
    ]


@pytest.mark.parametrize("value", [2, -2, 10])
async def test_feedback_rejects_other_values(store: Store, value: int) -> None:
    t = Tenant("slack", "T1")
    await store.record_feedback(t, "arxiv:1", "U1", 1)
    with pytest.raises(ValueError):
        await store.record_feedback(t, "arxiv:1", "U1", value)
    assert await store.feedback(t, "arxiv:1") == (1, 0)


async def test_naive_times_are_refused(store: Store) -> None:
    naive = datetime(2026, 1, 1, 9, 0)
    with pytest.raises(ValueError):
        await store.lease(naive, 60)
    with pytest.raises(ValueError):
        await store.reschedule(A, naive)
    with pytest.raises(ValueError):
        await store.set_paused(Tenant("slack", "T1"), "s1", True, "away", resume_at=naive)
