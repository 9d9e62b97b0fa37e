"""Slack events in: `/papers ...`, card buttons and direct messages -> core Commands.

A command is acknowledged at once (Slack allows 3 s): slow ones with an ephemeral
"Searching…", the others silently; the core's answer then goes to the event's
response_url, ephemeral or in channel as the Reply says. A button click becomes the
command it stands for (`feedback ID up`, `similar ID`, ...) and is answered
ephemerally. A direct message to the bot (its Messages tab) is read as a command
without the `/papers` (`search diffusion`, `following`), answered in that DM; its
Home tab shows the person's follows and the help, published when they open it. The
workspace of every Command is the team id of its event.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_blocks import ACTION_PREFIX, render
from adapters.slack_errors import CALL_ERRORS, TRANSPORT_ERRORS
from bot.messages import Actor, Command, Reply, error
from bot.models import Destination

log = logging.getLogger(__name__)

Handle = Callable[[Command], Awaitable[Reply]]

# Commands that may take a while: acknowledged with an ephemeral note at once.
SLOW = {
    "search": "Searching…",
    "similar": "Searching…",
    "preview": "Previewing…",
    "trending": "Looking up trending papers…",
    "paper": "Looking up the paper…",
    "subscribe": "Subscribing…",
    "follow": "Following…",
}
BUTTONS = {
    "paperbot_feedback_up": "feedback {} up",
    "paperbot_feedback_down": "feedback {} down",
    "paperbot_similar": "similar {}",
    "paperbot_follow_authors": "follow-authors {}",
}
MAX_RESPONSES = 5  # Slack takes at most 5 posts to one response_url
HOME_BLOCKS = 100  # Slack's limit for a Home tab view
PROFILE_TTL = 300.0  # seconds a users.info answer (admin, time zone) is remembered
FOLLOWS = ("follow", "follow-authors")  # commands that default to the person's time zone
_LINK = re.compile(r"<(https?:[^|>]+)(?:\|[^>]*)?>")


def command_text(text: str) -> str:
    """The command as typed: Slack's link markup unwrapped, its entities decoded."""
    text = _LINK.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


class SlackCommands:
    """The bolt listeners of `/papers` and of the card buttons."""

    def __init__(self, handle: Handle, client: AsyncWebClient, admins_only: bool) -> None:
        self.handle = handle
        self.client = client
        self.admins_only = admins_only
        self._profiles: dict[tuple[str, str], tuple[bool, str | None, float]] = {}

    def register(self, app: AsyncApp) -> None:
        """Attach the listeners to a bolt app."""
        app.command("/papers")(self.on_command)
        app.action(re.compile(f"^{ACTION_PREFIX}"))(self.on_action)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)

    async def actor(self, team: str, user: str, name: str | None, text: str) -> Actor:
        """The person behind the command `text`: admin per users.info with
        `admins_only`, and their own time zone for a follow (a DM digest at 09:00
        is 09:00 where they are). users.info is asked only then, and remembered."""
        words = text.split(maxsplit=1)
        wants_zone = bool(words) and words[0].lower() in FOLLOWS
        if not self.admins_only and not wants_zone:
            return Actor(user=user, is_admin=True, name=name)
        cached = self._profiles.get((team, user))
        if cached is None or cached[2] <= time.monotonic():
            try:
                info = await self.client.users_info(user=user)
            except CALL_ERRORS as exc:
                log.warning("slack: users.info failed for %s (%s); not an admin", user, exc)
                return Actor(user=user, is_admin=not self.admins_only, name=name)
            member = info.get("user") or {}
            admin = any(member.get(k) for k in ("is_admin", "is_owner", "is_primary_owner"))
            zone = member.get("tz") if isinstance(member.get("tz"), str) else None
            cached = (admin, zone, time.monotonic() + PROFILE_TTL)
            self._profiles[(team, user)] = cached
        admin, zone, _ = cached
        return Actor(user=user, is_admin=admin or not self.admins_only, name=name, timezone=zone)

    async def run(self, command: Command) -> Reply:
        """The core's answer (an error reply should the core ever raise)."""
        try:
            return await self.handle(command)
        except Exception:
            log.exception("slack: command %r failed", command.text)
            return error("Something went wrong on our side; it has been logged.")

    async def on_command(self, ack: Any, body: dict[str, Any], respond: Any) -> None:
        """`/papers <text>`: ack, build the Command, answer by response_url."""
        text = command_text(str(body.get("text") or ""))
        name = text.split(maxsplit=1)[0].lower() if text else "help"
        if name in SLOW:
            await ack(response_type="ephemeral", text=SLOW[name])
        else:
            await ack()
        team = str(body["team_id"])
        command = Command(
            text=text,
            destination=Destination("slack", team, str(body["channel_id"])),
            actor=await self.actor(team, str(body["user_id"]), body.get("user_name"), text),
        )
        await self.respond(respond, await self.run(command), ephemeral=None)

    async def on_action(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        """A card button: the command it stands for, answered ephemerally."""
        await ack()
        template = BUTTONS.get(str(action.get("action_id", "")))
        words = str(action.get("value") or "").split()
        if template is None or len(words) != 1:  # link buttons open in the browser
            return
        user = body["user"]
        team = str((body.get("team") or {}).get("id") or user["team_id"])
        channel = str((body.get("channel") or {}).get("id") or f"@{user['id']}")
        name = user.get("username") or user.get("name")
        text = template.format(words[0])
        command = Command(
            text=text,
            destination=Destination("slack", team, channel),
            actor=await self.actor(team, str(user["id"]), name, text),
        )
        await self.respond(respond, await self.run(command), ephemeral=True)

    async def on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """A direct message to the bot: the command it spells, answered in the DM.

        Messages elsewhere, edits, joins and other bots' messages are ignored.
        """
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        text = command_text(str(event.get("text") or ""))
        text = re.sub(r"^/?papers\b", "", text, flags=re.IGNORECASE).strip() or "help"
        team = str(body.get("team_id") or event.get("team") or "")
        channel, user = str(event.get("channel")), str(event.get("user"))
        command = Command(
            text=text,
            destination=Destination("slack", team, channel),
            actor=await self.actor(team, user, None, text),
        )
        reply = await self.run(command)
        for message in render(reply)[:MAX_RESPONSES]:
            try:
                await self.client.chat_postMessage(
                    channel=channel,
                    text=message.text,
                    blocks=message.blocks,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except CALL_ERRORS as exc:
                log.warning("slack: answering a direct message in %s failed: %s", channel, exc)
                return

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """The Home tab: the person's follows, then the help (asked of the core)."""
        if event.get("tab") != "home":
            return
        team, user = str(body.get("team_id") or ""), str(event.get("user"))
        where = Destination("slack", team, f"@{user}")
        blocks: list[dict[str, Any]] = []
        for text in ("following", "help"):
            reply = await self.run(Command(text, where, Actor(user=user)))
            if blocks:
                blocks.append({"type": "divider"})
            blocks += [b for m in render(reply) for b in m.blocks]
        try:
            await self.client.views_publish(
                user_id=user, view={"type": "home", "blocks": blocks[:HOME_BLOCKS]}
            )
        except CALL_ERRORS as exc:
            log.warning("slack: publishing the Home tab of %s failed: %s", user, exc)

    async def respond(self, respond: Any, reply: Reply, ephemeral: bool | None) -> None:
        """Post a reply to the event's response_url (at most 5 messages)."""
        hidden = reply.ephemeral if ephemeral is None else ephemeral
        messages = render(reply)
        if len(messages) > MAX_RESPONSES:
            log.warning("slack: reply of %d messages cut to %d", len(messages), MAX_RESPONSES)
        for message in messages[:MAX_RESPONSES]:
            try:
                answer = await respond(
                    text=message.text,
                    blocks=message.blocks,
                    response_type="ephemeral" if hidden else "in_channel",
                    replace_original=False,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except TRANSPORT_ERRORS as exc:
                log.warning("slack: posting to response_url failed: %s", exc)
                return
            if getattr(answer, "status_code", 200) != 200:
                log.warning("slack: response_url answered HTTP %s", answer.status_code)
                return
