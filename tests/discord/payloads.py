"""INTERACTION_CREATE payloads shaped like the ones Discord sends over the gateway.

`dispatch` hands one to discord.py exactly as its gateway reader does
(`ConnectionState.parse_interaction_create`) and waits for the tasks it starts.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from adapters.discord_bot import DiscordAdapter

MANAGE_CHANNELS = 1 << 4
# View Channel, Send Messages, Embed Links, Read Message History, Use Application Commands
MEMBER = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
ADMIN = MEMBER | MANAGE_CHANNELS
OPTION_TYPES = {str: 3, int: 4, bool: 5}
_ids = itertools.count(1_300_000_000_000_000_001)


def user(user_id: str = "333") -> dict[str, Any]:
    """A user object."""
    return {
        "id": user_id,
        "username": "ada",
        "discriminator": "0",
        "avatar": None,
        "global_name": "Ada",
        "public_flags": 0,
    }


def options(values: dict[str, Any], focused: str | None = None) -> list[dict[str, Any]]:
    """Command options as Discord sends them (typed; `focused` for autocomplete)."""
    out = []
    for name, value in values.items():
        option: dict[str, Any] = {"name": name, "type": OPTION_TYPES[type(value)], "value": value}
        if name == focused:
            option["focused"] = True
        out.append(option)
    return out


def interaction(
    kind: int,
    data: dict[str, Any],
    *,
    permissions: int = ADMIN,
    guild: str | None = "111",
    channel: str = "222",
    user_id: str = "333",
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An interaction: in a guild channel by a member, or (guild None) in the bot's DMs."""
    payload: dict[str, Any] = {
        "id": str(next(_ids)),
        "application_id": "4242",
        "type": kind,
        "token": f"token-{next(_ids)}",
        "version": 1,
        "data": data,
        "app_permissions": "2251799813685247",
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 10485760,
    }
    if guild is not None:
        payload |= {
            "guild_id": guild,
            "guild_locale": "en-US",
            "channel_id": channel,
            "channel": {
                "id": channel,
                "type": 0,
                "guild_id": guild,
                "name": "papers",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            },
            "member": {
                "user": user(user_id),
                "roles": [],
                "permissions": str(permissions),
                "joined_at": "2026-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
            },
            "authorizing_integration_owners": {"0": guild},
            "context": 0,
        }
    else:
        payload |= {
            "channel_id": "888",
            "channel": {"id": "888", "type": 1, "recipients": [user(user_id)]},
            "user": user(user_id),
            "authorizing_integration_owners": {"0": "0"},
            "context": 1,
        }
    if message is not None:
        payload["message"] = message
    return payload


def command(sub: str, focused: str | None = None, **values: Any) -> dict[str, Any]:
    """The `data` of `/papers SUB option:value ...` (autocomplete when `focused`)."""
    return {
        "id": "5000",
        "name": "papers",
        "type": 1,
        "options": [{"type": 1, "name": sub, "options": options(values, focused)}],
    }


def click(custom_id: str) -> dict[str, Any]:
    """The `data` of a button click."""
    return {"custom_id": custom_id, "component_type": 2}


async def dispatch(bot: DiscordAdapter, payload: dict[str, Any]) -> None:
    """Feed an INTERACTION_CREATE to discord.py and wait for what it starts.

    Exceptions of command callbacks are raised here (discord.py would only log them).
    """
    errors: list[BaseException] = []

    async def on_error(interaction: Any, error: BaseException) -> None:
        errors.append(error)

    bot.tree.on_error = on_error  # type: ignore[method-assign]
    before = asyncio.all_tasks()
    bot.client._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    await asyncio.gather(*(asyncio.all_tasks() - before))
    if errors:
        raise errors[0]
