"""The Store contract: every test runs on every backend (the `store` fixture).

Papers, subscriptions and follows, tenant isolation. The delivery ledger, outbox,
cursors, values and feedback are in test_contract_delivery.py, on the same fixture.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.models import Destination, Paper, PutResult, Schedule, Subscription
from bot.store import DuplicateSubscription, Store
from bot.store.base import ID_ALPHABET

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
A = Destination.parse("slack:T1:C1")
A2 = Destination.parse("slack:T1:C2")
B = Destination.parse("slack:T2:C1")  # same channel id, other workspace
D = Destination.parse("discord:T1:C1")  # same ids, other platform
FOLLOW = Destination.parse("slack:T1:@U2")


def pid(n: int) -> str:
    return f"arxiv:2411.{n:05d}"


def paper(n: int, **kw: object) -> Paper:
    return Paper(id=pid(n), title=f"Paper {n}", **kw)  # type: ignore[arg-type]


# -- papers ---------------------------------------------------------------------------


async def test_put_new_updated_unchanged(store: Store) -> None:
    assert await store.count_papers() == 0
    assert await store.put_papers([]) == PutResult()
    first = await store.put_papers([paper(1, upvotes=3), paper(2)])
    assert first == PutResult(new=(pid(1), pid(2)))
    # an HF upvote change is an update; the same record again is not
    again = await store.put_papers([paper(1, upvotes=3), paper(2, upvotes=5)])
    assert again == PutResult(updated=(pid(2),), unchanged=(pid(1),))
    stored = await store.get_paper(pid(2))
    assert stored is not None and stored.upvotes == 5
    assert await store.count_papers() == 2


async def test_sighting_without_hf_fields_keeps_them(store: Store) -> None:
    hf = paper(1, sources=("huggingface",), upvotes=7, github_repo="https://github.com/a/b")
    await store.put_papers([hf])
    result = await store.put_papers([paper(1, sources=("huggingface",))])
    assert result == PutResult(unchanged=(pid(1),))
    stored = await store.get_paper(pid(1))
    assert stored is not None and stored.upvotes == 7 and stored.github_repo == hf.github_repo


async def test_merge_keeps_seq_and_unites_sources(store: Store) -> None:
    await store.put_papers([paper(1, sources=("huggingface",), upvotes=7, abstract="a")])
    before = await store.get_paper(pid(1))
    result = await store.put_papers(
        [paper(1, sources=("arxiv",), categories=("cs.LG",), version=2, abstract="")]
    )
    after = await store.get_paper(pid(1))
    assert result.updated == (pid(1),)
    assert before is not None and after is not None and before.seq is not None
    assert after.seq == before.seq
    assert after.sources == ("huggingface", "arxiv") and after.categories == ("cs.LG",)
    assert after.upvotes == 7 and after.version == 2 and after.abstract == "a"


async def test_merge_keeps_the_earliest_published_date(store: Store) -> None:
    first, later, earlier = (datetime(2026, 11, d, tzinfo=UTC) for d in (20, 27, 18))
    await store.put_papers([paper(1, published=first)])
    await store.put_papers([paper(1, published=later, version=2)])  # a replacement
    stored = await store.get_paper(pid(1))
    assert stored is not None and stored.published == first and stored.version == 2
    await store.put_papers([paper(1, published=earlier)])  # a source that knows v1's date
    await store.put_papers([paper(1)])  # one that knows no date
    stored = await store.get_paper(pid(1))
    assert stored is not None and stored.published == earlier


async def test_seq_grows_in_ingest_order(store: Store) -> None:
    await store.put_papers([paper(3), paper(1), paper(2)])
    await store.put_papers([paper(0)])
    found = await store.get_papers([pid(n) for n in range(4)])
    seqs = [found[pid(n)].seq or 0 for n in (3, 1, 2, 0)]
    assert all(s > 0 for s in seqs) and seqs == sorted(seqs) and len(set(seqs)) == 4


async def test_same_id_twice_in_a_batch(store: Store) -> None:
    result = await store.put_papers([paper(1, upvotes=1), paper(1, sources=("arxiv",))])
    assert result == PutResult(new=(pid(1),))
    stored = await store.get_paper(pid(1))
    assert stored is not None and stored.upvotes == 1 and stored.sources == ("arxiv",)
    again = await store.put_papers([paper(1, upvotes=2), paper(1, upvotes=3)])
    assert again == PutResult(updated=(pid(1),))
    stored = await store.get_paper(pid(1))
    assert stored is not None and stored.upvotes == 3
    assert await store.count_papers() == 1


async def test_falsy_values_survive(store: Store) -> None:
    published = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    original = paper(1, upvotes=0, version=0, published=published, authors=("A", "B"))
    await store.put_papers([original])
    stored = await store.get_paper(original.id)
    assert stored == original and stored is not None
    assert stored.upvotes == 0 and stored.version == 0 and stored.published == published
    assert stored.authors == ("A", "B") and stored.abstract == ""


async def test_get_papers_and_unknown_ids(store: Store) -> None:
    await store.put_papers([paper(1), paper(2)])
    found = await store.get_papers([pid(2), "arxiv:nope", pid(1)])
    assert set(found) == {pid(1), pid(2)} and found[pid(1)].title == "Paper 1"
    assert await store.get_papers([]) == {}
    assert await store.get_paper("arxiv:nope") is None


async def test_papers_after_pages_in_ingest_order(store: Store) -> None:
    order = [3, 0, 4, 1, 2]  # ingest order, not id order
    await store.put_papers([paper(n) for n in order])
    await store.put_papers([paper(3, upvotes=9), paper(5)])  # a merge does not move paper 3
    seen, last = [], 0
    while page := await store.papers_after(last, limit=2):
        assert len(page) <= 2
        seen += [p.id for p in page]
        last = page[-1].seq or 0
    assert seen == [pid(n) for n in [*order, 5]]
    assert await store.papers_after(last) == []


# -- subscriptions and follows --------------------------------------------------------


async def test_subscription_lifecycle(store: Store) -> None:
    schedule = Schedule.parse("daily@07:30", "Europe/Berlin")
    sub = await store.add_subscription(A, '"domain generalization" -survey', schedule, "U1")
    got = await store.get_subscription(A.tenant, sub.id)
    assert got == sub and got is not None and got.schedule == schedule
    assert got.created_by == "U1" and not got.paused and got.last_post_at is None
    paused = await store.set_paused(A.tenant, sub.id, True, "channel_not_found")
    assert paused is not None and paused.paused and paused.paused_reason == "channel_not_found"
    got = await store.get_subscription(A.tenant, sub.id)
    assert got == paused
    resumed = await store.set_paused(A.tenant, sub.id, False, "resumed by U1")
    assert resumed is not None and not resumed.paused and resumed.paused_reason is None
    assert await store.get_subscription(A.tenant, sub.id) == resumed
    assert await store.remove_subscription(A.tenant, sub.id)
    assert await store.get_subscription(A.tenant, sub.id) is None
    assert not await store.remove_subscription(A.tenant, sub.id)
    assert await store.set_paused(A.tenant, sub.id, True, "gone") is None
    assert await store.list_subscriptions(A.tenant) == []


async def test_restore_keeps_every_field_and_refuses_what_is_taken(store: Store) -> None:
    made = await store.add_subscription(A, "robots", Schedule.parse("weekly@fri@17:00"), "U1")
    version = await store.subscriptions_version()
    moved = Subscription(
        id="m0ved",
        destination=A2,
        query='"domain generalization" -survey',
        schedule=Schedule.parse("daily@07:30", "Europe/Berlin"),
        created_at=T0,
        created_by="U9",
        paused=True,
        paused_reason="channel_not_found",
        last_post_at=T0 + timedelta(days=1),
    )
    await store.restore_subscription(moved)
    assert await store.get_subscription(A2.tenant, "m0ved") == moved
    assert await store.subscriptions_version() > version
    assert [s.id for s in await store.list_subscriptions(A.tenant)] == ["m0ved", made.id]
    assert "m0ved" in {s.id async for s in store.iter_subscriptions()}
    with pytest.raises(DuplicateSubscription) as taken_id:
        await store.restore_subscription(replace(moved, destination=B, query="other"))
    assert taken_id.value.existing == moved
    with pytest.raises(DuplicateSubscription) as taken_query:
        await store.restore_subscription(replace(made, id="n3wid"))
    assert taken_query.value.existing == made
    assert await store.get_subscription(A.tenant, "n3wid") is None
    assert await store.get_subscription(B.tenant, "m0ved") is None  # still A's alone
    # a refused restore leaves the id free for later
    await store.restore_subscription(replace(made, id="n3wid", query="robots OR drones"))
    assert (await store.get_subscription(A.tenant, "n3wid")) is not None


async def test_set_schedule_changes_only_the_schedule(store: Store) -> None:
    sub = await store.add_subscription(A, "diffusion", Schedule(), "U1")
    await store.set_paused(A.tenant, sub.id, True, "by U1")
    await store.mark_posted(A.tenant, [sub.id], T0)
    before = await store.get_subscription(A.tenant, sub.id)
    assert before is not None
    weekly = Schedule.parse("weekly@fri@17:30", "America/New_York")
    changed = await store.set_schedule(A.tenant, sub.id, weekly)
    assert changed == replace(before, schedule=weekly)
    assert await store.get_subscription(A.tenant, sub.id) == changed
    instant = await store.set_schedule(A.tenant, sub.id, Schedule())
    assert instant is not None and instant.schedule == Schedule()
    assert await store.set_schedule(A.tenant, "nope0", weekly) is None


async def test_a_pause_for_a_while_keeps_its_end(store: Store) -> None:
    sub = await store.add_subscription(A, "diffusion")
    back = datetime(2026, 12, 16, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    paused = await store.set_paused(A.tenant, sub.id, True, "paused by ada", back)
    assert paused is not None and paused.resume_at == back
    assert paused.resume_at.utcoffset() == timedelta(0)  # kept in UTC
    assert await store.get_subscription(A.tenant, sub.id) == paused
    resumed = await store.set_paused(A.tenant, sub.id, False)
    assert resumed is not None and resumed.resume_at is None and resumed.paused_reason is None
    for_good = await store.set_paused(A.tenant, sub.id, True, "by hand")
    assert for_good is not None and for_good.resume_at is None
    with pytest.raises(ValueError):
        await store.set_paused(A.tenant, sub.id, True, "x", datetime(2026, 12, 16))


async def test_follow_is_a_subscription_of_a_user(store: Store) -> None:
    follow = await store.add_subscription(FOLLOW, 'author:"Chelsea Finn"', created_by="")
    got = await store.get_subscription(FOLLOW.tenant, follow.id)
    assert got == follow and got is not None and got.is_follow and got.created_by == ""
    assert got.destination == FOLLOW
    with pytest.raises(DuplicateSubscription):
        await store.add_subscription(FOLLOW, 'author:"Chelsea Finn"')
    assert await store.pause_destination(FOLLOW, "user left") == 1
    paused = await store.get_subscription(FOLLOW.tenant, follow.id)
    assert paused is not None and paused.paused and paused.paused_reason == "user left"
    assert await store.remove_subscription(FOLLOW.tenant, follow.id)
    assert await store.list_subscriptions(FOLLOW.tenant, FOLLOW) == []


async def test_lists_are_scoped_and_ordered(store: Store) -> None:
    s1 = await store.add_subscription(A, "one")
    s2 = await store.add_subscription(A2, "two")
    f = await store.add_subscription(FOLLOW, 'author:"Chelsea Finn"')
    s3 = await store.add_subscription(A, "three")
    other = await store.add_subscription(B, "other workspace")
    ids = [s.id for s in await store.list_subscriptions(A.tenant)]
    assert ids == [s1.id, s2.id, f.id, s3.id]
    assert [s.id for s in await store.list_subscriptions(A.tenant, A)] == [s1.id, s3.id]
    follows = await store.list_subscriptions(A.tenant, FOLLOW)
    assert [s.id for s in follows] == [f.id] and follows[0].is_follow
    assert await store.list_subscriptions(A.tenant, B) == []
    assert await store.list_subscriptions(A.tenant, Destination.parse("slack:T1:C9")) == []
    every = {s.id: s async for s in store.iter_subscriptions()}
    assert set(every) == {s1.id, s2.id, f.id, s3.id, other.id} and every[other.id] == other


async def test_duplicate_query_in_one_destination(store: Store) -> None:
    first = await store.add_subscription(A, "gan")
    with pytest.raises(DuplicateSubscription) as info:
        await store.add_subscription(A, "gan", Schedule.parse("daily"))
    assert info.value.existing == first
    assert len(await store.list_subscriptions(A.tenant)) == 1
    for elsewhere in (A2, B, D, FOLLOW):
        assert (await store.add_subscription(elsewhere, "gan")).id != first.id
    assert (await store.add_subscription(A, "GAN")).query == "GAN"  # not the same query
    assert await store.remove_subscription(A.tenant, first.id)
    assert (await store.add_subscription(A, "gan")).id != first.id


async def test_concurrent_duplicates_make_one_subscription(store: Store) -> None:
    results = await asyncio.gather(
        *(store.add_subscription(A, "race") for _ in range(10)), return_exceptions=True
    )
    made = [r for r in results if not isinstance(r, BaseException)]
    assert len(made) == 1
    assert all(isinstance(r, DuplicateSubscription) for r in results if r not in made)
    assert len(await store.list_subscriptions(A.tenant, A)) == 1


async def test_ids_are_unique_and_short(store: Store) -> None:
    subs = [await store.add_subscription(A, f"q{i}") for i in range(200)]
    assert len({s.id for s in subs}) == 200
    assert all(4 <= len(s.id) <= 8 and set(s.id) <= set(ID_ALPHABET) for s in subs)


async def test_pause_destination(store: Store) -> None:
    await store.add_subscription(A, "one")
    already = await store.add_subscription(A, "two")
    await store.set_paused(A.tenant, already.id, True, "muted by hand")
    await store.add_subscription(A, "three")
    other = await store.add_subscription(A2, "four")
    assert await store.pause_destination(A, "bot removed from channel") == 2
    assert await store.pause_destination(A, "again") == 0
    reasons = sorted(str(s.paused_reason) for s in await store.list_subscriptions(A.tenant, A))
    assert reasons == ["bot removed from channel"] * 2 + ["muted by hand"]
    kept = await store.get_subscription(A.tenant, other.id)
    assert kept is not None and not kept.paused


async def test_subscriptions_version_moves_with_every_change(store: Store) -> None:
    seen = [await store.subscriptions_version()]

    async def moved() -> bool:
        seen.append(await store.subscriptions_version())
        return seen[-1] > seen[-2]

    sub = await store.add_subscription(A, "diffusion")
    assert await moved()
    with pytest.raises(DuplicateSubscription):
        await store.add_subscription(A, "diffusion")
    assert not await moved()
    await store.mark_posted(A.tenant, [sub.id], T0)
    assert not await moved()  # posting is not a change the router cares about
    await store.set_paused(A.tenant, sub.id, True, "by hand")
    assert await moved()
    await store.set_paused(A.tenant, sub.id, False)
    assert await moved()
    assert await store.pause_destination(A, "channel_not_found") == 1
    assert await moved()
    assert await store.pause_destination(A, "channel_not_found") == 0
    assert not await moved()
    assert await store.set_paused(B.tenant, sub.id, False) is None  # other workspace
    assert not await moved()
    await store.set_schedule(A.tenant, sub.id, Schedule.parse("weekly@fri@17:00"))
    assert await moved()
    assert await store.set_schedule(B.tenant, sub.id, Schedule()) is None
    assert not await moved()
    assert not await store.remove_subscription(B.tenant, sub.id)
    assert not await moved()
    assert await store.remove_subscription(A.tenant, sub.id)
    assert await moved()


async def test_mark_posted(store: Store) -> None:
    mine = await store.add_subscription(A, "mine")
    berlin = timezone(timedelta(hours=1))
    await store.mark_posted(A.tenant, [mine.id, "nope"], T0.astimezone(berlin))
    got = await store.get_subscription(A.tenant, mine.id)
    assert got is not None and got.last_post_at == T0
    assert got.last_post_at.utcoffset() == timedelta(0)  # kept in UTC


# -- tenant isolation -----------------------------------------------------------------


@pytest.mark.parametrize("other", [B, D], ids=["other-workspace", "other-platform"])
async def test_tenant_isolation(store: Store, other: Destination) -> None:
    mine = await store.add_subscription(A, "same query")
    theirs = await store.add_subscription(other, "same query")
    assert mine.id != theirs.id
    assert await store.get_subscription(A.tenant, theirs.id) is None
    assert await store.get_subscription(other.tenant, mine.id) is None
    assert not await store.remove_subscription(A.tenant, theirs.id)
    assert await store.set_paused(A.tenant, theirs.id, True, "x") is None
    assert await store.set_schedule(A.tenant, theirs.id, Schedule.parse("daily@06:00")) is None
    await store.mark_posted(A.tenant, [theirs.id], T0)
    assert [s.id for s in await store.list_subscriptions(A.tenant)] == [mine.id]
    assert await store.list_subscriptions(A.tenant, other) == []
    assert [s.id for s in await store.list_subscriptions(other.tenant)] == [theirs.id]
    assert await store.get_subscription(other.tenant, theirs.id) == theirs  # untouched
    # pausing one channel never pauses the same channel id in another tenant
    assert await store.pause_destination(other, "gone") == 1
    still = await store.get_subscription(A.tenant, mine.id)
    assert still is not None and not still.paused
    await store.record_feedback(A.tenant, "arxiv:1", "U1", 1)
    await store.record_feedback(other.tenant, "arxiv:1", "U1", -1)
    assert await store.feedback(A.tenant, "arxiv:1") == (1, 0)
    assert await store.feedback(other.tenant, "arxiv:1") == (0, 1)
    assert await store.remove_subscription(other.tenant, theirs.id)
    assert await store.get_subscription(A.tenant, mine.id) is not None
