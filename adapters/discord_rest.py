"""Posting through discord.py's REST client: channels, DMs, threads, forum posts.

`Poster` needs a logged-in client, never a gateway connection. A reply too big for
one message continues in a thread on its first message (`thread` given: in that
thread), or after it where threads are impossible (DMs, a thread, no Create Public
Threads permission). A forum channel gets one post (a thread) per reply. Follows go
to the user's DM channel. `delivery_errors` turns what fails into the core's errors:
403 (Missing Access / Permissions) and 404 (Unknown Channel) ->
PermanentDeliveryError with a human reason, 429 -> RateLimited, 5xx and connection
errors -> DeliveryError.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import discord

from adapters.base import DeliveryError, PermanentDeliveryError, RateLimited
from adapters.discord_embeds import Message, cut, render
from adapters.discord_interactions import Views, message_kwargs
from bot.messages import MessageRef, Reply
from bot.models import Destination

log = logging.getLogger(__name__)

PASSING = (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError)

THREAD_NAME_MAX = 100
REMEMBERED = 1024  # threads and thread names kept per process
THREAD_EXISTS = 160004
PERMANENT_CODES = {
    50001: "the bot has no access to the channel (Missing Access)",
    50013: "the bot lacks a permission there (Missing Permissions)",
    10003: "the channel no longer exists (Unknown Channel)",
    10013: "the user no longer exists (Unknown User)",
    50007: "the user does not accept direct messages from the bot",
}


def _remember(memory: OrderedDict[int, Any], key: int, value: Any) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > REMEMBERED:
        memory.popitem(last=False)


def thread_name(reply: Reply) -> str:
    """A thread's name: the reply's text, else its first paper's title."""
    text = reply.text or (reply.cards[0].title if reply.cards else "")
    return cut(" ".join(text.split()), THREAD_NAME_MAX) or "papers"


@asynccontextmanager
async def delivery_errors() -> AsyncIterator[None]:
    """Raise what goes wrong inside as the core's delivery errors."""
    try:
        yield
    except discord.HTTPException as exc:
        raise _delivery_error(exc) from exc
    except discord.RateLimited as exc:
        raise RateLimited(exc.retry_after, "discord: 429") from exc
    except discord.LoginFailure as exc:
        raise DeliveryError("discord: the bot token was refused (401)") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"discord: {type(exc).__name__}: {exc}") from exc


class Poster:
    """Posts replies with one logged-in client; remembers DM channels and threads."""

    def __init__(self, client: discord.Client, views: Views) -> None:
        self.client = client
        self.views = views
        self._dm: dict[str, int] = {}
        self._channels: dict[int, discord.abc.GuildChannel | discord.Thread] = {}
        self._threads: OrderedDict[int, int] = OrderedDict()  # message -> channel to post in
        self._names: OrderedDict[int, str] = OrderedDict()  # message -> its thread's name

    async def send(
        self, destination: Destination, reply: Reply, thread: MessageRef | None = None
    ) -> MessageRef:
        """Post `reply`; raises discord.py's exceptions (see `delivery_errors`).

        Once the first message is posted, a failing overflow message is logged, not
        raised: raising would have the outbox post the first one twice.
        """
        messages = render(reply)
        if not messages:
            raise DeliveryError("discord: the reply is empty")
        channel_id = await self._channel_id(destination)
        if thread is None:
            return await self._post_new(destination, channel_id, reply, messages)
        target = await self._thread_of(destination, channel_id, thread)
        sent = await self._post(target, messages[0])
        await self._overflow(target, messages[1:])
        return MessageRef(destination, str(sent.id))

    async def _post_new(
        self, destination: Destination, channel_id: int, reply: Reply, messages: list[Message]
    ) -> MessageRef:
        channel = await self._channel(destination, channel_id)
        name = thread_name(reply)
        if isinstance(channel, discord.ForumChannel):
            opened = await channel.create_thread(
                name=name, **message_kwargs(messages[0], self.views)
            )
            first, target = opened.message, opened.thread.id
            _remember(self._threads, first.id, target)
        else:
            first = await self._post(channel_id, messages[0])
            _remember(self._names, first.id, name)
        ref = MessageRef(destination, str(first.id))
        if len(messages) > 1:
            try:
                target = await self._thread_of(destination, channel_id, ref)
            except PASSING:
                log.warning("could not open a thread for the overflow", exc_info=True)
                target = channel_id
            await self._overflow(target, messages[1:])
        return ref

    async def _overflow(self, target: int, messages: list[Message]) -> None:
        try:
            for message in messages:
                await self._post(target, message)
        except PASSING:
            log.error("lost %d overflow messages to %s", len(messages), target, exc_info=True)

    async def _post(self, channel_id: int, message: Message) -> discord.Message:
        target = self.client.get_partial_messageable(channel_id)
        return await target.send(**message_kwargs(message, self.views))

    async def _channel_id(self, destination: Destination) -> int:
        """The channel to post in: the channel itself, or the user's DM channel."""
        if not destination.is_user:
            if not destination.channel.isdigit():
                raise PermanentDeliveryError(
                    f"Discord: {destination.channel!r} is not a channel id (a number)"
                )
            return int(destination.channel)
        user = destination.channel[1:]
        if not user.isdigit():
            raise PermanentDeliveryError(f"Discord: {user!r} is not a user id (a number)")
        if user not in self._dm:
            data = await self.client.http.start_private_message(int(user))
            self._dm[user] = int(data["id"])
        return self._dm[user]

    async def _channel(
        self, destination: Destination, channel_id: int
    ) -> discord.abc.GuildChannel | discord.Thread | None:
        """The channel (fetched once): is it a forum, is it in the destination's guild?"""
        if destination.is_user:
            return None
        if channel_id not in self._channels:
            channel = await self.client.fetch_channel(channel_id)
            if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
                return None
            if str(channel.guild.id) != destination.workspace:
                raise PermanentDeliveryError(
                    f"Discord: channel {channel_id} is in server {channel.guild.id}, "
                    f"not {destination.workspace}"
                )
            self._channels[channel_id] = channel
        return self._channels[channel_id]

    async def _thread_of(self, destination: Destination, channel_id: int, ref: MessageRef) -> int:
        """The channel where follow-ups of `ref` go: a thread on it where possible."""
        message_id = int(ref.message_id)
        if message_id in self._threads:
            return self._threads[message_id]
        target = channel_id
        channel = await self._channel(destination, channel_id)
        if isinstance(channel, discord.ForumChannel):
            target = message_id  # a forum post's thread has the id of its first message
        elif channel is not None:
            name = self._names.get(message_id) or "More papers"
            try:
                await self.client.http.start_thread_with_message(
                    channel_id, message_id, name=name, auto_archive_duration=1440
                )
                target = message_id  # a thread on a message has the message's id
            except discord.HTTPException as exc:
                if exc.code == THREAD_EXISTS:
                    target = message_id
                elif exc.status in (400, 403, 404):  # no threads here: post after it
                    log.info("no thread on %s in %s: %s", message_id, channel_id, exc.text)
                else:
                    raise
        _remember(self._threads, message_id, target)
        return target


def _delivery_error(exc: discord.HTTPException) -> DeliveryError:
    if exc.code in PERMANENT_CODES or isinstance(exc, discord.Forbidden | discord.NotFound):
        reason = PERMANENT_CODES.get(exc.code) or f"HTTP {exc.status} {exc.text}".strip()
        return PermanentDeliveryError(f"Discord: {reason}")
    if exc.status == 429:  # discord.py waits out 429s itself; this one got through
        try:
            retry = float(exc.response.headers.get("Retry-After", "5"))
        except (AttributeError, TypeError, ValueError):
            retry = 5.0
        return RateLimited(retry, "discord: 429")
    if exc.status == 401:
        return DeliveryError("discord: the bot token was refused (401)")
    return DeliveryError(f"discord: HTTP {exc.status} {exc.text}".strip())
