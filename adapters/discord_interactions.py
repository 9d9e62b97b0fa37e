"""Interactions -> the core's command text -> answers by follow-up.

`Responder` defers every interaction at once (Discord wants an answer within 3 s),
asks the core and answers with follow-ups. It guesses the visibility when deferring
(private unless `share`, or a channel change by someone allowed to make it) and, when
the core's `Reply.ephemeral` says otherwise, resolves the deferred message and posts
the answer with the right visibility (Discord cannot change a deferred message's).

Changing a channel (subscribe, unsubscribe, pause, resume, digest) needs Manage
Channels. Discord applies `default_permissions` only to a whole top-level command,
and on `/papers` it would hide search from everyone else, so the permission is read
from every interaction instead (`interaction.permissions` -> `Actor.is_admin`) and
the core refuses the change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from adapters.discord_embeds import Message, render
from bot.commands.args import ArgError, parse_args
from bot.messages import Actor, Card, Command, Reply, error
from bot.models import Destination, Tenant, user_destination

log = logging.getLogger(__name__)

Handle = Callable[[Command], Awaitable[Reply]]
Ids = Callable[[Tenant, Destination], Awaitable[list[tuple[str, str]]]]
Views = Callable[[list[Card]], discord.ui.View | None]

SHOWN_CHANGES = frozenset({"subscribe", "unsubscribe", "pause", "resume"})
DM_WORKSPACE = "dm"
PRIVATE_NOTE = "Only you can see the answer."
SHARED_NOTE = "Shared in the channel."


def destination_of(interaction: discord.Interaction) -> Destination:
    """Where an interaction happened: guild and channel (in a DM: `dm` and the user)."""
    if interaction.guild_id is None:
        return user_destination("discord", DM_WORKSPACE, str(interaction.user.id))
    return Destination("discord", str(interaction.guild_id), str(interaction.channel_id))


def command_of(interaction: discord.Interaction, text: str) -> Command:
    """The core command of an interaction; Manage Channels there makes an admin."""
    in_guild = interaction.guild_id is not None
    return Command(
        text=text,
        destination=destination_of(interaction),
        actor=Actor(
            user=str(interaction.user.id),
            is_admin=bool(interaction.permissions.manage_channels) if in_guild else True,
            name=interaction.user.display_name,
        ),
    )


def expects_private(command: Command) -> bool:
    """Whether the core will answer privately (the guess made when deferring)."""
    try:
        args = parse_args(command.text)
    except ArgError:
        return True  # the core answers with an error, privately
    if "share" in args.flags:
        return False
    return not (args.name in SHOWN_CHANGES and command.actor.is_admin)


def message_kwargs(message: Message, views: Views) -> dict[str, Any]:
    """Keyword arguments of discord.py's send for one rendered message."""
    kwargs: dict[str, Any] = {
        "embeds": message.embeds,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if message.content:
        kwargs["content"] = message.content
    view = views(message.cards) if message.cards else None
    if view is not None:
        kwargs["view"] = view
    return kwargs


class Responder:
    """Answers interactions for the core: defer, handle, follow up."""

    def __init__(self, handle: Handle, views: Views) -> None:
        self.handle = handle
        self.views = views

    async def run(
        self, interaction: discord.Interaction, text: str, private: bool | None = None
    ) -> None:
        """Defer at once, ask the core `text`, and answer (`private` forces ephemeral).

        In the bot's DMs answers are never ephemeral: a DM is private anyway, and
        ephemeral messages would vanish from it.
        """
        command = command_of(interaction, text)
        if interaction.guild_id is None:
            ephemeral = False
        else:
            ephemeral = expects_private(command) if private is None else private
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        try:
            reply = await self.handle(command)
        except Exception:  # the core answers every error itself; this is a bug
            log.exception("the core failed on %r", command.text)
            reply = error("Something went wrong on our side; it has been logged.")
        await self.answer(interaction, reply, ephemeral)

    async def answer(
        self, interaction: discord.Interaction, reply: Reply, deferred_ephemeral: bool
    ) -> None:
        """Answer a deferred interaction with the messages of `reply`.

        The first follow-up after a deferral keeps the deferral's visibility, so when
        the reply wants the other one the deferred message is resolved first with a
        short note (and deleted afterwards when the channel must not see it).
        """
        messages = render(reply) or [Message(content="Done.")]
        ephemeral = reply.ephemeral if interaction.guild_id is not None else deferred_ephemeral
        if ephemeral != deferred_ephemeral:
            note = PRIVATE_NOTE if ephemeral else SHARED_NOTE
            try:
                await interaction.edit_original_response(content=note)
            except discord.HTTPException:
                log.warning("could not resolve a deferred interaction", exc_info=True)
                ephemeral = deferred_ephemeral
        for message in messages:
            kwargs = message_kwargs(message, self.views)
            await interaction.followup.send(ephemeral=ephemeral, **kwargs)
        if ephemeral and not deferred_ephemeral:
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                log.warning("could not delete a resolved deferral", exc_info=True)
