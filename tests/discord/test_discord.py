"""The Discord adapter: discord.py's real HTTP client against a fake Discord on loopback."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import discord
import pytest
from fake_discord import FakeDiscord, error, rate_limited_once
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import PermanentDeliveryError
from adapters.discord_bot import DiscordAdapter
from adapters.discord_embeds import (
    CHARS_PER_MESSAGE,
    CONTENT_MAX,
    EMBEDS_PER_MESSAGE,
    render,
)
from bot.config import DiscordSettings
from bot.delivery import Delivery
from bot.messages import Card, Command, Reply
from bot.models import Destination, OutboxEntry, Paper
from bot.store import Store

C1 = Destination.parse("discord:111:222")


class Recorder:
    """Stands in for the core: records commands, answers as told."""

    def __init__(self, reply: Reply | None = None) -> None:
        self.commands: list[Command] = []
        self.reply = reply or Reply(text="ok")

    async def __call__(self, command: Command) -> Reply:
        self.commands.append(command)
        return self.reply


def make(fake: FakeDiscord, handle: Any = None, choices: Any = None) -> DiscordAdapter:
    settings = DiscordSettings(token="test", api_url=fake.url)  # type: ignore[arg-type]
    return DiscordAdapter(settings, handle or Recorder(), choices)


def card(title: str = "A paper", **kw: Any) -> Card:
    url = "https://arxiv.org/abs/2411.00001"
    return Card(paper_id="arxiv:2411.00001", title=title, url=url, **kw)


# -- posting ---------------------------------------------------------------------------


async def test_send_posts_embeds_that_ping_nobody(fake_discord: FakeDiscord) -> None:
    bot = make(fake_discord)
    reply = Reply(
        text="2 new papers for s1 @everyone",
        cards=(
            card("Hello @everyone <@123> **bold**", tldr="We propose x.", authors="A, B"),
            card("Two", matched=("x",), subscription_ids=("s1",)),
        ),
        ephemeral=False,
    )
    ref = await bot.send(C1, reply)
    [post] = fake_discord.posts("channels/222/messages")
    data = post.json
    assert data["allowed_mentions"] == {"parse": []}
    assert len(data["embeds"]) == 2 and "@\u200beveryone" in data["content"]
    first = data["embeds"][0]
    assert "@everyone" not in first["title"] and "\\*\\*bold\\*\\*" in first["title"]
    assert first["url"] == "https://arxiv.org/abs/2411.00001"
    assert data["components"] and data["components"][0]["components"][0]["custom_id"] == (
        "paperbot:up:arxiv:2411.00001"
    )
    assert ref.message_id.isdigit()
    await bot.client.close()


async def test_rate_limit_is_waited_out_and_posts_once(fake_discord: FakeDiscord) -> None:
    fake_discord.failures["channels/222/messages"] = rate_limited_once(0.05)
    bot = make(fake_discord)
    await bot.send(C1, Reply(text="hello"))
    posts = fake_discord.posts("channels/222/messages")
    assert len(posts) == 2  # the 429, then the one that landed
    await bot.client.close()


@pytest.mark.parametrize(
    ("status", "code", "message", "reason"),
    [
        (404, 10003, "Unknown Channel", "no longer exists"),
        (403, 50001, "Missing Access", "no access"),
        (403, 50013, "Missing Permissions", "lacks a permission"),
    ],
)
async def test_permanent_errors(
    fake_discord: FakeDiscord, status: int, code: int, message: str, reason: str
) -> None:
    fake_discord.failures["channels/222/messages"] = error(status, code, message)
    bot = make(fake_discord)
    with pytest.raises(PermanentDeliveryError, match=reason):
        await bot.send(C1, Reply(text="hello"))
    await bot.client.close()


async def test_follows_go_by_dm(fake_discord: FakeDiscord) -> None:
    bot = make(fake_discord)
    await bot.send(Destination.parse("discord:111:@555"), Reply(text="", cards=(card(),)))
    await bot.send(Destination.parse("discord:111:@555"), Reply(text="again"))
    [dm] = fake_discord.posts("users/@me/channels")
    assert dm.json == {"recipient_id": 555}
    assert len(fake_discord.posts("channels/777/messages")) == 2
    await bot.client.close()


@settings(max_examples=60, deadline=None)
@given(
    title=st.lists(st.sampled_from(["a", "@everyone", "*", "<@1>", "😀", " "]), max_size=400).map(
        "".join
    ),
    tldr=st.text(max_size=6000),
    authors=st.lists(st.text(max_size=40), max_size=500),
    cards=st.integers(0, 23),
    text=st.text(max_size=3000),
)
def test_any_paper_renders_within_limits(
    title: str, tldr: str, authors: list[str], cards: int, text: str
) -> None:
    reply = Reply(
        text=text,
        cards=tuple(card(title, tldr=tldr, authors=", ".join(authors)) for _ in range(cards)),
    )
    messages = render(reply)
    assert sum(len(m.embeds) for m in messages) == cards
    for message in messages:
        assert message.content is None or len(message.content) <= CONTENT_MAX
        assert len(message.embeds) <= EMBEDS_PER_MESSAGE
        assert sum(len(e) for e in message.embeds) <= CHARS_PER_MESSAGE
        for embed in message.embeds:
            assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
            assert len(embed.author.name or "") <= 256
            assert all(
                len(f.value or "") <= 1024 and len(f.name or "") <= 256 for f in embed.fields
            )
            assert "@everyone" not in (embed.title or "")


# -- interactions ----------------------------------------------------------------------


def interaction(
    bot: DiscordAdapter, options: list[dict[str, Any]], name: str, permissions: str = "16"
) -> discord.Interaction:
    """A real discord.Interaction from a real payload shape (application command)."""
    bot.client._connection.application_id = 4242
    payload: dict[str, Any] = {
        "id": "1300000000000000001",
        "application_id": "4242",
        "type": 2,
        "token": "interaction-token",
        "version": 1,
        "guild_id": "111",
        "channel_id": "222",
        "channel": {
            "id": "222",
            "type": 0,
            "guild_id": "111",
            "name": "papers",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        },
        "member": {
            "user": {
                "id": "333",
                "username": "ada",
                "discriminator": "0",
                "avatar": None,
                "global_name": "Ada",
            },
            "roles": [],
            "permissions": permissions,
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        },
        "app_permissions": "2147483647",
        "attachment_size_limit": 10485760,
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": "111"},
        "context": 0,
        "data": {
            "id": "5000",
            "name": "papers",
            "type": 1,
            "options": [{"type": 1, "name": name, "options": options}],
        },
    }
    return discord.Interaction(data=payload, state=bot.client._connection)  # type: ignore[arg-type]


async def _call(bot: DiscordAdapter, name: str, permissions: str = "16", **kwargs: Any) -> None:
    await bot.client.login("test")
    options = [{"name": k, "value": v, "type": 3} for k, v in kwargs.items()]
    group = bot.tree.get_command("papers")
    assert isinstance(group, discord.app_commands.Group)
    command = group.get_command(name)
    assert isinstance(command, discord.app_commands.Command)
    await command.callback(interaction(bot, options, name, permissions), **kwargs)  # type: ignore[arg-type]


async def test_search_defers_ephemerally_and_follows_up(fake_discord: FakeDiscord) -> None:
    core = Recorder(Reply(text="1 paper", cards=(card(),)))
    bot = make(fake_discord, core)
    await _call(bot, "search", query='"diffusion policy" -survey', since="7d", sort="date")
    [command] = core.commands
    assert command.text == 'search "diffusion policy" -survey --since 7d --sort date'
    assert str(command.destination) == "discord:111:222" and command.actor.user == "333"
    [callback] = fake_discord.posts("/callback")
    assert callback.json["type"] == 5 and callback.json["data"]["flags"] & 64  # deferred, ephemeral
    [followup] = fake_discord.posts("webhooks/4242/interaction-token")
    assert followup.json["flags"] & 64 and followup.json["allowed_mentions"] == {"parse": []}
    assert len(followup.json["embeds"]) == 1
    await bot.client.close()


async def test_subscribe_is_visible_and_needs_manage_channels(fake_discord: FakeDiscord) -> None:
    core = Recorder(Reply(text="Subscribed", ephemeral=False))
    bot = make(fake_discord, core)
    await _call(bot, "subscribe", query="gan", digest="daily@09:00")
    await _call(bot, "subscribe", permissions="0", query="gan")
    admin, member = core.commands
    assert admin.text == "subscribe gan --digest daily@09:00" and admin.actor.is_admin
    assert not member.actor.is_admin
    callback = fake_discord.posts("/callback")[0]
    assert not (callback.json.get("data") or {}).get("flags", 0) & 64  # visible
    await bot.client.close()


async def test_autocomplete_offers_this_channels_ids(fake_discord: FakeDiscord) -> None:
    asked: list[tuple[Destination, Destination]] = []

    async def choices(channel: Destination, user: Destination) -> list[tuple[str, str]]:
        asked.append((channel, user))
        return [("s7k2p", "diffusion"), ("q4x1m", "robots")]

    bot = make(fake_discord, choices=choices)
    await bot.client.login("test")
    group = bot.tree.get_command("papers")
    assert isinstance(group, discord.app_commands.Group)
    command = group.get_command("unsubscribe")
    assert isinstance(command, discord.app_commands.Command)
    found = await command._params["id"].autocomplete(  # type: ignore[union-attr, misc]
        interaction(bot, [], "unsubscribe"), "rob"
    )
    assert [c.value for c in found] == ["q4x1m"]
    assert str(asked[0][0]) == "discord:111:222" and str(asked[0][1]) == "discord:111:@333"
    await bot.client.close()


# -- through the real delivery engine --------------------------------------------------


async def test_delivery_posts_each_paper_once_and_pauses_on_404(
    fake_discord: FakeDiscord, store: Store
) -> None:
    bot = make(fake_discord)
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    papers = [Paper(id=f"arxiv:2411.{i:05d}", title=f"Paper {i}") for i in range(7)]
    await store.put_papers(papers)
    sub = await store.add_subscription(C1, "paper")
    gone = Destination.parse("discord:111:999")
    lost = await store.add_subscription(gone, "paper")
    fake_discord.failures["channels/999/messages"] = error(404, 10003, "Unknown Channel")
    await store.claim_and_enqueue(
        [OutboxEntry(C1, p.id, (sub.id,), now) for p in papers]
        + [OutboxEntry(gone, papers[0].id, (lost.id,), now)]
    )
    report = await Delivery(store, {"discord": bot}, pacing=0, clock=lambda: now).run_once()
    assert report.posted == 7
    titles = [
        e["title"] for c in fake_discord.posts("channels/222/messages") for e in c.json["embeds"]
    ]
    assert sorted(titles) == sorted(p.title for p in papers)
    paused = await store.get_subscription(gone.tenant, lost.id)
    assert (
        paused is not None and paused.paused and "Unknown Channel" in (paused.paused_reason or "")
    )
    await bot.client.close()


async def test_forum_channels_get_one_thread_per_post(fake_discord: FakeDiscord) -> None:
    fake_discord.forums.add("333")
    bot = make(fake_discord)
    forum = Destination.parse("discord:111:333")
    cards = tuple(card(f"Paper {i}") for i in range(7))  # more than one message holds
    ref = await bot.send(forum, Reply(text="7 new papers for s1 @everyone", cards=cards))
    [opened] = fake_discord.posts("channels/333/threads")
    assert opened.json["name"] == "7 new papers for s1 @everyone"
    assert opened.json["message"]["allowed_mentions"] == {"parse": []}
    assert len(opened.json["message"]["embeds"]) == 5
    rest = [c for c in fake_discord.posts("/messages") if not c.path.startswith("channels/333/")]
    assert len(rest) == 1 and len(rest[0].json["embeds"]) == 2  # the overflow, in the thread
    assert fake_discord.posts("channels/333/messages") == []
    assert ref.message_id.isdigit()
    await bot.client.close()
