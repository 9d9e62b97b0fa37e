"""The Discord adapter: discord.py Client, /papers app commands, embeds, buttons, DMs.

Thin: interactions become core `Command`s (scoped by guild), `Reply`s become embeds.
Posting uses discord.py's REST client only (`login`, no gateway), so `paperbot run
--once` can deliver. Every message carries `AllowedMentions.none()`. discord.py waits
out 429s itself; what still fails becomes the core's delivery errors: 403 (Missing
Access / Permissions) and 404 (Unknown Channel) -> PermanentDeliveryError, 5xx and
connection errors -> DeliveryError.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord
from discord import app_commands

from adapters.base import DeliveryError, PermanentDeliveryError, RateLimited
from adapters.discord_commands import Choices, Handle, build_group, command_of
from adapters.discord_embeds import Message, cut, render
from bot.config import DiscordSettings
from bot.messages import Card, MessageRef, Reply
from bot.models import Destination

log = logging.getLogger(__name__)

ACTIONS = {
    "up": ("👍", "feedback {} up"),
    "down": ("👎", "feedback {} down"),
    "similar": ("Similar", "similar {}"),
    "follow_authors": ("Follow authors", "follow-authors {}"),
}
CUSTOM_ID = re.compile(r"paperbot:(?P<action>up|down|similar|follow_authors):(?P<paper>.+)")
PERMANENT_CODES = {
    50001: "the bot has no access to the channel (Missing Access)",
    50013: "the bot lacks a permission there (Missing Permissions)",
    10003: "the channel no longer exists (Unknown Channel)",
    50007: "the user does not accept direct messages",
}


def paper_button_class(handle: Handle, answer: Callable[..., Awaitable[None]]) -> type[Any]:
    """A persistent button class (custom_id `paperbot:ACTION:PAPER`) bound to the core."""

    class PaperButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID.pattern):
        def __init__(self, action: str, paper: str, row: int | None = None) -> None:
            label = ACTIONS[action][0]
            super().__init__(
                discord.ui.Button(label=label, custom_id=f"paperbot:{action}:{paper}", row=row)
            )
            self.action, self.paper = action, paper

        @classmethod
        async def from_custom_id(
            cls,
            interaction: discord.Interaction,
            item: discord.ui.Item[Any],
            match: re.Match[str],
        ) -> PaperButton:
            return cls(match["action"], match["paper"], item.row)

        async def callback(self, interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            text = ACTIONS[self.action][1].format(self.paper)
            await answer(interaction, await handle(command_of(interaction, text)), True)

    return PaperButton


class DiscordAdapter:
    """Discord for paperbot: commands in, posts out."""

    platform = "discord"

    def __init__(
        self, settings: DiscordSettings, handle: Handle, choices: Choices | None = None
    ) -> None:
        self.settings = settings
        self.handle = handle
        discord.http.Route.BASE = settings.api_url.rstrip("/")
        intents = discord.Intents.default()
        if settings.shards:
            self.client: discord.Client = discord.AutoShardedClient(
                intents=intents, shard_count=settings.shards
            )
        else:
            self.client = discord.Client(intents=intents)
        self.tree = app_commands.CommandTree(self.client)
        self.tree.add_command(build_group(handle, self.answer, choices))
        self.button = paper_button_class(handle, self.answer)
        self.client.add_dynamic_items(self.button)
        self.client.setup_hook = self._sync  # type: ignore[method-assign]
        self._dm: dict[str, int] = {}
        self._forum: dict[int, bool] = {}

    @property
    def token(self) -> str:
        assert self.settings.token is not None, "discord.token is not set"
        return self.settings.token.get_secret_value()

    async def _sync(self) -> None:
        if self.settings.guild_ids:
            for guild_id in self.settings.guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def start(self) -> None:
        """Log in, sync the commands, and listen on the gateway until stopped."""
        await self.client.start(self.token)

    async def stop(self) -> None:
        """Close the gateway connection and the HTTP session."""
        await self.client.close()

    def view(self, cards: list[Card]) -> discord.ui.View | None:
        """Buttons under the cards of one message: one row per card (at most 5)."""
        view = discord.ui.View(timeout=None)
        for row, card in enumerate(cards[:5]):
            for action in ACTIONS:
                if len(f"paperbot:{action}:{card.paper_id}") <= 100:
                    view.add_item(self.button(action, card.paper_id, row))
        return view if view.children else None

    async def answer(self, interaction: discord.Interaction, reply: Reply, ephemeral: bool) -> None:
        """Answer a deferred interaction with the reply's messages."""
        for message in render(reply):
            if not message.content and not message.embeds:
                continue
            kwargs: dict[str, Any] = {
                "embeds": message.embeds,
                "ephemeral": ephemeral,
                "allowed_mentions": discord.AllowedMentions.none(),
            }
            view = self.view(message.cards) if message.cards else None
            if view is not None:
                kwargs["view"] = view
            await interaction.followup.send(message.content or "", **kwargs)

    async def _channel_id(self, destination: Destination) -> int:
        if not destination.is_user:
            return int(destination.channel)
        user = destination.channel[1:]
        if user not in self._dm:
            data = await self.client.http.start_private_message(int(user))
            self._dm[user] = int(data["id"])
        return self._dm[user]

    async def send(
        self, destination: Destination, reply: Reply, thread: MessageRef | None = None
    ) -> MessageRef:
        """Post a reply through the REST API (no gateway needed); overflow -> more messages.

        In a forum channel every post opens a thread of its own (named after the post).
        """
        try:
            if self.client.http.token is None:
                await self.client.login(self.token)
            channel_id = await self._channel_id(destination)
            target: discord.abc.Messageable = self.client.get_partial_messageable(channel_id)
            first: MessageRef | None = None
            for message in render(reply):
                if not message.content and not message.embeds:
                    continue
                if first is None and not destination.is_user and await self._is_forum(channel_id):
                    opened = await self._open_forum_thread(channel_id, reply, message)
                    target, sent = opened.thread, opened.message
                else:
                    sent = await self._post(target, message)
                first = first or MessageRef(destination, str(sent.id))
        except discord.HTTPException as exc:
            raise _delivery_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"discord: {type(exc).__name__}: {exc}") from exc
        if first is None:
            raise DeliveryError("discord: nothing to post")
        return first

    async def _is_forum(self, channel_id: int) -> bool:
        if channel_id not in self._forum:
            channel = await self.client.fetch_channel(channel_id)
            self._forum[channel_id] = isinstance(channel, discord.ForumChannel)
        return self._forum[channel_id]

    async def _open_forum_thread(
        self, channel_id: int, reply: Reply, message: Message
    ) -> discord.channel.ThreadWithMessage:
        forum = await self.client.fetch_channel(channel_id)
        assert isinstance(forum, discord.ForumChannel)
        name = reply.text or (reply.cards[0].title if reply.cards else "papers")
        return await forum.create_thread(
            name=cut(name, 100), content=message.content or None, **self._message_kwargs(message)
        )

    def _message_kwargs(self, message: Message) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "embeds": message.embeds,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        view = self.view(message.cards) if message.cards else None
        if view is not None:
            kwargs["view"] = view
        return kwargs

    async def _post(self, channel: discord.abc.Messageable, message: Message) -> discord.Message:
        return await channel.send(message.content, **self._message_kwargs(message))


def _delivery_error(exc: discord.HTTPException) -> DeliveryError:
    if exc.code in PERMANENT_CODES or isinstance(exc, discord.Forbidden | discord.NotFound):
        reason = PERMANENT_CODES.get(exc.code, f"HTTP {exc.status}: {exc.text}")
        return PermanentDeliveryError(f"Discord: {reason}")
    if exc.status == 429:  # discord.py retries 429s itself; this one got through
        try:
            retry = float(exc.response.headers.get("Retry-After", "1"))
        except (AttributeError, ValueError):
            retry = 1.0
        return RateLimited(retry, "discord: 429")
    return DeliveryError(f"discord: HTTP {exc.status} {exc.text}")
