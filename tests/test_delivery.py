"""The delivery engine on both stores, with a recording adapter that can fail on cue."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from adapters.base import DeliveryError, PermanentDeliveryError, RateLimited
from bot.delivery import Delivery
from bot.messages import MessageRef, Reply
from bot.models import Destination, OutboxEntry, Paper, Schedule
from bot.store import Store

LAB = Destination("console", "default", "lab")
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class RecordingAdapter:
    """Keeps every confirmed post; `fail` decides per call whether to raise instead."""

    platform: str = "console"
    posts: list[tuple[Destination, Reply, MessageRef | None]] = field(default_factory=list)
    fail: Callable[[int], Exception | None] = lambda n: None
    calls: int = 0

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Nothing to stop."""

    async def send(
        self, destination: Destination, reply: Reply, thread: MessageRef | None = None
    ) -> MessageRef:
        self.calls += 1
        problem = self.fail(self.calls)
        if problem is not None:
            raise problem
        self.posts.append((destination, reply, thread))
        return MessageRef(destination, str(len(self.posts)))

    def paper_ids(self) -> list[str]:
        return [c.paper_id for _, r, _ in self.posts for c in r.cards]


async def _setup(store: Store, n: int, schedule: Schedule = Schedule()) -> list[str]:
    papers = [
        Paper(id=f"arxiv:2411.{i:05d}", title=f"Paper {i}", abstract="We propose x.")
        for i in range(n)
    ]
    await store.put_papers(papers)
    sub = await store.add_subscription(LAB, "x", schedule)
    await store.enqueue(
        [OutboxEntry(LAB, p.id, (sub.id,), due_at=T0, terms=("x",)) for p in papers]
    )
    return [p.id for p in papers]


def _delivery(store: Store, adapter: RecordingAdapter, clock: Clock) -> Delivery:
    return Delivery(
        store, {"console": adapter}, max_per_post=5, lease_seconds=60, pacing=0, clock=clock
    )


async def test_the_first_message_names_every_subscription_of_the_delivery(store: Store) -> None:
    ids = await _setup(store, 6)
    other = await store.add_subscription(LAB, "y")
    await store.put_papers([Paper(id="arxiv:2411.09999", title="Last", abstract="y.")])
    await store.enqueue([OutboxEntry(LAB, "arxiv:2411.09999", (other.id,), due_at=T0)])
    adapter = RecordingAdapter()
    assert (await _delivery(store, adapter, Clock()).run_once()).posted == len(ids) + 1
    first = adapter.posts[0][1]
    assert other.id not in {s for c in first.cards for s in c.subscription_ids}
    assert first.text.startswith("7 new papers for ") and other.id in first.text


async def test_batches_with_overflow_in_thread(store: Store) -> None:
    ids = await _setup(store, 7)
    adapter, clock = RecordingAdapter(), Clock()
    report = await _delivery(store, adapter, clock).run_once()
    assert report.posted == 7 and report.messages == 2
    assert sorted(adapter.paper_ids()) == sorted(ids)
    first, second = adapter.posts
    assert len(first[1].cards) == 5 and first[2] is None
    assert first[1].text.startswith("7 new papers") and first[1].footer == "+2 more in the thread"
    assert second[2] is not None and second[2].message_id == "1"
    assert await store.pending() == []
    [sub] = await store.list_subscriptions(LAB.tenant, LAB)
    assert sub.last_post_at == clock.now
    # A second cycle posts nothing again.
    assert (await _delivery(store, adapter, clock).run_once()).posted == 0
    assert len(adapter.paper_ids()) == 7


async def test_rate_limit_delays_without_loss_or_duplicates(store: Store) -> None:
    ids = await _setup(store, 3)
    adapter = RecordingAdapter(fail=lambda n: RateLimited(30) if n == 1 else None)
    clock = Clock()
    delivery = _delivery(store, adapter, clock)
    report = await delivery.run_once()
    assert report.posted == 0 and report.retried == 3
    clock.advance(10)
    assert (await delivery.run_once()).posted == 0  # still waiting for Retry-After
    clock.advance(25)
    assert (await delivery.run_once()).posted == 3
    assert sorted(adapter.paper_ids()) == sorted(ids)


async def test_permanent_error_pauses_with_reason(store: Store) -> None:
    await _setup(store, 2)
    adapter = RecordingAdapter(fail=lambda n: PermanentDeliveryError("channel not found"))
    report = await _delivery(store, adapter, Clock()).run_once()
    assert report.paused == ["console:default:lab: channel not found"]
    subs = await store.list_subscriptions(LAB.tenant, LAB)
    assert [(s.paused, s.paused_reason) for s in subs] == [(True, "channel not found")]
    assert await store.pending(LAB) == []


async def test_permanent_error_tells_the_people_who_subscribed_by_dm(store: Store) -> None:
    await store.put_papers([Paper(id="arxiv:2411.00001", title="X", abstract="x y.")])
    mine = [await store.add_subscription(LAB, q, Schedule(), "U1") for q in ("x", "y")]
    other = await store.add_subscription(LAB, '"x y"', Schedule(), "U2")
    await store.add_subscription(LAB, "x OR z", Schedule(), "cli")  # nobody to tell
    stopped = await store.add_subscription(LAB, "x -z", Schedule(), "U3")
    await store.set_paused(LAB.tenant, stopped.id, True, "paused by U3")  # not news to U3
    ids = tuple(s.id for s in (*mine, other))
    await store.enqueue([OutboxEntry(LAB, "arxiv:2411.00001", ids, due_at=T0, terms=("x",))])
    gone = PermanentDeliveryError("the channel no longer exists")
    adapter = RecordingAdapter(fail=lambda n: gone if n == 1 else None)
    report = await _delivery(store, adapter, Clock()).run_once()
    assert report.paused == ["console:default:lab: the channel no longer exists"]
    dms = {str(d): r for d, r, _ in adapter.posts}
    assert sorted(dms) == ["console:default:@U1", "console:default:@U2"]
    to_u1 = dms["console:default:@U1"]
    assert to_u1.text == (
        "I could not post to the channel of 2 subscriptions you made, "
        "so I paused them: the channel no longer exists."
    )
    assert to_u1.lines == (f"`{mine[0].id}` x", f"`{mine[1].id}` y")
    assert to_u1.footer == (
        "Once that is fixed, `/papers resume all` in that channel turns them back on."
    )
    assert dms["console:default:@U2"].footer == (
        f"Once that is fixed, `/papers resume {other.id}` in that channel turns it back on."
    )
    assert not any(r.cards for r in dms.values())
    assert all(r.about == LAB for r in dms.values())  # which channel: shown as a link


async def test_a_dm_that_fails_too_changes_nothing(store: Store) -> None:
    await _setup(store, 1)
    sub = await store.add_subscription(LAB, "y", Schedule(), "U1")
    adapter = RecordingAdapter(fail=lambda n: PermanentDeliveryError("channel not found"))
    report = await _delivery(store, adapter, Clock()).run_once()
    assert adapter.calls == 2 and adapter.posts == []  # the post, then the DM to U1
    assert report.paused == ["console:default:lab: channel not found"]
    assert (await store.get_subscription(LAB.tenant, sub.id)).paused  # type: ignore[union-attr]


async def test_failing_follows_are_paused_without_a_dm(store: Store) -> None:
    me = Destination("console", "default", "@U1")
    await store.put_papers([Paper(id="arxiv:2411.00001", title="X", abstract="x.")])
    sub = await store.add_subscription(me, "x", Schedule(), "U1")
    await store.enqueue([OutboxEntry(me, "arxiv:2411.00001", (sub.id,), due_at=T0, terms=())])
    adapter = RecordingAdapter(fail=lambda n: PermanentDeliveryError("the user blocks DMs"))
    report = await _delivery(store, adapter, Clock()).run_once()
    assert adapter.calls == 1 and report.paused == [f"{me}: the user blocks DMs"]


async def test_transient_error_backs_off(store: Store) -> None:
    await _setup(store, 1)
    adapter, clock = (
        RecordingAdapter(fail=lambda n: DeliveryError("502") if n == 1 else None),
        Clock(),
    )
    delivery = _delivery(store, adapter, clock)
    assert (await delivery.run_once()).retried == 1
    [entry] = await store.pending(LAB)
    assert entry.attempts == 1 and entry.last_error and "502" in entry.last_error
    assert entry.due_at > clock.now
    clock.now = entry.due_at
    assert (await delivery.run_once()).posted == 1


async def test_crash_between_lease_and_ack_loses_nothing(store: Store) -> None:
    ids = await _setup(store, 3)
    clock = Clock()
    # A worker leases everything, then dies before posting.
    assert len(await store.lease(clock.now, 60, limit=100)) == 3
    adapter = RecordingAdapter()
    delivery = _delivery(store, adapter, clock)
    assert (await delivery.run_once()).posted == 0
    clock.advance(61)
    assert (await delivery.run_once()).posted == 3
    assert sorted(adapter.paper_ids()) == sorted(ids)


async def test_entries_of_removed_or_paused_subscriptions_are_dropped(store: Store) -> None:
    await _setup(store, 2)
    [sub] = await store.list_subscriptions(LAB.tenant, LAB)
    await store.set_paused(LAB.tenant, sub.id, True, "by request")
    adapter = RecordingAdapter()
    report = await _delivery(store, adapter, Clock()).run_once()
    assert report.dropped == 2 and adapter.posts == []
    assert await store.pending() == []


async def test_missing_adapter_keeps_entries(store: Store) -> None:
    await _setup(store, 1)
    delivery = Delivery(store, {}, pacing=0, clock=Clock())
    report = await delivery.run_once()
    assert report.retried == 1
    [entry] = await store.pending()
    assert entry.last_error == "no console adapter is configured"


async def test_digest_header(store: Store) -> None:
    await _setup(store, 2, Schedule.parse("daily@09:00"))
    adapter = RecordingAdapter()
    await _delivery(store, adapter, Clock()).run_once()
    assert adapter.posts[0][1].text.startswith("Digest: 2 papers")


async def test_a_digest_shows_the_most_upvoted_and_newest_first(store: Store) -> None:
    ranked = [(1, 5, 0), (2, None, 1), (3, 40, 3), (4, 5, 2), (5, None, None)]
    papers = [
        Paper(
            id=f"arxiv:2411.{n:05d}",
            title=f"Paper {n}",
            upvotes=up,
            published=None if age is None else T0 - timedelta(days=age),
        )
        for n, up, age in ranked
    ]
    await store.put_papers(papers)
    daily = await store.add_subscription(LAB, "x", Schedule.parse("daily@09:00"))
    await store.enqueue([OutboxEntry(LAB, p.id, (daily.id,), T0) for p in papers])
    adapter = RecordingAdapter()
    await _delivery(store, adapter, Clock()).run_once()
    assert [c.title for _, r, _ in adapter.posts for c in r.cards] == [
        "Paper 3",
        "Paper 1",
        "Paper 4",
        "Paper 2",
        "Paper 5",
    ]


@pytest.mark.parametrize("attempts", [1, 3, 20])
def test_backoff_grows_and_is_capped(attempts: int) -> None:
    from bot.delivery import MAX_BACKOFF, backoff

    value = backoff(attempts)
    assert 0.8 * min(30 * 2 ** (attempts - 1), MAX_BACKOFF) <= value
    assert value <= 1.2 * MAX_BACKOFF


async def test_killed_mid_cycle_then_restarted(store: Store) -> None:
    """Kill the delivery task while a post is in flight; a new worker finishes the job."""
    import asyncio

    ids = await _setup(store, 12)
    clock = Clock()
    started = asyncio.Event()

    class Hanging(RecordingAdapter):
        async def send(self, destination, reply, thread=None):  # type: ignore[no-untyped-def]
            if self.calls == 1:  # the second message never gets confirmed
                self.calls += 1
                started.set()
                await asyncio.Event().wait()
            return await super().send(destination, reply, thread)

    first = Hanging()
    task = asyncio.create_task(_delivery(store, first, clock).run_once())
    await started.wait()
    task.cancel()  # the process dies between lease and ack
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(first.paper_ids()) == 5  # one message was confirmed (and acked)
    second = RecordingAdapter()
    restarted = _delivery(store, second, clock)
    assert (await restarted.run_once()).posted == 0  # the rest is still leased
    clock.advance(61)  # the lease expires
    assert (await restarted.run_once()).posted == 7
    assert sorted(first.paper_ids() + second.paper_ids()) == sorted(ids)  # once each
