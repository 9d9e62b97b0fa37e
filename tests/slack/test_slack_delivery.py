"""The Slack adapter under the real delivery engine and the real stores (SQLite, Redis)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fake_slack import FakeSlack, always, first, ratelimited
from slack_helpers import check_blocks, make_adapter

from bot.commands.status import status_lines
from bot.delivery import Delivery
from bot.models import Destination, OutboxEntry, Paper
from bot.store import Store

START = datetime(2026, 11, 24, 12, tzinfo=UTC)


class Clock:
    """The delivery engine's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


async def queue(store: Store, channels: list[str], per_channel: int) -> dict[str, str]:
    """Subscribe each channel, queue `per_channel` papers for it; {paper title: channel}."""
    where: dict[str, str] = {}
    entries = []
    for c, channel in enumerate(channels):
        destination = Destination.parse(channel)
        sub = await store.add_subscription(destination, "paper")
        papers = [
            Paper(id=f"arxiv:2411.{c:02d}{i:03d}", title=f"Paper {c}-{i}")
            for i in range(per_channel)
        ]
        await store.put_papers(papers)
        entries += [OutboxEntry(destination, p.id, (sub.id,), START) for p in papers]
        where.update({p.title: channel for p in papers})
    await store.claim_and_enqueue(entries)
    return where


def delivered(fake: FakeSlack, refused: set[int]) -> Counter[tuple[str, str]]:
    """(channel, title) of every card in a post Slack accepted."""
    shown: Counter[tuple[str, str]] = Counter()
    for n, call in enumerate(fake.of("chat.postMessage"), start=1):
        if n in refused:
            continue
        check_blocks(call.data["blocks"])
        for block in call.data["blocks"]:
            if block["type"] == "header":
                shown[(call.data["channel"], block["text"]["text"])] += 1
    return shown


@pytest.mark.parametrize("max_per_post", [1, 5])
async def test_429_storm_delays_but_loses_and_duplicates_nothing(
    fake_slack: FakeSlack, store: Store, max_per_post: int
) -> None:
    fake_slack.failures["chat.postMessage"] = ratelimited(every=3, retry_after=2)
    where = await queue(store, [f"slack:T1:C{c}" for c in range(4)], per_channel=6)
    clock = Clock()
    delivery = Delivery(
        store,
        {"slack": make_adapter(fake_slack)},
        max_per_post=max_per_post,
        pacing=0,
        clock=clock,
    )
    report = await delivery.run_once()
    assert report.retried > 0  # some posts were refused with 429 ...
    waiting = await store.pending()
    assert waiting and all(e.due_at > clock.now for e in waiting)  # ... and wait for later
    for _ in range(60):
        if not await store.pending():
            break
        clock.now += timedelta(seconds=3)
        await delivery.run_once()
    assert await store.pending() == []
    calls = len(fake_slack.of("chat.postMessage"))
    refused = set(range(3, calls + 1, 3))
    shown = delivered(fake_slack, refused)
    expected = Counter((where[t].split(":")[2], t) for t in where)
    assert shown == expected  # each paper once, in its own channel


async def test_channel_not_found_pauses_the_destination_with_the_reason(
    fake_slack: FakeSlack, store: Store
) -> None:
    fake_slack.failures["chat.postMessage"] = lambda n: (
        always(200, "channel_not_found")(n) if n == 1 else None
    )
    await queue(store, ["slack:T1:CGONE", "slack:T1:C2"], per_channel=2)
    delivery = Delivery(store, {"slack": make_adapter(fake_slack)}, pacing=0, clock=Clock())
    report = await delivery.run_once()
    assert report.paused and report.posted == 2
    gone = Destination.parse("slack:T1:CGONE")
    [sub] = await store.list_subscriptions(gone.tenant, gone)
    assert sub.paused and sub.paused_reason is not None
    assert "channel_not_found" in sub.paused_reason and "no longer exists" in sub.paused_reason
    live = Destination.parse("slack:T1:C2")
    [other] = await store.list_subscriptions(live.tenant, live)
    assert not other.paused
    assert await store.pending() == []
    assert [c.data["channel"] for c in fake_slack.of("chat.postMessage")] == ["CGONE", "C2"]


async def test_the_subscriber_hears_by_dm_why_a_private_channel_gets_nothing(
    fake_slack: FakeSlack, store: Store
) -> None:
    fake_slack.failures["chat.postMessage"] = first(1, always(200, "not_in_channel"))
    secret = Destination.parse("slack:T1:CPRIVATE")
    sub = await store.add_subscription(secret, "diffusion", created_by="U7")
    await store.put_papers([Paper(id="arxiv:2411.00001", title="Diffusion")])
    await store.claim_and_enqueue([OutboxEntry(secret, "arxiv:2411.00001", (sub.id,), START)])
    delivery = Delivery(store, {"slack": make_adapter(fake_slack)}, pacing=0, clock=Clock())
    report = await delivery.run_once()
    assert report.paused and report.posted == 0
    assert [c.data["users"] for c in fake_slack.of("conversations.open")] == ["U7"]
    refused, dm = fake_slack.of("chat.postMessage")
    assert (refused.data["channel"], dm.data["channel"]) == ("CPRIVATE", "DU7")
    check_blocks(dm.data["blocks"])
    shown = str(dm.data["blocks"])
    assert "so I paused it" in shown and "/invite @paperbot" in shown
    assert f"{sub.id}` diffusion" in shown and f"/papers resume {sub.id}" in shown
    links = [b for b in dm.data["blocks"] if b["type"] == "context" and "<#" in str(b)]
    assert [b["elements"][0] for b in links] == [{"type": "mrkdwn", "text": "Channel: <#CPRIVATE>"}]


async def test_a_revoked_token_pauses_nothing_and_posts_wait(
    fake_slack: FakeSlack, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.failures["chat.postMessage"] = always(200, "token_revoked")
    where = await queue(store, ["slack:T1:C1", "slack:T1:C2"], per_channel=2)
    for channel in ("C1", "C2"):
        dest = Destination.parse(f"slack:T1:{channel}")
        sub = (await store.list_subscriptions(dest.tenant, dest))[0]
        await store.restore_subscription(replace(sub, id=f"x{channel}", query="x"))
    clock = Clock()
    delivery = Delivery(store, {"slack": make_adapter(fake_slack)}, pacing=0, clock=clock)
    report = await delivery.run_once()
    assert report.paused == [] and report.posted == 0 and report.retried == 4
    assert not any([s.paused async for s in store.iter_subscriptions()])
    assert fake_slack.of("conversations.open") == []  # nobody is told a channel is lost
    waiting = await store.pending()
    assert len(waiting) == 4 and all("token was revoked" in (e.last_error or "") for e in waiting)
    assert "posting to slack:T1:C1 failed" in caplog.text and "token_revoked" in caplog.text
    status = await status_lines(store, clock.now, [])
    assert "(last attempt failed: Slack: the bot token was revoked" in status[-1]
    del fake_slack.failures["chat.postMessage"]  # reinstalled, restarted
    clock.now += timedelta(hours=2)
    assert (await delivery.run_once()).posted == 4
    assert delivered(fake_slack, refused={1, 2}) == Counter(
        (where[t].split(":")[2], t) for t in where
    )


async def test_server_errors_are_retried_later_and_delivered_once(
    fake_slack: FakeSlack, store: Store
) -> None:
    fake_slack.failures["chat.postMessage"] = first(1, always(500, "internal_error"))
    where = await queue(store, ["slack:T1:C1"], per_channel=3)
    clock = Clock()
    delivery = Delivery(store, {"slack": make_adapter(fake_slack)}, pacing=0, clock=clock)
    report = await delivery.run_once()
    assert report.retried == 3 and report.posted == 0
    [entry, *_] = await store.pending()
    assert entry.last_error is not None and "internal_error" in entry.last_error
    clock.now += timedelta(hours=2)
    assert (await delivery.run_once()).posted == 3
    assert delivered(fake_slack, refused={1}) == Counter(("C1", t) for t in where)


async def test_follows_are_delivered_by_dm(fake_slack: FakeSlack, store: Store) -> None:
    await queue(store, ["slack:T1:@U7"], per_channel=2)
    delivery = Delivery(store, {"slack": make_adapter(fake_slack)}, pacing=0, clock=Clock())
    assert (await delivery.run_once()).posted == 2
    assert [c.data["users"] for c in fake_slack.of("conversations.open")] == ["U7"]
    assert [c.data["channel"] for c in fake_slack.of("chat.postMessage")] == ["DU7"]
