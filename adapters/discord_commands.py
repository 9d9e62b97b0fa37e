"""The /papers app-command group: typed options -> the core's command text.

Every subcommand defers at once (Discord wants an answer within 3 s), asks the core,
and answers with a follow-up. Searches are ephemeral unless `share`; changes to a
channel's subscriptions are visible. Changing a channel needs Manage Channels,
checked on every call (`Actor.is_admin`) because Discord only allows default
permissions on a whole command group.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import discord
from discord import app_commands

from bot.messages import Actor, Command, Reply
from bot.models import Destination

Handle = Callable[[Command], Awaitable[Reply]]
Choices = Callable[[Destination, Destination], Awaitable[list[tuple[str, str]]]]
Answer = Callable[[discord.Interaction, Reply, bool], Awaitable[None]]

VISIBLE = {"subscribe", "unsubscribe", "pause", "resume", "digest"}


def destination_of(interaction: discord.Interaction) -> Destination:
    """Where an interaction happened: guild and channel (a DM: `dm` and the user)."""
    if interaction.guild_id is None:
        return Destination("discord", "dm", f"@{interaction.user.id}")
    return Destination("discord", str(interaction.guild_id), str(interaction.channel_id))


def command_of(interaction: discord.Interaction, text: str) -> Command:
    """The core command of an interaction."""
    permissions = interaction.permissions
    return Command(
        text=text,
        destination=destination_of(interaction),
        actor=Actor(
            user=str(interaction.user.id),
            is_admin=bool(permissions.manage_channels) if interaction.guild_id else True,
            name=interaction.user.name,
        ),
    )


def _opt(name: str, value: object) -> str:
    return f" --{name} {value}" if value not in (None, "") else ""


def build_group(handle: Handle, answer: Answer, choices: Choices | None) -> app_commands.Group:
    """The /papers group wired to `handle`."""
    group = app_commands.Group(
        name="papers", description="Research papers: search, subscribe, follow"
    )

    async def run(interaction: discord.Interaction, text: str, ephemeral: bool) -> None:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        reply = await handle(command_of(interaction, text))
        await answer(interaction, reply, ephemeral)

    async def ids(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        if choices is None:
            return []
        where = destination_of(interaction)
        me = Destination("discord", where.workspace, f"@{interaction.user.id}")
        found = await choices(where, me)
        return [
            app_commands.Choice(name=f"{sid} · {label}"[:100], value=sid)
            for sid, label in found
            if current.lower() in f"{sid} {label}".lower()
        ][:25]

    @group.command(description="Search the bot's paper index")
    @app_commands.describe(
        query='e.g. "diffusion policy" -survey',
        since="7d, 12h or 2026-01-31",
        sort="ranking",
        limit="1 to 50",
        share="show the answer to the channel",
    )
    async def search(
        interaction: discord.Interaction,
        query: str,
        since: str | None = None,
        sort: Literal["relevance", "date", "upvotes"] | None = None,
        limit: app_commands.Range[int, 1, 50] | None = None,
        share: bool = False,
    ) -> None:
        text = f"search {query}{_opt('since', since)}{_opt('sort', sort)}{_opt('limit', limit)}"
        await run(interaction, text + (" --share" if share else ""), not share)

    @group.command(description="What a subscription to QUERY would have posted")
    @app_commands.describe(query="the query to try", days="how many days back (1-90)")
    async def preview(
        interaction: discord.Interaction,
        query: str,
        days: app_commands.Range[int, 1, 90] | None = None,
        share: bool = False,
    ) -> None:
        text = f"preview {query}{_opt('days', days)}" + (" --share" if share else "")
        await run(interaction, text, not share)

    @group.command(description="The most upvoted recent papers")
    async def trending(
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, 30] | None = None,
        share: bool = False,
    ) -> None:
        await run(
            interaction, f"trending{_opt('days', days)}" + (" --share" if share else ""), not share
        )

    @group.command(description="One paper by arXiv id or URL")
    async def paper(interaction: discord.Interaction, id_or_url: str, share: bool = False) -> None:
        await run(interaction, f"paper {id_or_url}" + (" --share" if share else ""), not share)

    @group.command(description="Post papers matching QUERY to this channel (Manage Channels)")
    @app_commands.describe(
        query='e.g. "domain generalization" -survey',
        digest="daily@HH:MM or weekly@mon@HH:MM (default: instant)",
        tz="time zone, e.g. Europe/Berlin",
    )
    async def subscribe(
        interaction: discord.Interaction,
        query: str,
        digest: str | None = None,
        tz: str | None = None,
    ) -> None:
        await run(interaction, f"subscribe {query}{_opt('digest', digest)}{_opt('tz', tz)}", False)

    @group.command(description="Follow QUERY by direct message (daily digest by default)")
    async def follow(
        interaction: discord.Interaction,
        query: str,
        digest: str | None = None,
        tz: str | None = None,
    ) -> None:
        await run(interaction, f"follow {query}{_opt('digest', digest)}{_opt('tz', tz)}", True)

    def by_id(name: str, description: str) -> None:
        async def callback(interaction: discord.Interaction, id: str) -> None:
            await run(interaction, f"{name} {id}", name not in VISIBLE)

        command: app_commands.Command[Any, Any, None] = app_commands.Command(
            name=name, description=description, callback=callback
        )
        command.autocomplete("id")(ids)
        group.add_command(command)

    by_id("unsubscribe", "Stop a subscription of this channel (Manage Channels)")
    by_id("pause", "Pause a subscription of this channel (Manage Channels)")
    by_id("resume", "Resume a paused subscription (Manage Channels)")
    by_id("unfollow", "Stop one of your follows")

    def plain(name: str, description: str) -> None:
        async def callback(interaction: discord.Interaction) -> None:
            await run(interaction, name, name not in VISIBLE)

        group.add_command(
            app_commands.Command(name=name, description=description, callback=callback)
        )

    plain("subscriptions", "This channel's subscriptions")
    plain("following", "Your follows")
    plain("digest", "Send this channel's pending digest now (Manage Channels)")

    @group.command(name="help", description="How to use paperbot")
    async def help_(interaction: discord.Interaction, topic: str | None = None) -> None:
        await run(interaction, f"help {topic or ''}".strip(), True)

    return group
