"""/papers interactions as Discord sends them -> core commands -> deferred answers.

Interactions go through discord.py's own gateway entry point and command tree; the
answers go to the fake Discord REST API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord
import pytest
from conftest import Core, card
from fake_discord import Call, FakeDiscord
from payloads import MEMBER, click, command, dispatch, interaction

from adapters.discord_bot import DiscordAdapter
from adapters.discord_interactions import PRIVATE_NOTE, SHARED_NOTE
from bot.messages import Reply, error
from bot.models import Destination, Tenant

EPHEMERAL = 64
MakeBot = Callable[..., DiscordAdapter]


def deferral(fake: FakeDiscord) -> dict[str, Any]:
    """The one interaction callback: a deferral ("thinking")."""
    [callback] = fake.posts("/callback")
    assert callback.json["type"] == 5
    return dict(callback.json.get("data") or {})


def followups(fake: FakeDiscord) -> list[Call]:
    """Follow-up messages of interactions (webhook posts)."""
    return [c for c in fake.posts("") if c.path.startswith("webhooks/4242/")]


async def ready(make_bot: MakeBot, **kw: Any) -> DiscordAdapter:
    bot = make_bot(**kw)
    await bot.prepare()
    return bot


@pytest.mark.parametrize(
    ("sub", "values", "text"),
    [
        (
            "search",
            {"query": '"diffusion policy" -survey', "since": "7d", "sort": "date", "limit": 5},
            'search "diffusion policy" -survey --since 7d --sort date --limit 5',
        ),
        (
            "search",
            {"query": "gan", "since": "2026-01-31 12:00", "until": "2026-02-01", "share": True},
            'search gan --since "2026-01-31 12:00" --until 2026-02-01 --share',
        ),
        (
            "paper",
            {"id_or_url": "https://arxiv.org/abs/2401.12345v2"},
            "paper https://arxiv.org/abs/2401.12345v2",
        ),
        ("trending", {"days": 3, "limit": 10}, "trending --days 3 --limit 10"),
        ("trending", {}, "trending"),
        (
            "preview",
            {"query": "cat:cs.LG robot*", "days": 14},
            "preview cat:cs.LG robot* --days 14",
        ),
        (
            "subscribe",
            {
                "query": "title:(robot OR robotic)",
                "digest": "weekly@mon@08:30",
                "tz": "Europe/Berlin",
            },
            "subscribe title:(robot OR robotic) --digest weekly@mon@08:30 --tz Europe/Berlin",
        ),
        ("subscribe", {"query": "gan", "digest": "instant"}, "subscribe gan --instant"),
        ("follow", {"query": 'author:"Chelsea Finn"'}, 'follow author:"Chelsea Finn"'),
        ("follow", {"query": "x", "digest": "Instant"}, "follow x --instant"),
        ("unsubscribe", {"id": "s7k2p"}, "unsubscribe s7k2p"),
        ("subscriptions", {}, "subscriptions"),
        ("pause", {"id": "s7k2p"}, "pause s7k2p"),
        ("pause", {"id": "all", "for": "2w"}, "pause all --for 2w"),
        ("resume", {"id": "s7k2p"}, "resume s7k2p"),
        ("unfollow", {"id": "q4x1m"}, "unfollow q4x1m"),
        ("following", {}, "following"),
        ("digest", {}, "digest"),
        ("help", {"topic": "query"}, "help query"),
        ("help", {}, "help"),
    ],
)
async def test_options_become_the_core_command_text(
    make_bot: MakeBot, core: Core, sub: str, values: dict[str, Any], text: str
) -> None:
    bot = await ready(make_bot)
    await dispatch(bot, interaction(2, command(sub, **values)))
    assert core.texts == [text]
    [cmd] = core.commands
    assert cmd.destination == Destination("discord", "111", "222")
    assert cmd.actor.user == "333" and cmd.actor.name == "Ada"


async def test_search_defers_privately_and_answers_by_followup(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord
) -> None:
    core.reply = Reply(text="1 paper for <@123456789012345678>", cards=(card(),))
    bot = await ready(make_bot)
    await dispatch(bot, interaction(2, command("search", query="gan")))
    assert deferral(fake_discord)["flags"] & EPHEMERAL
    [answer] = followups(fake_discord)
    assert answer.json["flags"] & EPHEMERAL
    assert answer.json["allowed_mentions"] == {"parse": []}
    assert "<@\u200b123456789012345678>" in answer.json["content"]
    assert len(answer.json["embeds"]) == 1
    ids = [b["custom_id"] for row in answer.json["components"] for b in row["components"]]
    assert ids == [
        "paperbot:up:arxiv:2411.00001",
        "paperbot:down:arxiv:2411.00001",
        "paperbot:similar:arxiv:2411.00001",
        "paperbot:follow_authors:arxiv:2411.00001",
    ]


async def test_shared_search_is_visible(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord
) -> None:
    core.reply = Reply(text="1 paper", cards=(card(),), ephemeral=False)
    bot = await ready(make_bot)
    await dispatch(bot, interaction(2, command("search", query="gan", share=True)))
    assert not deferral(fake_discord).get("flags", 0) & EPHEMERAL
    [answer] = followups(fake_discord)
    assert not answer.json.get("flags", 0) & EPHEMERAL


async def test_subscribe_by_a_channel_manager_is_visible(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord
) -> None:
    core.reply = Reply(text="Subscribed this channel to gan as `s1`.", ephemeral=False)
    bot = await ready(make_bot)
    await dispatch(bot, interaction(2, command("subscribe", query="gan")))
    assert core.commands[0].actor.is_admin
    assert not deferral(fake_discord).get("flags", 0) & EPHEMERAL
    [answer] = followups(fake_discord)
    assert not answer.json.get("flags", 0) & EPHEMERAL
    assert fake_discord.requests("DELETE", "messages/@original") == []


@pytest.mark.parametrize("sub", ["subscribe", "unsubscribe", "pause", "resume", "digest"])
async def test_without_manage_channels_the_actor_is_no_admin(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord, sub: str
) -> None:
    core.reply = error("Only people who may manage this channel can change its subscriptions.")
    bot = await ready(make_bot)
    values = {"query": "gan"} if sub == "subscribe" else {"id": "s1"} if sub != "digest" else {}
    await dispatch(bot, interaction(2, command(sub, **values), permissions=MEMBER))
    assert not core.commands[0].actor.is_admin
    assert deferral(fake_discord)["flags"] & EPHEMERAL  # the refusal is private
    [answer] = followups(fake_discord)
    assert answer.json["flags"] & EPHEMERAL and answer.json["content"].startswith("⚠️ Only")


async def test_a_private_answer_to_a_visible_deferral_leaves_nothing_in_the_channel(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord
) -> None:
    core.reply = error("bad query: unbalanced ( at column 1")
    bot = await ready(make_bot)
    await dispatch(bot, interaction(2, command("subscribe", query="(gan")))
    assert not deferral(fake_discord).get("flags", 0) & EPHEMERAL
    [edit] = fake_discord.requests("PATCH", "messages/@original")
    assert edit.json["content"] == PRIVATE_NOTE
    [answer] = followups(fake_discord)
    assert answer.json["flags"] & EPHEMERAL
    assert len(fake_discord.requests("DELETE", "messages/@original")) == 1


async def test_a_visible_answer_to_a_private_deferral_is_shared(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord
) -> None:
    core.reply = Reply(text="Trending today:", cards=(card(),), ephemeral=False)
    bot = await ready(make_bot)
    await dispatch(bot, interaction(2, command("trending")))
    assert deferral(fake_discord)["flags"] & EPHEMERAL
    [edit] = fake_discord.requests("PATCH", "messages/@original")
    assert edit.json["content"] == SHARED_NOTE
    [answer] = followups(fake_discord)
    assert not answer.json.get("flags", 0) & EPHEMERAL
    assert fake_discord.requests("DELETE", "messages/@original") == []


async def test_commands_in_the_bots_dms_address_the_user_and_stay_in_the_dm(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord
) -> None:
    core.reply = Reply(text="Your follows:", lines=("`f1` gan",))
    bot = await ready(make_bot)
    await dispatch(bot, interaction(2, command("following"), guild=None))
    [cmd] = core.commands
    assert cmd.destination == Destination("discord", "dm", "@333") and cmd.actor.is_admin
    assert not deferral(fake_discord).get("flags", 0) & EPHEMERAL  # ephemeral would vanish
    [answer] = followups(fake_discord)
    assert not answer.json.get("flags", 0) & EPHEMERAL and "`f1` gan" in answer.json["content"]
    assert fake_discord.requests("PATCH", "messages/@original") == []


async def test_a_failing_core_still_gets_an_answer(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(command: object) -> Reply:
        raise RuntimeError("bug")

    bot = await ready(make_bot)
    bot.responder.handle = broken
    await dispatch(bot, interaction(2, command("search", query="x")))
    [answer] = followups(fake_discord)
    assert answer.json["content"].startswith("⚠️ Something went wrong")
    assert "the core failed" in caplog.text


async def test_a_long_answer_becomes_several_followups(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord
) -> None:
    lines = tuple(f"`s{i}` some query number {i} " + "x" * 80 for i in range(60))
    core.reply = Reply(text="Subscriptions of this channel:", lines=lines, cards=(card(),) * 7)
    bot = await ready(make_bot)
    await dispatch(bot, interaction(2, command("subscriptions")))
    answers = followups(fake_discord)
    assert len(answers) >= 4
    assert all(len(a.json.get("content") or "") <= 2000 for a in answers)
    assert sum(len(a.json.get("embeds") or []) for a in answers) == 7
    text = "\n".join(a.json.get("content") or "" for a in answers)
    assert all(f"`s{i}`" in text for i in range(60))


# -- autocomplete ------------------------------------------------------------------------


def choices(fake: FakeDiscord) -> list[dict[str, Any]]:
    [callback] = fake.posts("/callback")
    assert callback.json["type"] == 8  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    return list(callback.json["data"]["choices"])


async def test_ids_autocomplete_from_the_channels_subscriptions(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    asked: list[tuple[Tenant, Destination]] = []

    async def ids(tenant: Tenant, destination: Destination) -> list[tuple[str, str]]:
        asked.append((tenant, destination))
        return [("s7k2p", "diffusion"), ("q4x1m", "robots OR robotic")]

    bot = await ready(make_bot, ids=ids)
    await dispatch(bot, interaction(4, command("unsubscribe", focused="id", id="ROB")))
    assert choices(fake_discord) == [{"name": "q4x1m · robots OR robotic", "value": "q4x1m"}]
    assert asked == [(Tenant("discord", "111"), Destination("discord", "111", "222"))]


async def test_resume_offers_all_first(make_bot: MakeBot, fake_discord: FakeDiscord) -> None:
    async def ids(tenant: Tenant, destination: Destination) -> list[tuple[str, str]]:
        return [("s7k2p", "diffusion")]

    bot = await ready(make_bot, ids=ids)
    await dispatch(bot, interaction(4, command("resume", focused="id", id="")))
    assert choices(fake_discord) == [
        {"name": "all · every paused subscription of this channel", "value": "all"},
        {"name": "s7k2p · diffusion", "value": "s7k2p"},
    ]


async def test_unfollow_autocompletes_the_users_follows(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    asked: list[Destination] = []

    async def ids(tenant: Tenant, destination: Destination) -> list[tuple[str, str]]:
        asked.append(destination)
        return [(f"f{i}", f"query {i}") for i in range(40)]

    bot = await ready(make_bot, ids=ids)
    await dispatch(bot, interaction(4, command("unfollow", focused="id", id="")))
    assert len(choices(fake_discord)) == 25
    assert asked == [Destination("discord", "111", "@333")]


async def test_autocomplete_offers_nothing_when_the_store_fails(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    async def ids(tenant: Tenant, destination: Destination) -> list[tuple[str, str]]:
        raise ConnectionError("redis is down")

    bot = await ready(make_bot, ids=ids)
    await dispatch(bot, interaction(4, command("pause", focused="id", id="s")))
    assert choices(fake_discord) == []


@pytest.mark.parametrize(
    ("sub", "option", "typed", "expected"),
    [
        ("subscribe", "tz", "berl", {"Europe/Berlin"}),
        ("follow", "digest", "week", {"weekly@mon@09:00"}),
        ("help", "topic", "follow", {"follow", "follow-authors", "following", "unfollow"}),
    ],
)
async def test_static_autocompletes(
    make_bot: MakeBot,
    fake_discord: FakeDiscord,
    sub: str,
    option: str,
    typed: str,
    expected: set[str],
) -> None:
    bot = await ready(make_bot)
    values = {"query": "x", option: typed} if sub != "help" else {option: typed}
    await dispatch(bot, interaction(4, command(sub, focused=option, **values)))
    assert {c["value"] for c in choices(fake_discord)} == expected


# -- buttons -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "text"),
    [
        ("up", "feedback arxiv:2411.00001 up"),
        ("down", "feedback arxiv:2411.00001 down"),
        ("similar", "similar arxiv:2411.00001"),
        ("follow_authors", "follow-authors arxiv:2411.00001"),
    ],
)
async def test_buttons_become_core_commands_answered_privately(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord, action: str, text: str
) -> None:
    bot = make_bot()
    posted = await bot.send(Destination("discord", "111", "222"), Reply(text="", cards=(card(),)))
    [post] = fake_discord.messages()
    message = fake_discord.message("222", post.json) | {"id": posted.message_id}
    custom_id = f"paperbot:{action}:arxiv:2411.00001"
    await dispatch(bot, interaction(3, click(custom_id), message=message))
    assert core.texts == [text]
    assert deferral(fake_discord)["flags"] & EPHEMERAL
    [answer] = followups(fake_discord)
    assert answer.json["flags"] & EPHEMERAL


async def test_buttons_work_for_a_fresh_process(
    make_bot: MakeBot, core: Core, fake_discord: FakeDiscord
) -> None:
    """A message posted by another process (run --once): the custom id is enough."""
    bot = await ready(make_bot)
    custom_id = "paperbot:similar:doi:10.1/x"
    row = {"type": 2, "style": 2, "label": "Similar", "custom_id": custom_id}
    message = fake_discord.message("222", {"components": [{"type": 1, "components": [row]}]})
    await dispatch(bot, interaction(3, click(custom_id), message=message))
    assert core.texts == ["similar doi:10.1/x"]


# -- registration ------------------------------------------------------------------------


SUBCOMMANDS = {
    "search", "paper", "trending", "preview", "subscribe", "unsubscribe", "subscriptions",
    "pause", "resume", "follow", "unfollow", "following", "digest", "status", "help",
}  # fmt: skip


async def test_commands_are_synced_to_the_development_guilds(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    await ready(make_bot, guild_ids=[81384788765712384])
    [put] = fake_discord.requests("PUT", "applications/4242/guilds/81384788765712384/commands")
    [papers] = put.json
    assert papers["name"] == "papers" and papers["contexts"] == [0, 1]
    assert papers["integration_types"] == [0]
    options = {o["name"]: o for o in papers["options"]}
    assert set(options) == SUBCOMMANDS
    assert all(o["description"] for o in papers["options"])
    search = {o["name"]: o for o in options["search"]["options"]}
    assert search["query"]["required"] and search["query"]["type"] == 3
    assert [c["value"] for c in search["sort"]["choices"]] == ["relevance", "date", "upvotes"]
    assert search["limit"]["type"] == 4 and search["limit"]["max_value"] == 50
    assert search["share"]["type"] == 5
    assert options["unsubscribe"]["options"][0]["autocomplete"]
    assert fake_discord.requests("PUT", "applications/4242/commands") == []


async def test_commands_are_synced_globally_without_guild_ids(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    await ready(make_bot)
    [put] = fake_discord.requests("PUT", "applications/4242/commands")
    assert [c["name"] for c in put.json] == ["papers"]


async def test_a_failed_sync_does_not_stop_the_bot(
    make_bot: MakeBot, fake_discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    from fake_discord import error as discord_error

    fake_discord.failures["applications/4242/commands"] = discord_error(
        403, 50001, "Missing Access"
    )
    await ready(make_bot)
    assert "applications.commands" in caplog.text


async def test_sharding_follows_discords_recommendation(
    make_bot: MakeBot, fake_discord: FakeDiscord
) -> None:
    assert isinstance((await ready(make_bot)).client, discord.Client)
    assert not isinstance((await ready(make_bot)).client, discord.AutoShardedClient)
    fake_discord.shards = 3
    big = await ready(make_bot)
    assert isinstance(big.client, discord.AutoShardedClient)
    assert big.client.application_id == 4242  # the new client logged in too
    configured = make_bot(shards=2)
    assert isinstance(configured.client, discord.AutoShardedClient)
    assert configured.client.shard_count == 2
    assert configured.client.intents == discord.Intents.default()
