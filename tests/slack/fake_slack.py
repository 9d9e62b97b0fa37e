"""A fake Slack on 127.0.0.1: Web API, response_url endpoint, and a Socket Mode socket.

It records every call, answers like Slack (`{"ok": true, ...}`), and fails on cue:
`fake.failures["chat.postMessage"] = ratelimited(every=3)` makes every third post a
429 with Retry-After. Socket Mode: `apps.connections.open` hands out the URL of
`/socket`; `await fake.push(envelope)` sends an envelope to the connected client and
the client's acknowledgements land in `fake.socket_acks`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

# call number of that method (1-based) -> a response to give instead, or None
Script = Callable[[int], web.Response | None]


@dataclass
class Call:
    """One recorded request: the Web API method (or "response_url") and its data."""

    method: str
    data: dict[str, Any]


@dataclass
class FakeSlack:
    """Slack's Web API, response_url and Socket Mode endpoints, with scripted failures."""

    team_id: str = "T1"
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, Script] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _socket: web.WebSocketResponse | None = None
    _connected: asyncio.Event = field(default_factory=asyncio.Event)

    def of(self, method: str) -> list[Call]:
        """The recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    async def _data(self, request: web.Request) -> dict[str, Any]:
        data: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            data.update(await request.json())
        elif request.can_read_body:
            data.update((await request.post()).items())
        if isinstance(data.get("blocks"), str):  # form-encoded calls send JSON strings
            data["blocks"] = json.loads(data["blocks"])
        return data

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data = await self._data(request)
        data["_authorization"] = request.headers.get("Authorization", "")
        self.calls.append(Call(method, data))
        failure = self.failures.get(method)
        if failure is not None:
            scripted = failure(len(self.of(method)))
            if scripted is not None:
                return scripted
        return web.json_response(self.answer(method, data))

    def answer(self, method: str, data: dict[str, Any]) -> dict[str, Any]:
        """Slack's successful answer to a call."""
        if method == "auth.test":
            return {"ok": True, "team_id": self.team_id, "user_id": "UBOT", "bot_id": "B1"}
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": data.get("channel"), "ts": ts}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(data.get("users"))}}
        if method == "users.info":
            user = self.users.get(str(data.get("user")), {"id": data.get("user")})
            return {"ok": True, "user": user}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}
        return {"ok": True}

    async def response_url(self, request: web.Request) -> web.Response:
        data = json.loads(await request.text())
        data["_id"] = request.match_info["id"]
        self.calls.append(Call("response_url", data))
        return web.Response(text="ok")

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_json({"type": "hello", "num_connections": 1})
        self._connected.set()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return ws

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to the connected client."""
        await self._connected.wait()
        assert self._socket is not None
        await self._socket.send_json(envelope)

    async def close_sockets(self) -> None:
        """Close the Socket Mode connection, if any (server side)."""
        if self._socket is not None and not self._socket.closed:
            await self._socket.close()

    def app(self) -> web.Application:
        """The aiohttp application."""
        application = web.Application()
        application.router.add_route("*", "/api/{method}", self.api)
        application.router.add_post("/response/{id}", self.response_url)
        application.router.add_get("/socket", self.socket)
        return application


def error_body(status: int, error: str, headers: dict[str, str] | None = None) -> web.Response:
    """A Slack error answer: `{"ok": false, "error": error}`."""
    return web.json_response({"ok": False, "error": error}, status=status, headers=headers)


def ratelimited(every: int, retry_after: int = 1) -> Script:
    """Answer 429 + Retry-After to every `every`-th call."""
    return lambda n: (
        error_body(429, "ratelimited", {"Retry-After": str(retry_after)})
        if n % every == 0
        else None
    )


def always(status: int, error: str, **extra: Any) -> Script:
    """Answer every call with this error (extra fields, e.g. `needed=`, in the body)."""
    return lambda n: web.json_response({"ok": False, "error": error, **extra}, status=status)


def first(times: int, script: Script) -> Script:
    """Apply `script` to the first `times` calls only."""
    return lambda n: script(n) if n <= times else None


def raw(status: int, text: str, content_type: str) -> Script:
    """Answer with a non-Slack body (a proxy's HTML error page, broken JSON, ...)."""
    return lambda n: web.Response(status=status, text=text, content_type=content_type)
