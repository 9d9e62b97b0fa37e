"""The Slack adapter: real slack-bolt and slack_sdk code against a fake Slack on loopback."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from fake_slack import FakeSlack, always, ratelimited
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.models.blocks import Block
from slack_sdk.signature import SignatureVerifier

from adapters.base import DeliveryError, PermanentDeliveryError, RateLimited
from adapters.slack import SlackAdapter
from adapters.slack_blocks import MAX_BLOCKS, render
from bot.config import SlackSettings
from bot.delivery import Delivery
from bot.messages import Card, Command, Reply
from bot.models import Destination, OutboxEntry, Paper
from bot.store import Store

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
C1 = Destination.parse("slack:T1:C1")


class Recorder:
    """The core's stand-in for adapter tests: records commands, answers as told."""

    def __init__(self, reply: Reply | None = None) -> None:
        self.commands: list[Command] = []
        self.reply = reply or Reply(text="ok", ephemeral=False)

    async def __call__(self, command: Command) -> Reply:
        self.commands.append(command)
        return self.reply


def adapter(fake: FakeSlack, handle: Any = None, **kw: Any) -> SlackAdapter:
    settings = SlackSettings(
        bot_token="xoxb-test",  # type: ignore[arg-type]
        signing_secret=SECRET,  # type: ignore[arg-type]
        mode="http",
        api_url=fake.url + "/api/",
        **kw,
    )
    return SlackAdapter(settings, handle or Recorder())


def signed(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, list[str]]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-request-timestamp": [ts],
        "x-slack-signature": [signature],
    }


def slash(fake: FakeSlack, text: str, team: str = "T1", channel: str = "C1") -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": team,
            "team_domain": "lab",
            "channel_id": channel,
            "channel_name": "papers",
            "user_id": "U1",
            "user_name": "ada",
            "command": "/papers",
            "text": text,
            "api_app_id": "A1",
            "response_url": f"{fake.url}/response/1",
            "trigger_id": "1.2.3",
        }
    )


async def until(predicate: Any) -> None:
    """Wait (up to 5 s) for something the adapter does in the background."""
    async with asyncio.timeout(5):
        while not predicate():
            await asyncio.sleep(0.01)


def card(title: str = "A paper", **kw: Any) -> Card:
    return Card(
        paper_id="arxiv:2411.00001", title=title, url="https://arxiv.org/abs/2411.00001", **kw
    )


# -- slash commands --------------------------------------------------------------------


async def test_signed_command_reaches_the_core(fake_slack: FakeSlack) -> None:
    core = Recorder(Reply(text="Subscribed this channel to <!channel> as `s1`.", ephemeral=False))
    slack = adapter(fake_slack, core)
    body = slash(fake_slack, "subscribe diffusion --digest daily@09:00")
    response = await slack.app.async_dispatch(AsyncBoltRequest(body=body, headers=signed(body)))
    assert response.status == 200
    await until(lambda: fake_slack.of("response_url"))
    [command] = core.commands
    assert command.text == "subscribe diffusion --digest daily@09:00"
    assert command.destination == C1 and command.actor.user == "U1" and command.actor.is_admin
    [answer] = fake_slack.of("response_url")
    assert answer.data["response_type"] == "in_channel"
    assert "<!channel>" not in str(answer.data) and "&lt;!channel&gt;" in answer.data["text"]


async def test_search_acks_with_searching_and_answers_ephemerally(fake_slack: FakeSlack) -> None:
    core = Recorder(Reply(text="1 paper", cards=(card(),), ephemeral=True))
    slack = adapter(fake_slack, core)
    body = slash(fake_slack, "search diffusion")
    response = await slack.app.async_dispatch(AsyncBoltRequest(body=body, headers=signed(body)))
    assert response.status == 200 and "Searching" in response.body
    await until(lambda: fake_slack.of("response_url"))
    assert fake_slack.of("response_url")[0].data["response_type"] == "ephemeral"


async def test_workspace_comes_from_the_event(fake_slack: FakeSlack) -> None:
    core = Recorder()
    slack = adapter(fake_slack, core)
    body = slash(fake_slack, "subscriptions", team="T2", channel="C9")
    await slack.app.async_dispatch(AsyncBoltRequest(body=body, headers=signed(body)))
    await until(lambda: core.commands)
    assert str(core.commands[0].destination) == "slack:T2:C9"


@pytest.mark.parametrize(
    "headers",
    [
        lambda body: signed(body, secret="wrong-secret"),
        lambda body: signed(body, timestamp=int(time.time()) - 301),
        lambda body: {"content-type": ["application/x-www-form-urlencoded"]},
    ],
)
async def test_forged_or_stale_requests_are_refused(fake_slack: FakeSlack, headers: Any) -> None:
    core = Recorder()
    slack = adapter(fake_slack, core)
    body = slash(fake_slack, "unsubscribe s1")
    response = await slack.app.async_dispatch(AsyncBoltRequest(body=body, headers=headers(body)))
    assert response.status == 401
    assert core.commands == []


async def test_admins_only_asks_slack_who_is_admin(fake_slack: FakeSlack) -> None:
    fake_slack.users["U1"] = {"id": "U1", "is_admin": False, "is_owner": False}
    core = Recorder()
    slack = adapter(fake_slack, core, admins_only=True)
    body = slash(fake_slack, "subscribe x")
    await slack.app.async_dispatch(AsyncBoltRequest(body=body, headers=signed(body)))
    await until(lambda: core.commands)
    assert core.commands[0].actor.is_admin is False


async def test_buttons_become_commands(fake_slack: FakeSlack) -> None:
    import json

    core = Recorder(Reply(text="Thanks, noted."))
    slack = adapter(fake_slack, core)
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "lab"},
        "user": {"id": "U1", "username": "ada", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "channel": {"id": "C1", "name": "papers"},
        "response_url": f"{fake_slack.url}/response/2",
        "trigger_id": "1.2.3",
        "actions": [
            {
                "type": "button",
                "action_id": "paperbot_feedback_up",
                "block_id": "paper:x",
                "value": "arxiv:2411.00001",
                "action_ts": "1700000000.1",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    response = await slack.app.async_dispatch(AsyncBoltRequest(body=body, headers=signed(body)))
    assert response.status == 200
    await until(lambda: fake_slack.of("response_url"))
    assert core.commands[0].text == "feedback arxiv:2411.00001 up"
    assert fake_slack.of("response_url")[0].data["response_type"] == "ephemeral"


# -- posting ---------------------------------------------------------------------------


async def test_send_posts_blocks_without_unfurls(fake_slack: FakeSlack) -> None:
    slack = adapter(fake_slack)
    reply = Reply(text="2 new papers for s1", cards=(card("One"), card("Two")), ephemeral=False)
    ref = await slack.send(C1, reply)
    [post] = fake_slack.of("chat.postMessage")
    assert post.data["channel"] == "C1" and post.data["unfurl_links"] is False
    assert post.data["unfurl_media"] is False and "thread_ts" not in post.data
    assert ref.message_id.startswith("1700000000.")
    for block in post.data["blocks"]:
        Block.parse(block)  # slack_sdk's own model of every block type
    await slack.send(C1, Reply(text="", cards=(card(),)), thread=ref)
    assert fake_slack.of("chat.postMessage")[1].data["thread_ts"] == ref.message_id


async def test_follows_are_posted_by_dm(fake_slack: FakeSlack) -> None:
    slack = adapter(fake_slack)
    await slack.send(Destination.parse("slack:T1:@U7"), Reply(text="hi", cards=(card(),)))
    await slack.send(Destination.parse("slack:T1:@U7"), Reply(text="again"))
    assert [c.data["users"] for c in fake_slack.of("conversations.open")] == ["U7"]
    assert [c.data["channel"] for c in fake_slack.of("chat.postMessage")] == ["DU7", "DU7"]


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (200, "channel_not_found", PermanentDeliveryError),
        (200, "not_in_channel", PermanentDeliveryError),
        (200, "is_archived", PermanentDeliveryError),
        (200, "account_inactive", PermanentDeliveryError),
        (200, "invalid_auth", PermanentDeliveryError),
        (429, "ratelimited", RateLimited),
        (200, "ratelimited", RateLimited),
        (500, "internal_error", DeliveryError),
    ],
)
async def test_errors_map_to_delivery_errors(
    fake_slack: FakeSlack, status: int, error: str, kind: type[Exception]
) -> None:
    fake_slack.failures["chat.postMessage"] = always(status, error)
    with pytest.raises(kind) as info:
        await adapter(fake_slack).send(C1, Reply(text="x"))
    assert type(info.value) is kind
    if kind is PermanentDeliveryError:
        assert error in str(info.value)


async def test_429_carries_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.failures["chat.postMessage"] = ratelimited(every=1, retry_after=17)
    with pytest.raises(RateLimited) as info:
        await adapter(fake_slack).send(C1, Reply(text="x"))
    assert info.value.retry_after == 17


PIECES = [*"ab *_~`<>&|@!#:\n", "<!channel>", "<@U123>", "<!here>", "é", "😀"]
NASTY = st.lists(st.sampled_from(PIECES), max_size=300).map("".join)


@settings(max_examples=60, deadline=None)
@given(title=NASTY, tldr=NASTY, authors=st.lists(NASTY, max_size=500), cards=st.integers(0, 12))
def test_any_paper_renders_within_limits_and_pings_nobody(
    title: str, tldr: str, authors: list[str], cards: int
) -> None:
    reply = Reply(
        text=title,
        cards=tuple(card(title, tldr=tldr, authors=", ".join(authors)) for _ in range(cards)),
        lines=(title,),
        footer=title,
    )
    for blocks in render(reply):
        assert 0 < len(blocks) <= MAX_BLOCKS
        for block in blocks:
            Block.parse(block)
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
                if block["text"]["type"] == "mrkdwn":
                    assert "<!" not in block["text"]["text"] and "<@" not in block["text"]["text"]
            if block["type"] == "actions":
                assert all(len(e["text"]["text"]) <= 75 for e in block["elements"])
    assert sum(1 for blocks in render(reply) for b in blocks if b["type"] == "header") == cards


# -- through the real delivery engine --------------------------------------------------


async def test_429_storm_delays_but_loses_and_duplicates_nothing(
    fake_slack: FakeSlack, store: Store
) -> None:
    fake_slack.failures["chat.postMessage"] = ratelimited(every=3)
    slack = adapter(fake_slack)
    papers = [Paper(id=f"arxiv:2411.{i:05d}", title=f"Paper {i}") for i in range(12)]
    await store.put_papers(papers)
    now = [datetime(2026, 11, 24, 12, tzinfo=UTC)]
    entries = []
    for ch in range(4):
        dest = Destination("slack", "T1", f"C{ch}")
        sub = await store.add_subscription(dest, "paper")
        entries += [OutboxEntry(dest, p.id, (sub.id,), now[0]) for p in papers[ch * 3 : ch * 3 + 3]]
    await store.claim_and_enqueue(entries)
    delivery = Delivery(store, {"slack": slack}, max_per_post=1, pacing=0, clock=lambda: now[0])
    for _ in range(20):
        await delivery.run_once()
        if not await store.pending():
            break
        now[0] = now[0].replace(second=now[0].second + 2)
    assert await store.pending() == []
    posted = [
        (c.data["channel"], b["text"]["text"])
        for c in fake_slack.of("chat.postMessage")
        if c.data.get("blocks")
        for b in c.data["blocks"]
        if b["type"] == "header"
    ]
    ok_calls = [c for i, c in enumerate(fake_slack.of("chat.postMessage"), start=1) if i % 3]
    titles = [
        b["text"]["text"] for c in ok_calls for b in c.data["blocks"] if b["type"] == "header"
    ]
    assert sorted(titles) == sorted(p.title for p in papers)  # each exactly once
    assert len(posted) > len(titles)  # some calls were refused with 429 and retried


async def test_channel_not_found_pauses_the_subscriptions(
    fake_slack: FakeSlack, store: Store
) -> None:
    fake_slack.failures["chat.postMessage"] = always(200, "channel_not_found")
    await store.put_papers([Paper(id="arxiv:2411.00001", title="T")])
    sub = await store.add_subscription(C1, "t")
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    await store.claim_and_enqueue([OutboxEntry(C1, "arxiv:2411.00001", (sub.id,), now)])
    report = await Delivery(
        store, {"slack": adapter(fake_slack)}, pacing=0, clock=lambda: now
    ).run_once()
    assert report.paused
    paused = await store.get_subscription(C1.tenant, sub.id)
    assert paused is not None and paused.paused
    assert paused.paused_reason and "channel_not_found" in paused.paused_reason


async def test_http_mode_without_signing_secret_is_a_clear_error(
    fake_slack: FakeSlack, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopback import cli_runner

    monkeypatch.setenv("PAPERBOT_SLACK__BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("PAPERBOT_SLACK__API_URL", f"{fake_slack.url}/api/")
    monkeypatch.setenv("PAPERBOT_SOURCES__HUGGINGFACE__ENABLED", "false")
    monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV__ENABLED", "false")
    code, _, err = await cli_runner(tmp_path)("run")
    assert code == 2 and "needs slack.signing_secret" in err
