"""`/papers` and card buttons through bolt's async_dispatch: signed requests -> Commands."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from fake_slack import FakeSlack, first, ratelimited
from slack_helpers import (
    Recorder,
    card,
    check_blocks,
    click,
    click_payload,
    dispatch,
    make_adapter,
    no_pings,
    signed,
    slash,
    until,
    until_len,
)

from bot.messages import Reply
from bot.models import Destination

C1 = Destination.parse("slack:T1:C1")


async def test_signed_command_reaches_the_core_and_is_answered_in_channel(
    fake_slack: FakeSlack,
) -> None:
    core = Recorder(Reply(text="Unsubscribed `s1` (<!channel> *x*).", ephemeral=False))
    slack = make_adapter(fake_slack, core)
    response = await dispatch(slack, slash(fake_slack, "unsubscribe s1"))
    assert response.status == 200 and response.body == ""  # a silent ack
    await until(lambda: fake_slack.of("response_url"))
    [command] = core.commands
    assert command.text == "unsubscribe s1"
    assert command.destination == C1
    assert (command.actor.user, command.actor.name, command.actor.is_admin) == ("U1", "ada", True)
    [answer] = fake_slack.of("response_url")
    assert answer.data["response_type"] == "in_channel"
    assert answer.data["replace_original"] is False
    check_blocks(answer.data["blocks"])
    assert answer.data["blocks"][0]["text"]["text"] == "Unsubscribed `s1` (&lt;!channel&gt; *x*)."
    no_pings({k: v for k, v in answer.data.items() if k != "_id"})


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("search diffusion --since 7d", "Searching…"),
        ("preview diffusion", "Previewing…"),
        ("trending", "Looking up trending papers…"),
        ("paper 2411.00001", "Looking up the paper…"),
        ("subscribe diffusion --digest daily@09:00", "Subscribing…"),
        ("SEARCH x", "Searching…"),
    ],
)
async def test_slow_commands_ack_with_a_note_then_answer(
    fake_slack: FakeSlack, text: str, note: str
) -> None:
    core = Recorder(Reply(text="1 paper", cards=(card(),), ephemeral=True))
    slack = make_adapter(fake_slack, core)
    response = await dispatch(slack, slash(fake_slack, text))
    assert response.status == 200
    assert json.loads(response.body) == {"response_type": "ephemeral", "text": note}
    await until(lambda: fake_slack.of("response_url"))
    [answer] = fake_slack.of("response_url")
    assert answer.data["response_type"] == "ephemeral"
    check_blocks(answer.data["blocks"])
    [header] = [b for b in answer.data["blocks"] if b["type"] == "header"]
    assert header["text"]["text"] == "A paper"
    assert core.commands[0].text == text


async def test_shared_answers_go_in_channel(fake_slack: FakeSlack) -> None:
    slack = make_adapter(fake_slack, Recorder(Reply(text="1 paper", ephemeral=False)))
    await dispatch(slack, slash(fake_slack, "search x --share"))
    await until(lambda: fake_slack.of("response_url"))
    assert fake_slack.of("response_url")[0].data["response_type"] == "in_channel"


async def test_workspace_and_channel_come_from_the_event(fake_slack: FakeSlack) -> None:
    core = Recorder()
    slack = make_adapter(fake_slack, core)
    await dispatch(slack, slash(fake_slack, "subscriptions", team="T2", channel="C9"))
    await dispatch(slack, slash(fake_slack, "subscriptions", team="T1", channel="C9"))
    await until(lambda: len(core.commands) == 2)
    assert {str(c.destination) for c in core.commands} == {"slack:T2:C9", "slack:T1:C9"}
    assert {c.tenant.workspace for c in core.commands} == {"T1", "T2"}


async def test_slack_markup_in_the_typed_text_is_undone(fake_slack: FakeSlack) -> None:
    core = Recorder()
    slack = make_adapter(fake_slack, core)
    typed = 'search title:"a &lt; b" &amp;lt; <https://arxiv.org/abs/2411.1|arxiv> '
    await dispatch(slack, slash(fake_slack, typed))
    await until(lambda: core.commands)
    assert core.commands[0].text == 'search title:"a < b" &lt; https://arxiv.org/abs/2411.1'


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: signed(body, secret="wrong-secret"), id="forged"),
        pytest.param(lambda body: signed(body, timestamp=int(time.time()) - 301), id="stale"),
        pytest.param(lambda body: signed(body, timestamp=int(time.time()) + 301), id="future"),
        pytest.param(lambda body: signed(body + "&x=1"), id="tampered"),
        pytest.param(
            lambda body: {"content-type": ["application/x-www-form-urlencoded"]}, id="bare"
        ),
    ],
)
async def test_forged_or_stale_requests_are_refused(fake_slack: FakeSlack, headers: Any) -> None:
    core = Recorder()
    slack = make_adapter(fake_slack, core)
    body = slash(fake_slack, "unsubscribe s1")
    response = await dispatch(slack, body, headers(body))
    assert response.status == 401
    assert core.commands == [] and fake_slack.calls == []


async def test_a_request_just_within_five_minutes_is_accepted(fake_slack: FakeSlack) -> None:
    core = Recorder()
    slack = make_adapter(fake_slack, core)
    body = slash(fake_slack, "help")
    response = await dispatch(slack, body, signed(body, timestamp=int(time.time()) - 240))
    assert response.status == 200
    await until(lambda: core.commands)


async def test_admins_only_asks_slack_who_is_admin_and_remembers(fake_slack: FakeSlack) -> None:
    fake_slack.users["U1"] = {"id": "U1", "is_admin": False, "is_owner": False}
    fake_slack.users["U2"] = {"id": "U2", "is_admin": False, "is_owner": True}
    core = Recorder()
    slack = make_adapter(fake_slack, core, admins_only=True)
    for n, user in enumerate(("U1", "U2", "U1"), start=1):
        await dispatch(slack, slash(fake_slack, "subscribe x", user=user))
        await until_len(core.commands, n)
    assert [(c.actor.user, c.actor.is_admin) for c in core.commands] == [
        ("U1", False),
        ("U2", True),
        ("U1", False),
    ]
    assert [c.data["user"] for c in fake_slack.of("users.info")] == ["U1", "U2"]


async def test_a_follow_carries_the_persons_slack_time_zone(fake_slack: FakeSlack) -> None:
    fake_slack.users["U1"] = {"id": "U1", "tz": "Europe/Berlin", "is_admin": False}
    core = Recorder()
    slack = make_adapter(fake_slack, core)
    for n, text in enumerate(("search robots", "follow robots", "follow gans"), start=1):
        await dispatch(slack, slash(fake_slack, text))
        await until_len(core.commands, n)
    assert [(c.actor.timezone, c.actor.is_admin) for c in core.commands] == [
        (None, True),  # only a follow asks Slack who the person is
        ("Europe/Berlin", True),  # admins_only is off: everyone may
        ("Europe/Berlin", True),
    ]
    assert len(fake_slack.of("users.info")) == 1  # remembered


async def test_admin_check_waits_out_one_rate_limit(fake_slack: FakeSlack) -> None:
    fake_slack.users["U1"] = {"id": "U1", "is_admin": True}
    fake_slack.failures["users.info"] = first(1, ratelimited(every=1, retry_after=0))
    core = Recorder()
    slack = make_adapter(fake_slack, core, admins_only=True)
    await dispatch(slack, slash(fake_slack, "pause s1"))
    await until(lambda: core.commands)
    assert core.commands[0].actor.is_admin is True
    assert len(fake_slack.of("users.info")) == 2


async def test_admin_check_failing_means_not_admin(fake_slack: FakeSlack) -> None:
    fake_slack.failures["users.info"] = ratelimited(every=1, retry_after=0)
    core = Recorder()
    slack = make_adapter(fake_slack, core, admins_only=True)
    await dispatch(slack, slash(fake_slack, "pause s1"))
    await until(lambda: core.commands)
    assert core.commands[0].actor.is_admin is False


async def test_a_core_that_raises_still_answers(fake_slack: FakeSlack) -> None:
    slack = make_adapter(fake_slack, Recorder(fail=RuntimeError("boom")))
    await dispatch(slack, slash(fake_slack, "subscriptions"))
    await until(lambda: fake_slack.of("response_url"))
    [answer] = fake_slack.of("response_url")
    assert answer.data["response_type"] == "ephemeral"
    assert "went wrong" in answer.data["blocks"][0]["text"]["text"]


@pytest.mark.parametrize(
    ("action_id", "command"),
    [
        ("paperbot_feedback_up", "feedback arxiv:2411.00001 up"),
        ("paperbot_feedback_down", "feedback arxiv:2411.00001 down"),
        ("paperbot_similar", "similar arxiv:2411.00001"),
        ("paperbot_follow_authors", "follow-authors arxiv:2411.00001"),
    ],
)
async def test_buttons_become_commands_answered_ephemerally(
    fake_slack: FakeSlack, action_id: str, command: str
) -> None:
    core = Recorder(Reply(text="Thanks, noted.", ephemeral=False))
    slack = make_adapter(fake_slack, core)
    response = await click(slack, click_payload(fake_slack, action_id, "arxiv:2411.00001"))
    assert response.status == 200
    await until(lambda: fake_slack.of("response_url"))
    [received] = core.commands
    assert received.text == command and received.destination == C1
    [answer] = fake_slack.of("response_url")
    assert answer.data["response_type"] == "ephemeral" and answer.data["replace_original"] is False


async def test_a_click_outside_a_channel_is_scoped_to_the_user(fake_slack: FakeSlack) -> None:
    core = Recorder()
    slack = make_adapter(fake_slack, core)
    payload = click_payload(fake_slack, "paperbot_similar", "arxiv:1", team="T7", channel=None)
    await click(slack, payload)
    await until(lambda: core.commands)
    assert str(core.commands[0].destination) == "slack:T7:@U1"


async def test_link_buttons_and_odd_values_are_acked_but_run_nothing(
    fake_slack: FakeSlack,
) -> None:
    core = Recorder()
    slack = make_adapter(fake_slack, core)
    for action_id, value in [
        ("paperbot_link_paper", ""),
        ("paperbot_similar", "arxiv:1 --share"),
        ("paperbot_feedback_up", ""),
    ]:
        response = await click(slack, click_payload(fake_slack, action_id, value))
        assert response.status == 200
    await dispatch(slack, slash(fake_slack, "help"))  # a marker: handled after the clicks
    await until(lambda: core.commands)
    assert [c.text for c in core.commands] == ["help"]


async def test_a_forged_click_is_refused(fake_slack: FakeSlack) -> None:
    core = Recorder()
    slack = make_adapter(fake_slack, core)
    body = urlencode({"payload": json.dumps(click_payload(fake_slack, "paperbot_similar", "x"))})
    response = await dispatch(slack, body, signed(body, secret="not-the-secret"))
    assert response.status == 401 and core.commands == []


# -- direct messages ---------------------------------------------------------------------


def dm_event(text: str, **event: Any) -> tuple[str, dict[str, Any]]:
    """A signed `message.im` event callback: (body, headers)."""
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{abs(hash(text)) % 10**8}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": "D42",
                "user": "U1",
                "text": text,
                "ts": "1700000000.000100",
                **event,
            },
        }
    )
    headers = {**signed(body), "content-type": ["application/json"]}
    return body, headers


async def test_a_direct_message_is_a_command_answered_in_the_dm(fake_slack: FakeSlack) -> None:
    core = Recorder(Reply(text="3 papers for <!here> diffusion", ephemeral=True))
    slack = make_adapter(fake_slack, core)
    for text in ("search diffusion &lt;3", "/papers following", "papers"):
        response = await dispatch(slack, *dm_event(text))
        assert response.status == 200
    await until(lambda: len(fake_slack.of("chat.postMessage")) >= 3)
    assert [c.text for c in core.commands] == ["search diffusion <3", "following", "help"]
    assert core.commands[0].destination == Destination.parse("slack:T1:D42")
    assert core.commands[0].actor.user == "U1"
    for post in fake_slack.of("chat.postMessage"):
        assert post.data["channel"] == "D42"
        check_blocks(post.data["blocks"])
        no_pings({k: v for k, v in post.data.items() if k != "_id"})


@pytest.mark.parametrize(
    "event",
    [
        {"channel_type": "channel", "channel": "C1"},  # a channel message: not ours to read
        {"subtype": "message_changed"},
        {"bot_id": "B9"},  # another bot
    ],
)
async def test_other_messages_are_ignored(fake_slack: FakeSlack, event: dict[str, Any]) -> None:
    core = Recorder()
    slack = make_adapter(fake_slack, core)
    assert (await dispatch(slack, *dm_event("search x", **event))).status == 200
    await dispatch(slack, slash(fake_slack, "help"))  # a marker: handled after the event
    await until(lambda: core.commands)
    assert [c.text for c in core.commands] == ["help"]
    assert fake_slack.of("chat.postMessage") == []


async def test_a_forged_direct_message_is_refused(fake_slack: FakeSlack) -> None:
    core = Recorder()
    slack = make_adapter(fake_slack, core)
    body, _ = dm_event("search x")
    response = await dispatch(slack, body, signed(body, secret="nope"))
    assert response.status == 401 and core.commands == []


def home_event(tab: str = "home") -> tuple[str, dict[str, Any]]:
    """A signed `app_home_opened` event callback: (body, headers)."""
    body = json.dumps(
        {
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"EvHome{tab}",
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": "U1", "channel": "D42", "tab": tab},
        }
    )
    return body, {**signed(body), "content-type": ["application/json"]}


async def test_the_home_tab_shows_the_persons_follows_and_the_help(
    fake_slack: FakeSlack,
) -> None:
    core = Recorder(Reply(text="Your follows: `f1` <!channel> robots", lines=("a", "b")))
    slack = make_adapter(fake_slack, core)
    assert (await dispatch(slack, *home_event("messages"))).status == 200  # not the Home tab
    assert (await dispatch(slack, *home_event())).status == 200
    await until(lambda: fake_slack.of("views.publish"))
    assert [(c.text, str(c.destination)) for c in core.commands] == [
        ("following", "slack:T1:@U1"),
        ("help", "slack:T1:@U1"),
    ]
    [published] = fake_slack.of("views.publish")
    assert published.data["user_id"] == "U1"
    view = published.data["view"]
    assert view["type"] == "home"
    check_blocks([b for b in view["blocks"] if b["type"] != "divider"])
    assert [b["type"] for b in view["blocks"]].count("divider") == 1
    no_pings(view)
