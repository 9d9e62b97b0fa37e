"""The Discord adapter under the real delivery engine and store (SQLite and Redis)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fake_discord import FakeDiscord, error, rate_limited

from adapters.discord_bot import DiscordAdapter
from bot.delivery import Delivery
from bot.models import Destination, OutboxEntry, Paper
from bot.store import Store

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
C1 = Destination("discord", "111", "222")
MakeBot = Callable[..., DiscordAdapter]


def papers(n: int) -> list[Paper]:
    return [
        Paper(id=f"arxiv:2411.{i:05d}", title=f"Paper {i} @everyone", abstract="We study x.")
        for i in range(n)
    ]


def delivery(store: Store, bot: DiscordAdapter) -> Delivery:
    return Delivery(store, {"discord": bot}, pacing=0, clock=lambda: NOW)


async def queue(store: Store, dest: Destination, sub_id: str, batch: list[Paper]) -> None:
    await store.claim_and_enqueue([OutboxEntry(dest, p.id, (sub_id,), NOW) for p in batch])


async def test_each_paper_is_posted_once(
    store: Store, make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    batch = papers(7)
    await store.put_papers(batch)
    sub = await store.add_subscription(C1, "x")
    await queue(store, C1, sub.id, batch)
    fake_discord.failures["channels/222/messages"] = rate_limited(times=1, retry_after=0.01)
    bot = make_bot()
    report = await delivery(store, bot).run_once()
    assert report.posted == 7 and report.paused == [] and report.retried == 0
    again = await delivery(store, bot).run_once()
    assert again.posted == 0
    posts = fake_discord.delivered()
    titles = sorted(e["title"] for c in posts for e in c.json["embeds"])
    assert titles == sorted(f"Paper {i} @\u200beveryone" for i in range(7))
    assert all(c.json["allowed_mentions"] == {"parse": []} for c in posts)
    first, second = posts  # 5 in the channel, 2 in the thread on the first message
    assert first.path == "channels/222/messages" and second.path.endswith("/messages")
    assert second.path != first.path and "for" in first.json["content"]


async def test_a_404_pauses_the_destination_with_the_reason(
    store: Store, make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    batch = papers(2)
    await store.put_papers(batch)
    gone = Destination("discord", "111", "999")
    lost = await store.add_subscription(gone, "x")
    other = await store.add_subscription(gone, "y")
    live = await store.add_subscription(C1, "x")
    await queue(store, gone, lost.id, batch)
    await queue(store, C1, live.id, batch)
    fake_discord.failures["channels/999/messages"] = error(404, 10003, "Unknown Channel")
    report = await delivery(store, make_bot()).run_once()
    assert report.posted == 2 and len(report.paused) == 1
    for sub_id in (lost.id, other.id):
        paused = await store.get_subscription(gone.tenant, sub_id)
        assert paused is not None and paused.paused
        assert paused.paused_reason == "Discord: the channel no longer exists (Unknown Channel)"
    running = await store.get_subscription(C1.tenant, live.id)
    assert running is not None and not running.paused


async def test_whoever_subscribed_a_channel_the_bot_lost_hears_by_dm(
    store: Store, make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    [paper] = papers(1)
    await store.put_papers([paper])
    hidden = Destination("discord", "111", "999")
    sub = await store.add_subscription(hidden, "x @everyone", created_by="555")
    await queue(store, hidden, sub.id, [paper])
    fake_discord.failures["channels/999/messages"] = error(403, 50001, "Missing Access")
    report = await delivery(store, make_bot()).run_once()
    assert len(report.paused) == 1
    [opened] = fake_discord.posts("users/@me/channels")
    assert opened.json == {"recipient_id": 555}
    [dm] = fake_discord.posts("channels/777/messages")
    assert dm.json["allowed_mentions"] == {"parse": []}
    content = dm.json["content"]
    assert "so I paused it" in content and f"/papers resume {sub.id}" in content
    assert "x @\u200beveryone" in content and "@everyone" not in content  # pings nobody
    assert content.endswith("\nChannel: <#999>")  # a link to the lost channel


async def test_follows_are_delivered_by_dm(
    store: Store, make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    batch = papers(1)
    await store.put_papers(batch)
    follower = Destination("discord", "111", "@555")
    follow = await store.add_subscription(follower, 'author:"Ada"')
    await queue(store, follower, follow.id, batch)
    report = await delivery(store, make_bot()).run_once()
    assert report.posted == 1
    [opened] = fake_discord.posts("users/@me/channels")
    assert opened.json == {"recipient_id": 555}
    [post] = fake_discord.posts("channels/777/messages")
    assert post.json["embeds"][0]["title"] == "Paper 0 @\u200beveryone"
