"""The Slack adapter: slack-bolt AsyncApp, Socket Mode or HTTP, Block Kit out.

Thin: a slash command or a button click becomes a core `Command`, scoped by the team
id of the event (one workspace never addresses another's subscriptions), and the
`Reply` becomes Block Kit (adapters/slack_blocks.py). Posting (`send`) needs only
the Web API, so `paperbot run --once` delivers without a socket. Failed posts become
the core's delivery errors (adapters/slack_errors.py).

Two Web API clients share the bot token. The delivery client has no rate-limit
retry handler: a 429 surfaces at once as `RateLimited(Retry-After)` and the outbox
reschedules the post (persisted, paced, and without stalling other channels). The
interactive client (bolt's own calls, `users.info` for admin checks) retries one
429 after Retry-After, since a person is waiting for the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import PermanentDeliveryError
from adapters.slack_blocks import Message, render
from adapters.slack_commands import SlackCommands
from adapters.slack_errors import (
    CALL_ERRORS,
    REFUSED_MESSAGE,
    TRANSPORT_ERRORS,
    delivery_error,
    error_code,
)
from bot.config import ConfigError, SlackSettings
from bot.messages import Command, MessageRef, Reply
from bot.models import Destination

log = logging.getLogger(__name__)

Handle = Callable[[Command], Awaitable[Reply]]
BAD_TOKEN = {"invalid_auth", "not_authed", "token_revoked", "account_inactive"}


class SlackAdapter:
    """Slack for paperbot: `/papers` and card buttons in, posts out."""

    platform = "slack"

    def __init__(self, settings: SlackSettings, handle: Handle) -> None:
        self.settings = settings
        token = settings.bot_token.get_secret_value() if settings.bot_token else None
        self.mode = settings.mode or ("socket" if settings.app_token else "http")
        self.client = AsyncWebClient(token=token, base_url=settings.api_url)
        self.interactive_client = AsyncWebClient(token=token, base_url=settings.api_url)
        self.interactive_client.retry_handlers.append(
            AsyncRateLimitErrorRetryHandler(max_retry_count=1)
        )
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
        self._app = AsyncApp(
            client=self.interactive_client,
            signing_secret=secret,
            request_verification_enabled=self.mode == "http",
        )
        self.commands = SlackCommands(handle, self.interactive_client, settings.admins_only)
        self.commands.register(self._app)
        self._runner: web.AppRunner | None = None
        self._socket: Any = None
        self._team_id: str | None = None
        self._dm_channels: dict[str, str] = {}

    @property
    def app(self) -> AsyncApp:
        """The bolt app (tests dispatch signed requests through it)."""
        return self._app

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Connect by Socket Mode, or serve POST /slack/events on `slack.port`.

        Raises ConfigError when a token or secret is missing or refused by Slack.
        """
        if self.mode == "socket":
            await self._start_socket()
            return
        if self.settings.signing_secret is None:
            raise ConfigError(
                "Slack in HTTP mode needs slack.signing_secret "
                "(or set slack.app_token to use Socket Mode)"
            )
        await self._check_bot_token()
        self._runner = web.AppRunner(
            self._app.web_app(path="/slack/events", port=self.settings.port)
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, port=self.settings.port).start()
        log.info("slack: serving /slack/events on port %d", self.settings.port)

    async def _start_socket(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        if self.settings.app_token is None:
            raise ConfigError("slack.mode = socket needs slack.app_token (xapp-...)")
        app_token = self.settings.app_token.get_secret_value()
        await self._check_bot_token()
        handler: Any = AsyncSocketModeHandler(
            self._app, app_token, web_client=self.interactive_client
        )
        try:  # ask once here, so that a bad app token is a clear error, not a retry loop
            opened = await self.interactive_client.apps_connections_open(app_token=app_token)
            handler.client.wss_uri = str(opened["url"])
        except CALL_ERRORS as exc:
            code = error_code(exc) if isinstance(exc, SlackApiError) else ""
            if code in BAD_TOKEN or code in ("not_allowed_token_type", "missing_scope"):
                await handler.close_async()
                raise ConfigError(
                    f"Slack refused slack.app_token ({code}): it must be an app-level "
                    "token (xapp-...) with the connections:write scope"
                ) from exc
            # Slack unreachable or busy: bolt's client asks again until it connects.
            log.warning("slack: apps.connections.open failed (%s); retrying", code or exc)
        self._socket = handler
        await handler.connect_async()
        log.info("slack: connected by Socket Mode")

    async def _check_bot_token(self) -> None:
        """Learn the workspace of the bot token; a refused token is a ConfigError."""
        try:
            await self._team()
        except SlackApiError as exc:
            if error_code(exc) in BAD_TOKEN:
                raise ConfigError(
                    f"Slack refused slack.bot_token ({error_code(exc)}); "
                    "use the app's Bot User OAuth Token (xoxb-...)"
                ) from exc
            log.warning("slack: auth.test failed (%s); continuing", error_code(exc) or exc)
        except TRANSPORT_ERRORS as exc:
            log.warning("slack: auth.test failed (%s); continuing", exc)

    async def stop(self) -> None:
        """Disconnect and stop serving."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- posts out -------------------------------------------------------------------

    async def _team(self) -> str:
        """The workspace the bot token belongs to (asked once)."""
        if self._team_id is None:
            me = await self.client.auth_test()
            self._team_id = str(me["team_id"])
        return self._team_id

    async def _channel(self, destination: Destination) -> str:
        """The channel id to post to: the channel, or the user's DM (opened once)."""
        team = await self._team()
        if destination.workspace != team:
            raise PermanentDeliveryError(
                f"Slack: this bot token belongs to workspace {team}, not {destination.workspace}"
            )
        if not destination.is_user:
            return destination.channel
        user = destination.channel[1:]
        if user not in self._dm_channels:
            opened = await self.client.conversations_open(users=user)
            self._dm_channels[user] = str(opened["channel"]["id"])
        return self._dm_channels[user]

    async def _post(self, channel: str, message: Message, thread: str | None) -> str:
        """Post one message; should Slack refuse its blocks, its text-only twin."""
        try:
            response = await self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
                thread_ts=thread,
            )
        except SlackApiError as exc:
            if error_code(exc) not in REFUSED_MESSAGE:
                raise
            log.warning("slack: blocks refused (%s); posting text only", error_code(exc))
            response = await self.client.chat_postMessage(
                channel=channel,
                text=message.text_only,
                unfurl_links=False,
                unfurl_media=False,
                thread_ts=thread,
            )
        return str(response["ts"])

    async def send(
        self, destination: Destination, reply: Reply, thread: MessageRef | None = None
    ) -> MessageRef:
        """Post a reply as Block Kit (what exceeds one message goes in its thread).

        With `thread`, every message is a reply in that thread. Returns the first
        message posted. Raises RateLimited, PermanentDeliveryError or DeliveryError.
        """
        first: MessageRef | None = None
        try:
            channel = await self._channel(destination)
            parent = thread.message_id if thread else None
            for message in render(reply):
                ts = await self._post(channel, message, parent)
                first = first or MessageRef(destination, ts)
                parent = parent or ts
        except CALL_ERRORS as exc:
            raise delivery_error(exc) from exc
        assert first is not None  # render() yields at least one message
        return first
