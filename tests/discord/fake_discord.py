"""A fake Discord REST API on 127.0.0.1 that discord.py's real HTTP client talks to.

Payloads have the shapes Discord sends (users, applications, channels, threads,
messages, interaction callbacks, errors and 429s with their headers). Every request
is recorded; `failures` scripts errors per path suffix.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Scripted = tuple[int, dict[str, Any], dict[str, str]]
Script = Callable[[int], Scripted | None]
GUILD = "111"
BOT = {
    "id": "4242",
    "username": "paperbot",
    "discriminator": "0",
    "avatar": None,
    "bot": True,
    "global_name": None,
    "flags": 0,
}
APPLICATION = {
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
TIMESTAMP = "2026-11-24T12:00:00+00:00"


def js(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response with `Content-Type: application/json`, as Discord sends."""
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
    status: int = 0  # what the fake answered


@dataclass
class FakeDiscord:
    """Enough of Discord's REST API for posting, threads, DMs, commands and interactions."""

    calls: list[Call] = field(default_factory=list)
    failures: dict[str, Script] = field(default_factory=dict)  # path suffix -> script
    forums: set[str] = field(default_factory=set)  # channel ids that are forum channels
    guilds: dict[str, str] = field(default_factory=dict)  # channel id -> guild id (else 111)
    shards: int = 1
    url: str = ""
    _ids: Any = field(default_factory=lambda: itertools.count(900_000_000_000_000_001))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def requests(self, method: str, path_end: str) -> list[Call]:
        """Recorded requests of `method` whose path ends with `path_end`."""
        return [c for c in self.calls if c.method == method and c.path.endswith(path_end)]

    def posts(self, path_end: str) -> list[Call]:
        """Recorded POSTs whose path ends with `path_end`."""
        return self.requests("POST", path_end)

    def messages(self) -> list[Call]:
        """Every message posted to a channel (not interaction follow-ups), 429s included."""
        return [c for c in self.posts("/messages") if c.path.startswith("channels/")]

    def delivered(self) -> list[Call]:
        """Messages posted to a channel that Discord accepted."""
        return [c for c in self.messages() if c.status == 200]

    async def wait_for(self, method: str, path_end: str) -> Call:
        """The first request of `method` to `path_end`, once it has arrived."""
        while not self.requests(method, path_end):
            self._arrived.clear()
            await self._arrived.wait()
        return self.requests(method, path_end)[0]

    def message(self, channel_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """A message object as Discord returns it."""
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
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "flags": data.get("flags", 0),
            "components": data.get("components", []),
        }

    def channel(self, channel_id: str) -> dict[str, Any]:
        """A guild text (or forum) channel object."""
        return {
            "id": channel_id,
            "type": 15 if channel_id in self.forums else 0,
            "guild_id": self.guilds.get(channel_id, GUILD),
            "name": "papers",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "available_tags": [],
            "flags": 0,
        }

    def thread(self, thread_id: str, parent: str, name: str) -> dict[str, Any]:
        """A public thread object."""
        return {
            "id": thread_id,
            "type": 11,
            "guild_id": self.guilds.get(parent, GUILD),
            "parent_id": parent,
            "name": name,
            "owner_id": BOT["id"],
            "member_count": 1,
            "message_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": TIMESTAMP,
                "locked": False,
            },
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Record the request, then answer as scripted or as Discord would."""
        path = request.match_info["path"]
        body: Any = None
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
            else:
                form = await request.post()
                body = json.loads(str(form.get("payload_json", "{}")))
        call = Call(request.method, path, body)
        self.calls.append(call)
        self._arrived.set()
        response = self.scripted(path) or self.answer(request.method, path.split("/"), body or {})
        call.status = response.status
        return response

    def scripted(self, path: str) -> web.Response | None:
        """The scripted failure for this request, if any."""
        for suffix, script in self.failures.items():
            if path.endswith(suffix):
                scripted = script(len([c for c in self.calls if c.path.endswith(suffix)]))
                if scripted is not None:
                    status, payload, headers = scripted
                    return js(payload, status, headers)
        return None

    def answer(self, method: str, parts: list[str], body: Any) -> web.StreamResponse:
        """The normal answer to a request."""
        path = "/".join(parts)
        if path == "users/@me":
            return js(BOT)
        if path == "oauth2/applications/@me":
            return js(APPLICATION)
        if path == "gateway/bot":
            limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            return js(
                {
                    "url": "wss://gateway.invalid",
                    "shards": self.shards,
                    "session_start_limit": limit,
                }
            )
        if path == "users/@me/channels":
            return js(
                {"id": "777", "type": 1, "recipients": [{**BOT, "id": str(body["recipient_id"])}]}
            )
        if parts[0] == "applications" and method == "PUT":
            return js([{**c, "id": "5000", "application_id": "4242", "version": "1"} for c in body])
        if parts[0] == "interactions":
            flags = (body.get("data") or {}).get("flags", 0)
            interaction = {
                "id": parts[1],
                "type": 2,
                "response_message_loading": body.get("type") == 5,
                "response_message_ephemeral": bool(flags & 64),
            }
            return js({"interaction": interaction, "resource": {"type": body["type"]}})
        if parts[0] == "webhooks":
            if method == "DELETE":
                return web.Response(status=204)
            return js(self.message("222", body))
        if parts[0] == "channels" and len(parts) == 2 and method == "GET":
            return js(self.channel(parts[1]))
        if parts[0] == "channels" and len(parts) == 3 and parts[2] == "threads":  # forum post
            thread_id = str(next(self._ids))
            starter = {**self.message(thread_id, body.get("message") or {}), "id": thread_id}
            return js({**self.thread(thread_id, parts[1], body["name"]), "message": starter})
        if parts[0] == "channels" and len(parts) == 5 and parts[4] == "threads":  # on a message
            return js(self.thread(parts[3], parts[1], body["name"]), status=201)
        if parts[0] == "channels" and len(parts) == 3 and parts[2] == "messages":
            return js(self.message(parts[1], body))
        return js({"message": "404: Not Found", "code": 0}, status=404)

    def app(self) -> web.Application:
        """The aiohttp application (everything under /api/v10/)."""
        application = web.Application()
        application.router.add_route("*", "/api/v10/{path:.*}", self.handle)
        return application


def rate_limited(times: int = 1, retry_after: float = 0.05, via: bool = True) -> Script:
    """Answer the first `times` calls with a 429 as Discord sends it (body and headers).

    Without `via` it looks like a Cloudflare ban, which discord.py does not retry.
    """

    def script(n: int) -> Scripted | None:
        if n > times:
            return None
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
        }
        headers = {
            "Retry-After": str(retry_after),
            "X-RateLimit-Scope": "user",
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after),
            "X-RateLimit-Bucket": "abc",
        }
        if via:
            headers["Via"] = "1.1 google"
        return 429, body, headers

    return script


def error(status: int, code: int, message: str) -> Script:
    """Answer every call with this Discord error."""
    return lambda n: (status, {"message": message, "code": code}, {})
