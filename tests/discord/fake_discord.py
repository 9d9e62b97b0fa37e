"""A fake Discord REST API on 127.0.0.1 that discord.py's real HTTP client talks to."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Script = Callable[[int], tuple[int, dict[str, Any], dict[str, str]] | None]
BOT = {
    "id": "4242",
    "username": "paperbot",
    "discriminator": "0",
    "avatar": None,
    "bot": True,
    "global_name": None,
    "flags": 0,
}


def js(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response with exactly `Content-Type: application/json`, as Discord sends."""
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@dataclass
class Call:
    """One recorded request."""

    method: str
    path: str
    json: Any


@dataclass
class FakeDiscord:
    """Enough of Discord's REST API for posting, DMs and interaction responses."""

    calls: list[Call] = field(default_factory=list)
    failures: dict[str, Script] = field(default_factory=dict)  # path suffix -> script
    forums: set[str] = field(default_factory=set)  # channel ids that are forum channels
    url: str = ""
    _ids: Any = field(default_factory=lambda: itertools.count(900_000_000_000_000_001))

    def posts(self, path_end: str) -> list[Call]:
        """Recorded POSTs whose path ends with `path_end`."""
        return [c for c in self.calls if c.method == "POST" and c.path.endswith(path_end)]

    def message(self, channel_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(next(self._ids)),
            "channel_id": channel_id,
            "type": 0,
            "content": data.get("content") or "",
            "author": BOT,
            "embeds": data.get("embeds", []),
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": "2026-11-24T12:00:00+00:00",
            "edited_timestamp": None,
            "flags": 0,
            "components": data.get("components", []),
        }

    async def handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        body: Any = None
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
            else:
                form = await request.post()
                body = json.loads(str(form.get("payload_json", "{}")))
        self.calls.append(Call(request.method, path, body))
        for suffix, script in self.failures.items():
            if path.endswith(suffix):
                scripted = script(len([c for c in self.calls if c.path.endswith(suffix)]))
                if scripted is not None:
                    status, payload, headers = scripted
                    return js(payload, status, headers)
        if path == "users/@me":
            return js(BOT)
        if path == "oauth2/applications/@me":
            return js(
                {
                    "id": "4242",
                    "name": "paperbot",
                    "icon": None,
                    "description": "",
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "verify_key": "k",
                    "flags": 0,
                    "team": None,
                    "owner": BOT,
                    "summary": "",
                }
            )
        if path == "users/@me/channels":
            return js({"id": "777", "type": 1, "recipients": [{**BOT, "id": body["recipient_id"]}]})
        if path.endswith("/callback"):
            flags = ((body or {}).get("data") or {}).get("flags", 0)
            interaction = {
                "id": path.split("/")[1],
                "type": 2,
                "response_message_loading": True,
                "response_message_ephemeral": bool(flags & 64),
            }
            return js({"interaction": interaction, "resource": {"type": body["type"]}})
        if request.method == "GET" and path.startswith("channels/") and path.count("/") == 1:
            channel_id = path.split("/")[1]
            kind = 15 if channel_id in self.forums else 0
            return js(
                {
                    "id": channel_id,
                    "type": kind,
                    "guild_id": "111",
                    "name": "papers",
                    "position": 0,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                    "available_tags": [],
                    "flags": 0,
                }
            )
        if path.startswith("channels/") and path.endswith("/threads"):
            parent = path.split("/")[1]
            thread_id = str(next(self._ids))
            message = self.message(thread_id, (body or {}).get("message") or {})
            return js(
                {
                    "id": thread_id,
                    "type": 11,
                    "guild_id": "111",
                    "parent_id": parent,
                    "name": body.get("name"),
                    "owner_id": BOT["id"],
                    "member_count": 1,
                    "message_count": 1,
                    "rate_limit_per_user": 0,
                    "flags": 0,
                    "thread_metadata": {
                        "archived": False,
                        "auto_archive_duration": 1440,
                        "archive_timestamp": "2026-11-24T12:00:00+00:00",
                        "locked": False,
                    },
                    "message": message,
                }
            )
        if path.startswith("channels/") and path.endswith("/messages"):
            return js(self.message(path.split("/")[1], body or {}))
        if path.startswith("webhooks/"):
            return js(self.message("1", body or {}))
        if path.startswith("applications/"):
            return js([])
        return js({"message": "404: Not Found", "code": 0}, status=404)

    def app(self) -> web.Application:
        """The aiohttp application (everything under /api/v10/)."""
        application = web.Application()
        application.router.add_route("*", "/api/v10/{path:.*}", self.handle)
        return application


def rate_limited_once(retry_after: float = 0.05) -> Script:
    """Answer the first call with a 429 as Discord sends it."""

    def script(n: int) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        if n == 1:
            body = {
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": False,
            }
            headers = {
                "Retry-After": str(retry_after),
                "Via": "1.1 google",
                "X-RateLimit-Scope": "user",
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(retry_after),
                "X-RateLimit-Bucket": "abc",
            }
            return 429, body, headers
        return None

    return script


def error(status: int, code: int, message: str) -> Script:
    """Answer every call with this Discord error."""
    return lambda n: (status, {"message": message, "code": code}, {})
