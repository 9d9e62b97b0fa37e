"""Helpers of the Slack tests: a recording core, signed requests, block checks."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence, Sized
from dataclasses import asdict, is_dataclass
from typing import Any
from urllib.parse import urlencode

from fake_slack import FakeSlack
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.models.blocks import Block
from slack_sdk.signature import SignatureVerifier

from adapters.slack import SlackAdapter
from adapters.slack_blocks import size
from bot.config import SlackSettings
from bot.messages import Card, Command, Reply

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
Headers = dict[str, str | Sequence[str]]


class Recorder:
    """The core's stand-in: records commands, answers as told (or raises `fail`)."""

    def __init__(self, reply: Reply | None = None, fail: Exception | None = None) -> None:
        self.commands: list[Command] = []
        self.reply = reply or Reply(text="ok", ephemeral=False)
        self.fail = fail

    async def __call__(self, command: Command) -> Reply:
        self.commands.append(command)
        if self.fail is not None:
            raise self.fail
        return self.reply


def make_adapter(fake: FakeSlack, handle: Any = None, **settings: Any) -> SlackAdapter:
    """A SlackAdapter (HTTP mode unless told) whose Web API is the fake."""
    values: dict[str, Any] = {
        "bot_token": "xoxb-test",
        "signing_secret": SECRET,
        "mode": "http",
        "api_url": fake.url + "/api/",
        **settings,
    }
    return SlackAdapter(SlackSettings(**values), handle or Recorder())


def signed(body: str, timestamp: int | None = None, secret: str = SECRET) -> Headers:
    """Headers of a request Slack signed (with `secret`, at `timestamp`)."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-request-timestamp": [ts],
        "x-slack-signature": [signature],
    }


def slash_payload(
    fake: FakeSlack, text: str, team: str = "T1", channel: str = "C1", user: str = "U1"
) -> dict[str, str]:
    """The fields of a `/papers` slash command."""
    return {
        "token": "legacy",
        "team_id": team,
        "team_domain": "lab",
        "channel_id": channel,
        "channel_name": "papers",
        "user_id": user,
        "user_name": "ada",
        "command": "/papers",
        "text": text,
        "api_app_id": "A1",
        "response_url": f"{fake.url}/response/1",
        "trigger_id": "1.2.3",
    }


def slash(fake: FakeSlack, text: str, **kw: str) -> str:
    """The form-encoded body of a `/papers` slash command."""
    return urlencode(slash_payload(fake, text, **kw))


def click_payload(
    fake: FakeSlack, action_id: str, value: str, team: str = "T1", channel: str | None = "C1"
) -> dict[str, Any]:
    """A block_actions payload: a click on one of a card's buttons."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team, "domain": "lab"},
        "user": {"id": "U1", "username": "ada", "team_id": team},
        "api_app_id": "A1",
        "token": "legacy",
        "response_url": f"{fake.url}/response/2",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "is_ephemeral": False},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "action_ts": "1700000000.1",
            }
        ],
    }
    if channel is not None:
        payload["channel"] = {"id": channel, "name": "papers"}
    return payload


async def dispatch(adapter: SlackAdapter, body: str, headers: Headers | None = None) -> Any:
    """Send a (by default validly signed) request through bolt's async_dispatch."""
    request = AsyncBoltRequest(body=body, headers=signed(body) if headers is None else headers)
    return await adapter.app.async_dispatch(request)


async def click(adapter: SlackAdapter, payload: dict[str, Any]) -> Any:
    """Dispatch a signed interactivity request."""
    return await dispatch(adapter, urlencode({"payload": json.dumps(payload)}))


async def until(predicate: Callable[[], object]) -> None:
    """Wait for what the adapter does after its ack (a ceiling, not a timing check)."""
    async with asyncio.timeout(10):
        while not predicate():
            await asyncio.sleep(0.005)


async def until_len(items: Sized, n: int) -> None:
    """Wait until `items` holds `n` things."""
    await until(lambda: len(items) >= n)


def card(title: str = "A paper", paper_id: str = "arxiv:2411.00001", **kw: Any) -> Card:
    """A card with defaults."""
    return Card(paper_id=paper_id, title=title, url=f"https://arxiv.org/abs/{paper_id[6:]}", **kw)


def check_blocks(blocks: list[dict[str, Any]]) -> None:
    """Assert one message's blocks are valid Block Kit within every Slack limit.

    slack_sdk's models check the types, required fields, header and section limits
    and (by a round trip) that no unknown field slipped in; the rest is checked here.
    """
    assert 0 < len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        assert parsed.to_dict() == block
        if block["type"] == "header":
            assert 0 < size(block["text"]["text"]) <= 150
            assert block["text"]["type"] == "plain_text"
        if block["type"] == "section":
            assert 0 < size(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            assert all(0 < size(e["text"]) <= 2000 for e in block["elements"])
        if block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            ids = [e["action_id"] for e in block["elements"]]
            assert len(ids) == len(set(ids))
            for button in block["elements"]:
                assert 0 < size(button["text"]["text"]) <= 75
                assert size(button.get("value", "")) <= 2000
                assert size(button.get("url", "")) <= 3000


def no_pings(data: Any) -> None:
    """Assert a posted message holds no `<` at all: no mention, no link markup."""
    if is_dataclass(data) and not isinstance(data, type):
        data = asdict(data)
    text = json.dumps(data, ensure_ascii=False)
    assert "<" not in text and ">" not in text, text
