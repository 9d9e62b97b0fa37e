"""The Slack adapter: slack-bolt AsyncApp, Socket Mode or HTTP, Block Kit out.

Thin: a slash command or a button click becomes a core `Command` (scoped by the team
id of the event: one workspace never addresses another's subscriptions), the `Reply`
becomes Block Kit. Posting (`send`) needs only the Web API, so `paperbot run --once`
can deliver without a socket. Slack errors become the core's delivery errors:
429/`ratelimited` -> RateLimited(Retry-After); a gone channel, a removed bot or a
revoked token -> PermanentDeliveryError (the subscription is paused with the reason);
anything else -> DeliveryError (retried with backoff).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientError, web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.base import DeliveryError, PermanentDeliveryError, RateLimited
from adapters.slack_blocks import ACTION_PREFIX, fallback_text, render
from bot.config import ConfigError, SlackSettings
from bot.messages import Actor, Command, MessageRef, Reply
from bot.models import Destination

log = logging.getLogger(__name__)

Handle = Callable[[Command], Awaitable[Reply]]

PERMANENT = {
    "channel_not_found": "the channel no longer exists or the bot cannot see it",
    "not_in_channel": "the bot is not a member of the channel (invite it with /invite)",
    "is_archived": "the channel is archived",
    "account_inactive": "the bot's account is deactivated",
    "invalid_auth": "the bot token is invalid",
    "token_revoked": "the bot token was revoked (the app was uninstalled)",
    "missing_scope": "the app lacks a permission (reinstall it from the manifest)",
    "user_not_found": "the user no longer exists",
    "cannot_dm_bot": "the user is a bot",
}
SLOW = {"search", "preview", "trending", "similar", "paper"}
BUTTONS = {
    "paperbot_feedback_up": "feedback {} up",
    "paperbot_feedback_down": "feedback {} down",
    "paperbot_similar": "similar {}",
    "paperbot_follow_authors": "follow-authors {}",
}


class SlackAdapter:
    """Slack for paperbot: commands in, posts out."""

    platform = "slack"

    def __init__(self, settings: SlackSettings, handle: Handle) -> None:
        self.settings = settings
        self.handle = handle
        token = settings.bot_token.get_secret_value() if settings.bot_token else None
        self.client = AsyncWebClient(token=token, base_url=settings.api_url)
        self.mode = settings.mode or ("socket" if settings.app_token else "http")
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret,
            request_verification_enabled=self.mode == "http",
        )
        self.app.command("/papers")(self._on_command)
        self.app.action(re.compile(f"^{ACTION_PREFIX}"))(self._on_action)
        self._runner: web.AppRunner | None = None
        self._socket: Any = None
        self._dm_channels: dict[str, str] = {}
        self._team_id: str | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Connect by Socket Mode, or serve /slack/events on `slack.port`."""
        if self.mode == "socket":
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            if self.settings.app_token is None:
                raise ConfigError("slack.mode = socket needs slack.app_token (xapp-...)")
            self._socket = AsyncSocketModeHandler(
                self.app, self.settings.app_token.get_secret_value(), web_client=self.client
            )
            await self._socket.connect_async()
            log.info("slack: connected by Socket Mode")
            return
        if self.settings.signing_secret is None:
            raise ConfigError(
                "Slack in HTTP mode needs slack.signing_secret "
                "(or set slack.app_token to use Socket Mode)"
            )
        self._runner = web.AppRunner(
            self.app.web_app(path="/slack/events", port=self.settings.port)
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, port=self.settings.port).start()
        log.info("slack: serving /slack/events on port %d", self.settings.port)

    async def stop(self) -> None:
        """Disconnect and stop serving."""
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- commands in -----------------------------------------------------------------

    async def _actor(self, user_id: str, name: str | None) -> Actor:
        if not self.settings.admins_only:
            return Actor(user=user_id, is_admin=True, name=name)
        try:
            info = await self.client.users_info(user=user_id)
            user = info.get("user") or {}
            admin = bool(user.get("is_admin") or user.get("is_owner"))
        except SlackApiError:
            admin = False
        return Actor(user=user_id, is_admin=admin, name=name)

    async def _on_command(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        text = (body.get("text") or "").strip()
        name = text.split(maxsplit=1)[0].lower() if text else "help"
        if name in SLOW:
            await ack(response_type="ephemeral", text="Searching…")
        else:
            await ack()
        command = Command(
            text=text,
            destination=Destination("slack", body["team_id"], body["channel_id"]),
            actor=await self._actor(body["user_id"], body.get("user_name")),
        )
        await self._respond(respond, await self.handle(command))

    async def _on_action(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        await ack()
        template = BUTTONS.get(action.get("action_id", ""))
        if template is None:  # link buttons open in the browser: nothing to do
            return
        team = (body.get("team") or {}).get("id") or body["user"]["team_id"]
        channel = (body.get("channel") or {}).get("id") or f"@{body['user']['id']}"
        user = body["user"]
        command = Command(
            text=template.format(action.get("value", "")),
            destination=Destination("slack", team, channel),
            actor=await self._actor(user["id"], user.get("username") or user.get("name")),
        )
        reply = await self.handle(command)
        await self._respond(respond, reply, force_ephemeral=True)

    async def _respond(self, respond: Any, reply: Reply, force_ephemeral: bool = False) -> None:
        messages = render(reply)
        kind = "ephemeral" if reply.ephemeral or force_ephemeral else "in_channel"
        for blocks in messages:
            await respond(
                text=fallback_text(reply), blocks=blocks, response_type=kind, replace_original=False
            )

    # -- posts out -------------------------------------------------------------------

    async def _team(self) -> str:
        """The workspace the bot token belongs to (asked once)."""
        if self._team_id is None:
            me = await self.client.auth_test()
            self._team_id = str(me["team_id"])
        return self._team_id

    async def _channel(self, destination: Destination) -> str:
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
            self._dm_channels[user] = opened["channel"]["id"]
        return self._dm_channels[user]

    async def send(
        self, destination: Destination, reply: Reply, thread: MessageRef | None = None
    ) -> MessageRef:
        """Post a reply (cards over one message's limits go in its thread)."""
        try:
            channel = await self._channel(destination)
            first: MessageRef | None = thread
            for blocks in render(reply):
                response = await self.client.chat_postMessage(
                    channel=channel,
                    text=fallback_text(reply),
                    blocks=blocks,
                    unfurl_links=False,
                    unfurl_media=False,
                    thread_ts=first.message_id if first else None,
                )
                first = first or MessageRef(destination, str(response["ts"]))
        except SlackApiError as exc:
            raise _delivery_error(exc) from exc
        except (ClientError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"slack: {type(exc).__name__}: {exc}") from exc
        assert first is not None
        return first


def _delivery_error(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    status = getattr(response, "status_code", 0)
    error = response.get("error", "") if hasattr(response, "get") else ""
    if status == 429 or error == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        retry = headers.get("Retry-After") or headers.get("retry-after") or "1"
        try:
            seconds = float(retry)
        except ValueError:
            seconds = 1.0
        return RateLimited(seconds, f"slack: {error or 'HTTP 429'}")
    if error in PERMANENT:
        return PermanentDeliveryError(f"Slack: {PERMANENT[error]} ({error})")
    return DeliveryError(f"slack: {error or f'HTTP {status}'}")
