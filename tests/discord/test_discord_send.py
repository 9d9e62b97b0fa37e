"""Posting: discord.py's real REST client against the fake Discord on loopback."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from conftest import card
from fake_discord import FakeDiscord, error, rate_limited

from adapters.base import DeliveryError, PermanentDeliveryError, RateLimited
from adapters.discord_bot import DiscordAdapter
from bot.config import DiscordSettings
from bot.messages import MessageRef, Reply
from bot.models import Destination

C1 = Destination("discord", "111", "222")
FOLLOWER = Destination("discord", "111", "@555")
MakeBot = Callable[..., DiscordAdapter]


def within_limits(data: dict[str, Any]) -> None:
    """Assert one message body respects every Discord limit."""
    assert len(data.get("content") or "") <= 2000
    embeds = data.get("embeds") or []
    assert len(embeds) <= 10
    total = 0
    for e in embeds:
        author, footer = (
            (e.get("author") or {}).get("name", ""),
            (e.get("footer") or {}).get("text", ""),
        )
        assert len(e.get("title", "")) <= 256 and len(e.get("description", "")) <= 4096
        assert len(author) <= 256 and len(footer) <= 2048
        fields = e.get("fields", [])
        assert len(fields) <= 25
        assert all(0 < len(f["name"]) <= 256 and 0 < len(f["value"]) <= 1024 for f in fields)
        total += len(e.get("title", "")) + len(e.get("description", "")) + len(author) + len(footer)
        total += sum(len(f["name"]) + len(f["value"]) for f in fields)
    assert total <= 6000


async def test_posts_embeds_within_limits_that_ping_nobody(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    bot = make_bot()
    reply = Reply(
        text="2 new papers for s1 @everyone @here",
        cards=(
            card(
                "Hello @everyone <@123456789012345678> **bold**",
                tldr="We _propose_ x.",
                authors="A, B",
            ),
            card("Two", "arxiv:2411.00002", matched=("x",), subscription_ids=("s1",), upvotes=3),
        ),
        ephemeral=False,
    )
    ref = await bot.send(C1, reply)
    [post] = fake_discord.messages()
    data = post.json
    assert post.path == "channels/222/messages"
    assert data["allowed_mentions"] == {"parse": []}
    within_limits(data)
    assert "@\u200beveryone" in data["content"] and "@\u200bhere" in data["content"]
    first, second = data["embeds"]
    assert first["title"] == "Hello @\u200beveryone <@\u200b123456789012345678> \\*\\*bold\\*\\*"
    assert first["url"] == "https://arxiv.org/abs/2411.00001"
    assert first["description"] == "We \\_propose\\_ x." and first["author"]["name"] == "A, B"
    assert second["footer"]["text"] == "arxiv:2411.00002 · for s1"
    assert [f["name"] for f in second["fields"]] == ["Details", "Matched"]
    rows = [[b["custom_id"] for b in row["components"]] for row in data["components"]]
    assert rows[1] == [
        "paperbot:up:arxiv:2411.00002",
        "paperbot:down:arxiv:2411.00002",
        "paperbot:similar:arxiv:2411.00002",
        "paperbot:follow_authors:arxiv:2411.00002",
    ]
    assert ref == MessageRef(C1, ref.message_id) and ref.message_id.isdigit()


async def test_logs_in_once_over_rest_and_registers_nothing(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    bot = make_bot()
    for _ in range(3):
        await bot.send(C1, Reply(text="hello"))
    assert len(fake_discord.requests("GET", "users/@me")) == 1
    assert len(fake_discord.requests("GET", "channels/222")) == 1  # the channel is asked once
    assert not [c for c in fake_discord.calls if c.method == "PUT"]  # no command sync
    assert len(fake_discord.messages()) == 3


async def test_a_429_is_waited_out_and_the_message_arrives_once(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    fake_discord.failures["channels/222/messages"] = rate_limited(times=1, retry_after=0.01)
    bot = make_bot()
    ref = await bot.send(C1, Reply(text="hello"))
    first, second = fake_discord.posts("channels/222/messages")  # the 429, then the post
    assert first.json == second.json and second.json["content"] == "hello"
    assert ref.message_id.isdigit()


async def test_a_long_429_goes_back_to_the_outbox(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    fake_discord.failures["channels/222/messages"] = rate_limited(times=1, retry_after=90)
    bot = make_bot()
    with pytest.raises(RateLimited) as caught:
        await bot.send(C1, Reply(text="hello"))
    assert caught.value.retry_after == 90


async def test_a_429_discord_py_does_not_retry_becomes_rate_limited(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    """A 429 without `Via` (a Cloudflare ban) is raised by discord.py at once."""
    fake_discord.failures["channels/222/messages"] = rate_limited(retry_after=12, via=False)
    bot = make_bot()
    with pytest.raises(RateLimited) as caught:
        await bot.send(C1, Reply(text="hello"))
    assert caught.value.retry_after == 12


@pytest.mark.parametrize(
    ("status", "code", "message", "reason"),
    [
        (404, 10003, "Unknown Channel", "the channel no longer exists (Unknown Channel)"),
        (403, 50001, "Missing Access", "the bot has no access to the channel (Missing Access)"),
        (403, 50013, "Missing Permissions", "lacks a permission there (Missing Permissions)"),
        (403, 20028, "Something new", "HTTP 403 Something new"),
    ],
)
async def test_permanent_errors_have_a_human_reason(
    make_bot: MakeBot, fake_discord: FakeDiscord, status: int, code: int, message: str, reason: str
) -> None:
    fake_discord.failures["channels/222/messages"] = error(status, code, message)
    bot = make_bot()
    with pytest.raises(PermanentDeliveryError) as caught:
        await bot.send(C1, Reply(text="hello"))
    assert caught.value.reason.startswith("Discord: ") and reason in caught.value.reason


async def test_a_channel_that_is_gone_fails_at_the_lookup_too(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    fake_discord.failures["channels/222"] = error(404, 10003, "Unknown Channel")
    with pytest.raises(PermanentDeliveryError, match="Unknown Channel"):
        await make_bot().send(C1, Reply(text="hello"))


@pytest.mark.parametrize("status", [503, 400])
async def test_passing_errors_are_retried_later(
    make_bot: MakeBot, fake_discord: FakeDiscord, status: int
) -> None:
    fake_discord.failures["channels/222/messages"] = error(status, 0, "Service Unavailable")
    with pytest.raises(DeliveryError) as caught:
        await make_bot().send(C1, Reply(text="hello"))
    assert not isinstance(caught.value, PermanentDeliveryError | RateLimited)
    assert str(status) in str(caught.value)


async def test_an_unreachable_discord_is_a_passing_error() -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = DiscordSettings(token="test", api_url=f"http://127.0.0.1:{port}/api/v10")  # type: ignore[arg-type]
    bot = DiscordAdapter(settings, lambda command: None)  # type: ignore[arg-type, return-value]
    try:
        with pytest.raises(DeliveryError) as caught:
            await bot.send(C1, Reply(text="hello"))
        assert not isinstance(caught.value, PermanentDeliveryError)
    finally:
        await bot.stop()


@pytest.mark.parametrize(
    ("destination", "reason"),
    [
        (Destination("discord", "111", "general"), "not a channel id"),
        (Destination("discord", "999", "222"), "channel 222 is in server 111, not 999"),
    ],
)
async def test_destinations_that_cannot_be_this_bots(
    make_bot: MakeBot, fake_discord: FakeDiscord, destination: Destination, reason: str
) -> None:
    with pytest.raises(PermanentDeliveryError, match=reason):
        await make_bot().send(destination, Reply(text="hello"))
    assert fake_discord.messages() == []


# -- follows: DMs ------------------------------------------------------------------------


async def test_follows_are_posted_by_dm(make_bot: MakeBot, fake_discord: FakeDiscord) -> None:
    bot = make_bot()
    ref = await bot.send(FOLLOWER, Reply(text="Digest: 1 paper for f1", cards=(card(),)))
    await bot.send(FOLLOWER, Reply(text="1 new paper for f1"))
    [opened] = fake_discord.posts("users/@me/channels")
    assert opened.json == {"recipient_id": 555}
    posts = fake_discord.posts("channels/777/messages")
    assert len(posts) == 2 and posts[0].json["allowed_mentions"] == {"parse": []}
    assert ref.destination == FOLLOWER
    assert fake_discord.requests("GET", "channels/777") == []  # a DM is no forum


async def test_a_user_who_refuses_dms_pauses_the_follow(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    fake_discord.failures["channels/777/messages"] = error(
        403, 50007, "Cannot send messages to this user"
    )
    with pytest.raises(PermanentDeliveryError, match="does not accept direct messages"):
        await make_bot().send(FOLLOWER, Reply(text="hello"))


# -- overflow and threads ----------------------------------------------------------------


async def test_overflow_continues_in_a_thread_on_the_first_message(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    cards = tuple(card(f"Paper {i}", f"arxiv:2411.{i:05d}", tldr="t" * 3000) for i in range(12))
    ref = await make_bot().send(C1, Reply(text="12 new papers for s1", cards=cards))
    first, *rest = fake_discord.messages()
    assert first.path == "channels/222/messages" and len(first.json["embeds"]) <= 5
    [thread] = fake_discord.posts(f"channels/222/messages/{ref.message_id}/threads")
    assert thread.json["name"] == "12 new papers for s1"
    assert {c.path for c in rest} == {f"channels/{ref.message_id}/messages"}
    for post in (first, *rest):
        within_limits(post.json)
        assert post.json["allowed_mentions"] == {"parse": []}
    titles = [e["title"] for p in (first, *rest) for e in p.json["embeds"]]
    assert titles == [f"Paper {i}" for i in range(12)]


async def test_given_a_thread_posts_go_into_it(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    bot = make_bot()
    ref = await bot.send(C1, Reply(text="7 new papers for s1", cards=(card(),)))
    for i in range(2):
        await bot.send(C1, Reply(text="", cards=(card(f"More {i}"),)), thread=ref)
    [thread] = fake_discord.posts("/threads")  # opened once, named after the first message
    assert thread.json["name"] == "7 new papers for s1"
    assert [c.path for c in fake_discord.messages()[1:]] == [
        f"channels/{ref.message_id}/messages"
    ] * 2


async def test_a_thread_opened_elsewhere_is_used(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    fake_discord.failures["/threads"] = error(400, 160004, "A thread has already been created")
    ref = MessageRef(C1, "900000000000000555")
    await make_bot().send(C1, Reply(text="more"), thread=ref)
    [post] = fake_discord.messages()
    assert post.path == "channels/900000000000000555/messages"


async def test_without_thread_permission_overflow_follows_in_the_channel(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    fake_discord.failures["/threads"] = error(403, 50013, "Missing Permissions")
    cards = tuple(card(f"Paper {i}") for i in range(7))
    await make_bot().send(C1, Reply(text="7 new papers", cards=cards))
    posts = fake_discord.messages()
    assert [p.path for p in posts] == ["channels/222/messages"] * 2
    assert [len(p.json["embeds"]) for p in posts] == [5, 2]


async def test_text_beyond_2000_characters_becomes_more_messages(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    lines = tuple(f"line {i} " + "y" * 90 for i in range(50))
    await make_bot().send(C1, Reply(text="Listing", lines=lines))
    posts = fake_discord.messages()
    assert len(posts) == 3
    assert all(len(p.json["content"]) <= 2000 for p in posts)
    text = "\n".join(p.json["content"] for p in posts)
    assert all(f"line {i} " in text for i in range(50))


async def test_forum_channels_get_one_thread_per_post(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    fake_discord.forums.add("333")
    bot = make_bot()
    forum = Destination("discord", "111", "333")
    cards = tuple(card(f"Paper {i}") for i in range(7))
    ref = await bot.send(forum, Reply(text="7 new papers for s1 @everyone", cards=cards))
    await bot.send(forum, Reply(text="", cards=(card("Later"),)), thread=ref)
    await bot.send(forum, Reply(text="1 new paper for s1", cards=(card("Next day"),)))
    first, second = fake_discord.posts("channels/333/threads")
    assert first.json["name"] == "7 new papers for s1 @everyone"
    assert first.json["message"]["allowed_mentions"] == {"parse": []}
    assert len(first.json["message"]["embeds"]) == 5
    assert second.json["name"] == "1 new paper for s1"
    inside = fake_discord.posts(f"channels/{ref.message_id}/messages")
    assert [len(p.json["embeds"]) for p in inside] == [2, 1]  # overflow, then the follow-up
    assert fake_discord.posts("channels/333/messages") == []
