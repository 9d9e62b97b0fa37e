"""The /papers app-command group: typed options -> the core's command text.

Each subcommand mirrors a core command and builds the text the core parses, e.g.
`search "diffusion policy" --since 7d --sort date --limit 5 --share`; values with
spaces are quoted so they stay one value. Ids autocomplete from an `Ids` provider
(the channel's subscriptions, or the user's follows), topics, schedules and time
zones from static lists.
"""

from __future__ import annotations

import asyncio
import logging
import zoneinfo
from functools import cache
from typing import Any, Literal

import discord
from discord import app_commands

from adapters.discord_interactions import Ids, Responder, destination_of
from bot.commands.help import TOPICS
from bot.models import user_destination

log = logging.getLogger(__name__)

Choice = app_commands.Choice
SCHEDULES = ("instant", "daily@09:00", "weekly@mon@09:00")
AUTOCOMPLETE_SECONDS = 2.5  # Discord drops an autocomplete answer after 3 s
MAX_CHOICES = 25


def opt(name: str, value: object) -> str:
    """` --name value` (value quoted when it has spaces), or "" without a value."""
    if value is None or value == "" or value is False:
        return ""
    if value is True:
        return f" --{name}"
    text = " ".join(str(value).replace('"', "").split())
    return f' --{name} "{text}"' if " " in text else f" --{name} {text}"


def schedule(value: str | None) -> str:
    """The schedule option as core options: `--instant` or `--digest SPEC`."""
    if value and value.strip().lower() == "instant":
        return " --instant"
    return opt("digest", value)


@cache
def timezones() -> tuple[str, ...]:
    """Every IANA time zone name, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def matching(options: list[tuple[str, str]], current: str) -> list[Choice[str]]:
    """Choices (label, value) containing what was typed so far, at most 25."""
    typed = current.lower().strip()
    return [
        Choice(name=label[:100], value=value[:100])
        for label, value in options
        if typed in label.lower()
    ][:MAX_CHOICES]


def build_group(responder: Responder, ids: Ids | None = None) -> app_commands.Group:
    """The /papers group wired to `responder` (and `ids` for autocomplete)."""
    group = app_commands.Group(
        name="papers",
        description="Research papers: search, subscribe, follow",
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )
    run = responder.run

    def id_choices(scope: Literal["channel", "user"], every: str | None = None) -> Any:
        """Ids of the channel's subscriptions (or the user's follows); `every` labels an
        extra first choice `all` (pause/resume act on every subscription of a channel)."""

        async def complete(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
            if ids is None:
                return []
            dest = destination_of(interaction)
            if scope == "user":
                dest = user_destination("discord", dest.workspace, str(interaction.user.id))
            try:
                found = await asyncio.wait_for(ids(dest.tenant, dest), AUTOCOMPLETE_SECONDS)
            except Exception:  # the store is down or slow: offer nothing, log why
                log.warning("autocomplete of ids for %s failed", dest, exc_info=True)
                return []
            options = [(f"{sid} · {query}", sid) for sid, query in found]
            if every and found:
                options.insert(0, (every, "all"))
            return matching(options, current)

        return complete

    async def schedules(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return matching([(s, s) for s in SCHEDULES], current)

    async def zones(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return matching([(z, z) for z in timezones()], current)

    async def topics(interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return matching([(t, t) for t in TOPICS], current)

    @group.command(description="Search the bot's paper index")
    @app_commands.describe(
        query='e.g. "diffusion policy" -survey author:"Chelsea Finn"',
        since="newer than: 7d, 12h, 2w or a date like 2026-01-31",
        until="older than: 7d, 12h, 2w or a date like 2026-01-31",
        sort="ranking (default: relevance)",
        limit="how many papers (default 5)",
        share="show the answer to the whole channel",
    )
    async def search(
        interaction: discord.Interaction,
        query: str,
        since: str | None = None,
        until: str | None = None,
        sort: Literal["relevance", "date", "upvotes"] | None = None,
        limit: app_commands.Range[int, 1, 50] | None = None,
        share: bool = False,
    ) -> None:
        options = opt("since", since) + opt("until", until) + opt("sort", sort)
        await run(interaction, f"search {query}{options}{opt('limit', limit)}{opt('share', share)}")

    @group.command(description="One paper by arXiv id or URL")
    @app_commands.describe(
        id_or_url="2401.12345, an arxiv.org or a huggingface.co/papers URL",
        share="show the answer to the whole channel",
    )
    async def paper(interaction: discord.Interaction, id_or_url: str, share: bool = False) -> None:
        await run(interaction, f"paper {id_or_url}{opt('share', share)}")

    @group.command(description="The most upvoted recent papers")
    @app_commands.describe(
        days="how many days back (default 1)",
        limit="how many papers (default 5)",
        share="show the answer to the whole channel",
    )
    async def trending(
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, 30] | None = None,
        limit: app_commands.Range[int, 1, 50] | None = None,
        share: bool = False,
    ) -> None:
        await run(
            interaction, f"trending{opt('days', days)}{opt('limit', limit)}{opt('share', share)}"
        )

    @group.command(description="What a subscription to QUERY would have posted")
    @app_commands.describe(
        query="the query to try",
        days="how many days back (default 7)",
        share="show the answer to the whole channel",
    )
    async def preview(
        interaction: discord.Interaction,
        query: str,
        days: app_commands.Range[int, 1, 90] | None = None,
        share: bool = False,
    ) -> None:
        await run(interaction, f"preview {query}{opt('days', days)}{opt('share', share)}")

    @group.command(description="Post papers matching QUERY to this channel (Manage Channels)")
    @app_commands.describe(
        query='e.g. "domain generalization" -survey',
        digest="instant (default), daily@HH:MM or weekly@mon@HH:MM",
        tz="time zone of the digest, e.g. Europe/Berlin",
    )
    @app_commands.autocomplete(digest=schedules, tz=zones)
    async def subscribe(
        interaction: discord.Interaction,
        query: str,
        digest: str | None = None,
        tz: str | None = None,
    ) -> None:
        await run(interaction, f"subscribe {query}{schedule(digest)}{opt('tz', tz)}")

    @group.command(description="Get papers matching QUERY by direct message")
    @app_commands.describe(
        query='e.g. author:"Chelsea Finn" or "world models"',
        digest="daily@HH:MM (default: daily), weekly@mon@HH:MM or instant",
        tz="time zone of the digest, e.g. Europe/Berlin",
    )
    @app_commands.autocomplete(digest=schedules, tz=zones)
    async def follow(
        interaction: discord.Interaction,
        query: str,
        digest: str | None = None,
        tz: str | None = None,
    ) -> None:
        await run(interaction, f"follow {query}{schedule(digest)}{opt('tz', tz)}")

    def by_id(
        name: str, description: str, scope: Literal["channel", "user"], every: str | None = None
    ) -> None:
        async def callback(interaction: discord.Interaction, id: str) -> None:
            await run(interaction, f"{name} {' '.join(id.split())}")

        what = "your follow" if scope == "user" else "subscription of this channel"
        callback = app_commands.describe(id=f"the id of the {what}, e.g. s7k2p")(callback)
        command: app_commands.Command[Any, Any, None] = app_commands.Command(
            name=name, description=description, callback=callback
        )
        command.autocomplete("id")(id_choices(scope, every))
        group.add_command(command)

    def plain(name: str, description: str) -> None:
        async def callback(interaction: discord.Interaction) -> None:
            await run(interaction, name)

        group.add_command(
            app_commands.Command(name=name, description=description, callback=callback)
        )

    by_id("unsubscribe", "Stop a subscription of this channel (Manage Channels)", "channel")
    plain("subscriptions", "This channel's subscriptions")

    @group.command(description="Pause a subscription of this channel, or all (Manage Channels)")
    @app_commands.describe(
        id="the id of the subscription of this channel, e.g. s7k2p, or all",
        for_="for how long: 3d, 2w, or until a date like 2026-12-16 (default: until resumed)",
    )
    @app_commands.rename(for_="for")
    @app_commands.autocomplete(id=id_choices("channel", "all · every subscription of this channel"))
    async def pause(interaction: discord.Interaction, id: str, for_: str | None = None) -> None:
        await run(interaction, f"pause {' '.join(id.split())}{opt('for', for_)}")

    by_id(
        "resume",
        "Resume a paused subscription, or all (Manage Channels)",
        "channel",
        "all · every paused subscription of this channel",
    )
    by_id("unfollow", "Stop one of your follows", "user")
    plain("following", "Your follows")
    plain("digest", "Post this channel's pending digest now (Manage Channels)")
    plain("status", "Is the bot working? Last polls, papers, this server's subscriptions")

    @group.command(name="help", description="How to use paperbot")
    @app_commands.describe(topic="a command, or query for the query language")
    @app_commands.autocomplete(topic=topics)
    async def help_(interaction: discord.Interaction, topic: str | None = None) -> None:
        await run(interaction, f"help {topic or ''}".strip())

    return group
