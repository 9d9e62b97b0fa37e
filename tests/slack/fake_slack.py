"""A fake Slack Web API on 127.0.0.1: records calls, answers like Slack, fails on cue."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Script = Callable[[int], tuple[int, dict[str, Any], dict[str, str]] | None]


@dataclass
class Call:
    """One recorded request."""

    method: str
    data: dict[str, Any]


@dataclass
class FakeSlack:
    """Slack's Web API and response_url endpoints, with scripted failures."""

    calls: list[Call] = field(default_factory=list)
    # method -> function(call number of that method) -> (status, body, headers) or None
    failures: dict[str, Script] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    url: str = ""

    def of(self, method: str) -> list[Call]:
        """The recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    async def _data(self, request: web.Request) -> dict[str, Any]:
        data: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            data.update(await request.json())
        else:
            data.update((await request.post()).items())
        return data

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data = await self._data(request)
        self.calls.append(Call(method, data))
        failure = self.failures.get(method)
        if failure is not None:
            scripted = failure(len(self.of(method)))
            if scripted is not None:
                status, body, headers = scripted
                return web.json_response(body, status=status, headers=headers)
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "B1"}
            )
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return web.json_response({"ok": True, "channel": data.get("channel"), "ts": ts})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": "D" + str(data.get("users"))}})
        if method == "users.info":
            user = self.users.get(str(data.get("user")), {"id": data.get("user")})
            return web.json_response({"ok": True, "user": user})
        return web.json_response({"ok": True})

    async def response_url(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", json.loads(await request.text())))
        return web.Response(text="ok")

    def app(self) -> web.Application:
        """The aiohttp application."""
        application = web.Application()
        application.router.add_post("/api/{method}", self.api)
        application.router.add_post("/response/{id}", self.response_url)
        return application


def ratelimited(
    every: int, retry_after: int = 1
) -> Callable[[int], tuple[int, dict[str, Any], dict[str, str]] | None]:
    """Answer 429 to every `every`-th call."""

    def fail(n: int) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        if n % every == 0:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        return None

    return fail


def always(
    status: int, error: str
) -> Callable[[int], tuple[int, dict[str, Any], dict[str, str]] | None]:
    """Answer every call with this error."""
    return lambda n: (status, {"ok": False, "error": error}, {})
