"""Every /papers command and its error paths, on both stores, with the real index."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.commands import Core, RateLimit
from bot.commands.subs import MAX_PER_DESTINATION
from bot.messages import Actor, Command, Reply
from bot.models import Destination, OutboxEntry, Paper
from bot.poll_status import PollStatus, record_poll
from bot.search import PaperIndex
from bot.store import Store, StoreUnavailable

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LAB = Destination.parse("slack:T1:C1")
OTHER_CHANNEL = Destination.parse("slack:T1:C2")
OTHER_WORKSPACE = Destination.parse("slack:T2:C1")

PAPERS = [
    Paper(
        id="arxiv:2411.00001",
        title="Domain Generalization with MixStyle",
        abstract="We propose MixStyle for domain generalization. It mixes styles.",
        authors=("Kaiyang Zhou", "Yongxin Yang", "Yu Qiao", "Tao Xiang"),
        categories=("cs.CV",),
        sources=("arxiv", "huggingface"),
        published=NOW - timedelta(days=1),
        upvotes=40,
        seq=1,
    ),
    Paper(
        id="arxiv:2411.00002",
        title="A Survey of Domain Generalization",
        abstract="We survey domain generalization methods.",
        authors=("Ada Lovelace",),
        published=NOW - timedelta(days=2),
        upvotes=3,
        seq=2,
    ),
    Paper(
        id="arxiv:2411.00003",
        title="Diffusion Policies for Robots",
        abstract="We introduce diffusion policies. Robots learn.",
        authors=("Chelsea Finn",),
        published=NOW - timedelta(days=20),
        upvotes=90,
        seq=3,
    ),
]


@pytest.fixture
async def core(store: Store, tmp_path: Path) -> AsyncIterator[Core]:
    await store.put_papers(PAPERS)
    index = await PaperIndex.open(tmp_path / "index")
    await index.catch_up(store)
    yield Core(store, index, clock=lambda: NOW, rate_limit=RateLimit(per_minute=10_000, burst=1000))
    await index.close()


async def say(
    core: Core, text: str, where: Destination = LAB, user: str = "U1", admin: bool = True
) -> Reply:
    return await core.handle(Command(text, where, Actor(user, is_admin=admin, name=user)))


async def test_help(core: Core) -> None:
    reply = await say(core, "help")
    assert "/papers search" in reply.text and "/papers subscribe" in reply.text
    assert "prefix" in (await say(core, "help query")).text
    assert (await say(core, "help nonsense")).is_error
    assert (await say(core, "")).text == reply.text


async def test_unknown_command(core: Core) -> None:
    reply = await say(core, "subscirbe x")
    assert reply.is_error and "unknown command" in reply.text
    assert "Did you mean /papers subscribe?" in reply.text
    assert "Did you mean" not in (await say(core, "xyzzy")).text


async def test_aliases(core: Core) -> None:
    added = await say(core, "subscribe diffusion")
    sub_id = added.text.split("`")[1]
    for word in ("list", "ls"):
        assert sub_id in (await say(core, word)).lines[0]
    assert not (await say(core, f"unsub {sub_id}")).is_error
    assert not (await say(core, "subscriptions")).lines


async def test_search_ranks_and_is_ephemeral(core: Core) -> None:
    reply = await say(core, '"domain generalization" -survey')
    assert reply.is_error  # the subcommand is missing: '"domain' is not a command
    reply = await say(core, 'search "domain generalization"')
    assert [c.paper_id for c in reply.cards] == ["arxiv:2411.00001", "arxiv:2411.00002"]
    assert reply.ephemeral
    assert reply.cards[0].matched == ("domain generalization",)
    shared = await say(core, "search diffusion --share")
    assert not shared.ephemeral and [c.paper_id for c in shared.cards] == ["arxiv:2411.00003"]


async def test_search_options(core: Core) -> None:
    recent = await say(core, "search domain OR diffusion --since 7d --sort upvotes")
    assert [c.paper_id for c in recent.cards] == ["arxiv:2411.00001", "arxiv:2411.00002"]
    one = await say(core, "search domain --limit 1")
    assert len(one.cards) == 1
    assert "No papers match" in (await say(core, "search quantum")).text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('search "unbalanced', "unbalanced quote at column 1"),
        ("search di*", "needs at least 3 letters"),
        ("search titel:x", "did you mean title:?"),
        ("search x --sort best", "--sort takes"),
        ("search x --limit 500", "from 1 to 50"),
        ("search x --since yesterday", "7d, 12h"),
        ("search", "Say what to look for"),
        ("search x --frobnicate", "unknown option --frobnicate"),
    ],
)
async def test_search_errors(core: Core, text: str, message: str) -> None:
    reply = await say(core, text)
    assert reply.is_error and message in reply.text


async def test_preview(core: Core) -> None:
    reply = await say(core, "preview domain generalization")
    assert "would have posted 2 papers in the last 7 days" in reply.text
    assert len(reply.cards) == 2
    old = await say(core, "preview diffusion")
    assert "nothing" in old.text
    assert "posted nothing in the last day." in (await say(core, "preview diffusion --days 1")).text
    assert "posted 1 paper in" in (await say(core, "preview diffusion --days 30")).text


async def test_trending(core: Core) -> None:
    reply = await say(core, "trending --days 30")
    assert [c.paper_id for c in reply.cards][:2] == ["arxiv:2411.00003", "arxiv:2411.00001"]
    today = await say(core, "trending --days 1")
    assert [c.paper_id for c in today.cards] == ["arxiv:2411.00001"]
    assert today.text == "Trending today:"


async def test_subscribe_flow(core: Core, store: Store) -> None:
    reply = await say(
        core, 'subscribe "domain generalization" -survey --digest daily@09:00 --tz Europe/Berlin'
    )
    assert not reply.is_error and not reply.ephemeral
    assert "(daily@09:00 Europe/Berlin)" in reply.text
    assert reply.text.endswith("It would have brought 1 paper in the last 7 days.")
    sub_id = reply.text.split("`")[1]
    [sub] = await store.list_subscriptions(LAB.tenant, LAB)
    assert (
        sub.id == sub_id
        and str(sub.schedule) == "daily@09:00"
        and sub.schedule.tz == "Europe/Berlin"
    )
    listing = await say(core, "subscriptions")
    assert sub_id in listing.lines[0] and "daily@09:00 Europe/Berlin" in listing.lines[0]
    assert "no posts yet" in listing.lines[0]
    await store.mark_posted(LAB.tenant, [sub_id], NOW)
    assert "last post 2026-11-24 12:00 UTC" in (await say(core, "subscriptions")).lines[0]
    assert (await say(core, 'subscribe "domain generalization" -survey')).is_error  # duplicate
    quiet = await say(core, "subscribe zebrafish")
    assert "(instant)" in quiet.text and "Nothing in the last 7 days matches it" in quiet.text
    assert "Unsubscribed" in (await say(core, f"unsubscribe {quiet.text.split('`')[1]}")).text
    assert "Paused" in (await say(core, f"pause {sub_id}")).text
    assert "paused" in (await say(core, "subscriptions")).lines[0]
    assert (await say(core, f"pause {sub_id}")).is_error
    assert "Resumed" in (await say(core, f"resume {sub_id}")).text
    assert "Unsubscribed" in (await say(core, f"unsubscribe {sub_id}")).text
    assert await store.list_subscriptions(LAB.tenant) == []


async def test_subscribing_again_changes_how_it_posts(core: Core, store: Store) -> None:
    made = await say(core, "subscribe robots --digest weekly@fri@17:00 --tz Europe/Berlin")
    sub_id = made.text.split("`")[1]
    again = await say(core, "subscribe  Robots ")  # the same query, written differently
    assert again.is_error and f"Already subscribed: `{sub_id}` robots" in again.text
    assert again.text.endswith("To change how it posts, add e.g. --instant.")
    # only the time zone: the digest stays
    moved = await say(core, "subscribe robots --tz Asia/Tokyo")
    assert not moved.is_error and not moved.ephemeral
    assert moved.text == (
        f"Changed `{sub_id}` robots from weekly@fri@17:00 Europe/Berlin "
        "to weekly@fri@17:00 Asia/Tokyo."
    )
    # only the digest: the time zone stays
    daily = await say(core, "subscribe robots --digest daily@7am")
    assert daily.text.endswith("to daily@07:00 Asia/Tokyo.")
    assert (await say(core, "subscribe robots --digest daily@07:00")).is_error  # no change
    assert (await say(core, "subscribe robots --digest daily@25:00")).is_error
    assert (await say(core, "subscribe robots --tz Europe/Berlin", admin=False)).is_error
    [sub] = await store.list_subscriptions(LAB.tenant, LAB)
    assert (sub.id, str(sub.schedule), sub.schedule.tz) == (sub_id, "daily@07:00", "Asia/Tokyo")
    # posts waiting for the digest come sooner when the schedule does, never later
    await store.enqueue([OutboxEntry(LAB, "arxiv:2411.00001", (sub_id,), NOW + timedelta(hours=9))])
    await say(core, "subscribe robots --digest weekly@mon")
    [entry] = await store.pending(LAB)
    assert entry.due_at == NOW + timedelta(hours=9)
    await say(core, "pause " + sub_id)
    instant = await say(core, "subscribe robots --instant")
    assert instant.text == (
        f"Changed `{sub_id}` robots from weekly@mon@09:00 Asia/Tokyo to instant "
        f"(still paused: /papers resume {sub_id} turns it back on)."
    )
    [entry] = await store.pending(LAB)
    assert entry.due_at == NOW
    # a follow likewise, privately
    follow = await say(core, "follow robots")
    changed = await say(core, "follow robots --instant")
    assert changed.ephemeral and changed.text.startswith(f"Changed `{follow.text.split('`')[1]}`")


async def test_a_channel_has_at_most_a_hundred_subscriptions(core: Core, store: Store) -> None:
    for n in range(MAX_PER_DESTINATION):
        await store.add_subscription(LAB, f"topic{n}")
    full = await say(core, "subscribe robots")
    assert full.is_error and full.text == (
        "This channel has 100 queries already, the most allowed: remove one first "
        "(/papers unsubscribe ID), or join queries with OR."
    )
    assert not (await say(core, "subscribe topic7 --digest daily")).is_error  # a change
    assert not (await say(core, "subscribe robots", where=OTHER_CHANNEL)).is_error
    me = Destination.parse("slack:T1:@U1")
    for n in range(MAX_PER_DESTINATION):
        await store.add_subscription(me, f"topic{n}")
    assert "(/papers unfollow ID)" in (await say(core, "follow robots")).text
    assert not (await say(core, "follow robots", user="U2")).is_error
    await say(core, "unsubscribe " + (await store.list_subscriptions(LAB.tenant, LAB))[0].id)
    assert not (await say(core, "subscribe robots")).is_error
    assert len(await store.list_subscriptions(LAB.tenant, LAB)) == MAX_PER_DESTINATION


async def test_pause_and_resume_all_of_a_channel(core: Core, store: Store) -> None:
    assert (await say(core, "resume all")).text == "This channel has no subscriptions."
    ids = [(await say(core, f"subscribe {q}")).text.split("`")[1] for q in ("a1", "b2", "c3")]
    await say(core, "subscribe elsewhere", where=OTHER_CHANNEL)
    await store.pause_destination(LAB, "Slack: the bot is not a member of the channel")
    await say(core, f"resume {ids[1]}")
    assert (await say(core, "resume all", admin=False)).is_error
    resumed = await say(core, "resume ALL")
    assert not resumed.is_error and not resumed.ephemeral
    assert resumed.text == f"Resumed 2 subscriptions: `{ids[0]}`, `{ids[2]}`."
    assert (await say(core, "resume all")).text == "No subscription of this channel is paused."
    paused = await say(core, "pause all")
    assert paused.text == f"Paused 3 subscriptions: `{ids[0]}`, `{ids[1]}`, `{ids[2]}`."
    subs = await store.list_subscriptions(LAB.tenant)
    assert {s.query: s.paused for s in subs} == {
        "a1": True,
        "b2": True,
        "c3": True,
        "elsewhere": False,
    }
    assert all(s.paused_reason == "paused by U1" for s in subs if s.paused)


async def test_a_pause_for_a_while(core: Core, store: Store) -> None:
    sub_id = (await say(core, "subscribe robots")).text.split("`")[1]
    two_weeks = await say(core, f"pause {sub_id} --for 2w")
    assert two_weeks.text == f"Paused `{sub_id}` (robots) until 2026-12-08 12:00 UTC."
    [sub] = await store.list_subscriptions(LAB.tenant, LAB)
    assert sub.paused and sub.resume_at == NOW + timedelta(weeks=2)
    assert sub.paused_reason == "paused by U1 until 2026-12-08 12:00 UTC"
    assert "paused: paused by U1 until 2026-12-08" in (await say(core, "subscriptions")).lines[0]
    assert "--for goes with pause" in (await say(core, f"resume {sub_id} --for 2d")).text
    resumed = await say(core, f"resume {sub_id}")
    assert resumed.text == f"Resumed `{sub_id}` (robots)."
    assert (await store.list_subscriptions(LAB.tenant, LAB))[0].resume_at is None
    until_date = await say(core, "pause all --for 2026-12-24")
    assert until_date.text == f"Paused 1 subscription until 2026-12-24 00:00 UTC: `{sub_id}`."
    for bad in ("--for soon", "--for 2025-01-01", "--for 400d"):
        reply = await say(core, f"pause {sub_id} {bad}")
        assert reply.is_error and "--for takes" in reply.text, (bad, reply.text)


async def test_subscribe_validates(core: Core) -> None:
    assert "bad query" in (await say(core, "subscribe (a b")).text
    assert "unknown schedule" in (await say(core, "subscribe x --digest hourly")).text
    assert "time zone" in (await say(core, "subscribe x --digest daily --tz Mars/Base")).text
    assert "exclude" in (await say(core, "subscribe x --instant --digest daily")).text
    assert "Say what" in (await say(core, "subscribe")).text


async def test_subscribe_refuses_a_firehose(core: Core, store: Store) -> None:
    for command in ("subscribe -survey", "follow NOT review"):
        reply = await say(core, command)
        assert reply.is_error and "would post nearly every new paper" in reply.text
    assert await store.list_subscriptions(LAB.tenant) == []


class UnreadableIndex:
    """A paper index whose every search fails (a damaged index directory)."""

    async def search(self, *args: object, **kwargs: object) -> list[object]:
        """Fail as tantivy does on a damaged index."""
        raise ValueError("Failed to open file for read: 'meta.json'")


async def test_subscribe_stands_when_the_index_cannot_count(store: Store) -> None:
    core = Core(store, UnreadableIndex(), clock=lambda: NOW)  # type: ignore[arg-type]
    reply = await say(core, "subscribe zebrafish")
    assert not reply.is_error and reply.text.endswith("as `" + reply.text.split("`")[1] + "`.")
    assert [s.query for s in await store.list_subscriptions(LAB.tenant)] == ["zebrafish"]


async def test_permissions(core: Core) -> None:
    for text in ("subscribe x", "unsubscribe abcde", "pause abcde", "resume abcde", "digest"):
        reply = await say(core, text, admin=False)
        assert reply.is_error and "Only people who may manage" in reply.text
    assert not (await say(core, "follow x", admin=False)).is_error
    assert not (await say(core, "search x", admin=False)).is_error


async def test_tenant_and_channel_isolation(core: Core, store: Store) -> None:
    theirs = (await say(core, "subscribe robots", where=OTHER_WORKSPACE)).text.split("`")[1]
    other_channel = (await say(core, "subscribe robots", where=OTHER_CHANNEL)).text.split("`")[1]
    for text in (f"unsubscribe {theirs}", f"pause {theirs}"):
        reply = await say(core, text)
        assert reply.is_error and "No subscription" in reply.text
    reply = await say(core, f"unsubscribe {other_channel}")
    assert reply.is_error and "not one of this channel" in reply.text
    assert "no subscriptions" in (await say(core, "subscriptions")).text
    assert len(await store.list_subscriptions(OTHER_WORKSPACE.tenant)) == 1


async def test_follows_are_personal(core: Core, store: Store) -> None:
    reply = await say(core, 'follow author:"Chelsea Finn"')
    follow_id = reply.text.split("`")[1]
    assert reply.ephemeral
    [sub] = await store.list_subscriptions(LAB.tenant, Destination.parse("slack:T1:@U1"))
    assert sub.id == follow_id and str(sub.schedule) == "daily@09:00"
    assert follow_id in (await say(core, "following")).lines[0]
    assert "nothing" in (await say(core, "following", user="U2")).text
    assert (await say(core, f"unfollow {follow_id}", user="U2")).is_error
    assert (await say(core, f"unsubscribe {follow_id}")).is_error  # not a channel subscription
    assert "Unfollowed" in (await say(core, f"unfollow {follow_id}")).text


async def test_follows_default_to_the_persons_time_zone(core: Core, store: Store) -> None:
    def by(zone: str | None) -> Actor:
        return Actor("U1", name="ada", timezone=zone)

    dm = Destination.parse("slack:T1:@U1")
    berlin = await core.handle(Command("follow robots", LAB, by("Europe/Berlin")))
    assert "(daily@09:00 Europe/Berlin)" in berlin.text
    tokyo = await core.handle(Command("follow gans --tz Asia/Tokyo", LAB, by("Europe/Berlin")))
    assert "(daily@09:00 Asia/Tokyo)" in tokyo.text  # --tz wins
    mars = await core.handle(Command("follow nerfs", LAB, by("Mars/Olympus_Mons")))
    assert not mars.is_error and "(daily@09:00 UTC)" in mars.text  # unknown: the bot's zone
    authors = await core.handle(
        Command("follow-authors arxiv:2411.00001", LAB, by("America/Chicago"))
    )
    assert "(daily@09:00 America/Chicago)" in authors.text
    zones = {s.query: s.schedule.tz for s in await store.list_subscriptions(LAB.tenant, dm)}
    assert zones["robots"] == "Europe/Berlin" and zones["nerfs"] == "UTC"
    channel = await core.handle(Command("subscribe robots --digest daily", LAB, by("Asia/Tokyo")))
    assert "(daily@09:00 UTC)" in channel.text  # a channel's digest is not one person's


async def test_status_tells_whether_papers_come_in(core: Core, store: Store) -> None:
    fresh = await say(core, "status")
    assert fresh.text == "paperbot is running."
    assert fresh.lines[0] == "Sources: not polled yet (`paperbot run` polls them)"
    assert fresh.lines[1] == (
        "Papers: 3 stored, 1 published in the last day; the newest from 2026-11-23"
    )
    await record_poll(
        store, PollStatus("huggingface", NOW - timedelta(minutes=5), True, "fetched=50 new=2")
    )
    await record_poll(store, PollStatus("arxiv", NOW - timedelta(hours=7), False, "HTTP 503"))
    await say(core, "subscribe robots")
    paused = (await say(core, "subscribe gans")).text.split("`")[1]
    await say(core, f"pause {paused}")
    await say(core, "follow nerfs")
    await say(core, "subscribe robots", where=OTHER_WORKSPACE)  # not this workspace's
    await store.enqueue([OutboxEntry(LAB, "arxiv:2411.00001", ("s1",), due_at=NOW)])
    lines = (await say(core, "status")).lines
    assert lines[0] == "Hugging Face: last poll 5 min ago, fetched=50 new=2"
    assert lines[1] == (
        "arXiv: last poll 7 h ago, failed: HTTP 503 (trying again next poll)"
        " — late: is `paperbot run` still running?"
    )
    assert lines[3] == "This workspace: 2 channel subscriptions (1 paused), 1 personal follow"
    assert lines[4] == "This channel: 1 post waiting, the next due now"


async def test_digest_now(core: Core, store: Store) -> None:
    assert "Nothing is waiting" in (await say(core, "digest")).text


async def test_feedback_similar_follow_authors(core: Core, store: Store) -> None:
    reply = await say(core, "feedback arxiv:2411.00001 up")
    assert "👍 1" in reply.text
    reply = await say(core, "feedback arxiv:2411.00001 down", user="U2")
    assert "👍 1 · 👎 1" in reply.text
    assert (await say(core, "feedback arxiv:2411.00001 sideways")).is_error
    assert (await say(core, "feedback arxiv:9999.99999 up")).is_error
    similar = await say(core, "similar arxiv:2411.00001")
    assert similar.cards and "arxiv:2411.00001" not in [c.paper_id for c in similar.cards]
    follow = await say(core, "follow-authors arxiv:2411.00001")
    assert 'author:"Kaiyang Zhou" OR author:"Yongxin Yang"' in follow.text
    assert len(await store.list_subscriptions(LAB.tenant, Destination.parse("slack:T1:@U1"))) == 1


async def test_rate_limit(store: Store, tmp_path: Path) -> None:
    index = await PaperIndex.open(tmp_path / "index")
    core = Core(store, index, clock=lambda: NOW, rate_limit=RateLimit(per_minute=1, burst=2))
    replies = [await say(core, "help") for _ in range(3)]
    assert [r.is_error for r in replies] == [False, False, True]
    assert "too fast" in replies[2].text
    assert not (await say(core, "help", user="U9")).is_error  # per user
    console = Destination.parse("console:default:lab")
    for _ in range(3):  # the operator's own terminal is never throttled
        reply = await core.handle(Command("help", console, Actor("me")))
        assert not reply.is_error
    await index.close()


async def test_store_down_is_a_clear_reply(tmp_path: Path, doomed_redis: str) -> None:
    import redis

    from bot.store import open_store

    index = await PaperIndex.open(tmp_path / "index")
    for url in (f"sqlite:///{tmp_path / 'p.db'}", doomed_redis):
        store = await open_store(url)
        core = Core(store, index, clock=lambda: NOW)
        assert not (await say(core, "subscriptions")).is_error
        if url.startswith("redis"):
            try:
                redis.Redis.from_url(url).shutdown(nosave=True)
            except redis.ConnectionError:
                pass
        else:
            await store.close()
        reply = await say(core, "subscriptions")
        assert reply.is_error and "not reachable" in reply.text
        with pytest.raises(StoreUnavailable):
            await store.count_papers()
        await store.close()
    await index.close()


async def test_paper_by_id_or_url(core: Core) -> None:
    for ref in (
        "2411.00001",
        "arXiv:2411.00001v2",
        "https://arxiv.org/abs/2411.00001",
        "https://huggingface.co/papers/2411.00001",
    ):
        reply = await say(core, f"paper {ref}")
        assert [c.paper_id for c in reply.cards] == ["arxiv:2411.00001"], ref
    assert "not in the bot's index" in (await say(core, "paper 2411.99999")).text
    assert "not a paper id" in (await say(core, "paper banana")).text
    assert "Which paper" in (await say(core, "paper")).text
