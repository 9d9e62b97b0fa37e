"""The Discord adapter: discord.py Client, /papers app commands, embeds, buttons, DMs.

Thin: interactions become core `Command`s (scoped by guild), `Reply`s become embeds.
The parts: discord_commands.py (the /papers command tree), discord_interactions.py
(defer, ask the core, follow up), discord_buttons.py (persistent buttons),
discord_embeds.py (rendering within Discord's limits), discord_rest.py (posting).

Posting uses discord.py's REST client only (log in, no gateway), so `paperbot run
--once` can deliver; logging in never registers commands, `start` does. discord.py
waits out 429s of up to 30 s itself; longer ones go back to the outbox (RateLimited).
Default intents only: nothing privileged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands

from adapters.base import DeliveryError
from adapters.discord_buttons import buttons_view, paper_button_class
from adapters.discord_commands import build_group
from adapters.discord_interactions import Handle, Ids, Responder
from adapters.discord_rest import Poster, delivery_errors
from bot.config import DiscordSettings
from bot.messages import Card, MessageRef, Reply
from bot.models import Destination

log = logging.getLogger(__name__)

RATE_LIMIT_WAIT_MAX = 30.0  # longer 429s go back to the outbox (discord.py's minimum)


class DiscordAdapter:
    """Discord for paperbot: commands in, posts out."""

    platform = "discord"

    def __init__(self, settings: DiscordSettings, handle: Handle, ids: Ids | None = None) -> None:
        self.settings = settings
        self.handle = handle
        self.ids = ids
        discord.http.Route.BASE = settings.api_url.rstrip("/")
        self.responder = Responder(handle, self.view)
        self.button = paper_button_class(self.responder.run)
        self._login_lock = asyncio.Lock()
        self._build(sharded=settings.shards is not None)

    def _build(self, sharded: bool) -> None:
        options: dict[str, Any] = {
            "intents": discord.Intents.default(),
            "max_ratelimit_timeout": RATE_LIMIT_WAIT_MAX,
        }
        if sharded:
            self.client: discord.Client = discord.AutoShardedClient(
                shard_count=self.settings.shards, **options
            )
        else:
            self.client = discord.Client(**options)
        self.tree = app_commands.CommandTree(self.client)
        self.tree.add_command(build_group(self.responder, self.ids))
        self.client.add_dynamic_items(self.button)
        self.poster = Poster(self.client, self.view)
        self._logged_in = False
        self._connected = False

    @property
    def token(self) -> str:
        """The bot token (DeliveryError when none is configured)."""
        if self.settings.token is None:
            raise DeliveryError("discord.token is not set")
        return self.settings.token.get_secret_value()

    async def _login(self) -> None:
        async with self._login_lock:
            await self._login_once()

    async def _login_once(self) -> None:
        if not self._logged_in:
            await self.client.login(self.token)
            self._logged_in = True

    async def prepare(self) -> None:
        """Log in, shard when Discord recommends it (>= 1,000 guilds), sync /papers."""
        async with self._login_lock:  # no post starts while the client may be replaced
            await self._login_once()
            if not isinstance(self.client, discord.AutoShardedClient):
                try:
                    shards, _, _ = await self.client.http.get_bot_gateway()
                except discord.GatewayNotFound:
                    log.warning("Discord did not say how many shards to use; using one")
                    shards = 1
                if shards > 1:
                    log.info("Discord recommends %d shards: using AutoShardedClient", shards)
                    old = self.client
                    self._build(sharded=True)
                    await old.close()
                    await self._login_once()
        await self.sync()

    async def sync(self) -> None:
        """Register /papers: in `guild_ids` at once (development), else globally."""
        try:
            if self.settings.guild_ids:
                for guild_id in self.settings.guild_ids:
                    guild = discord.Object(id=guild_id)
                    self.tree.copy_global_to(guild=guild)
                    await self.tree.sync(guild=guild)
            else:
                await self.tree.sync()
        except (discord.HTTPException, discord.RateLimited) as exc:
            log.error(
                "could not register /papers (%s); is the bot invited with the "
                "applications.commands scope? Commands registered earlier still work.",
                exc,
            )

    async def start(self) -> None:
        """Log in, sync the commands, and listen on the gateway until stopped."""
        await self.prepare()
        self._connected = True
        await self.client.connect(reconnect=True)

    async def stop(self) -> None:
        """Close the gateway connection and the HTTP session."""
        if isinstance(self.client, discord.AutoShardedClient) and not self._connected:
            await self.client.http.close()  # its close() needs a gateway connection
        else:
            await self.client.close()
        self._logged_in = False

    def view(self, cards: list[Card]) -> discord.ui.View | None:
        """Buttons under the cards of one message."""
        return buttons_view(self.button, cards)

    async def send(
        self, destination: Destination, reply: Reply, thread: MessageRef | None = None
    ) -> MessageRef:
        """Post a reply through the REST API (no gateway needed); see discord_rest.py."""
        async with delivery_errors():
            await self._login()
            return await self.poster.send(destination, reply, thread)
