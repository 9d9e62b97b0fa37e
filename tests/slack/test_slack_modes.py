"""start()/stop(): HTTP mode serves /slack/events; Socket Mode talks to the fake socket."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import aiohttp
import pytest
from fake_slack import FakeSlack, always
from loopback import cli_runner
from slack_helpers import Recorder, click_payload, make_adapter, signed, slash, slash_payload, until

from bot.config import ConfigError
from bot.messages import Reply


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_http_mode_serves_signed_requests(fake_slack: FakeSlack) -> None:
    core = Recorder()
    port = free_port()
    slack = make_adapter(fake_slack, core, port=port)
    assert slack.mode == "http"
    await slack.start()
    try:
        url = f"http://127.0.0.1:{port}/slack/events"
        body = slash(fake_slack, "subscriptions")
        plain = {k: str(v[0]) for k, v in signed(body).items()}
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=body, headers=plain) as response:
                assert response.status == 200
            forged = {**plain, "x-slack-signature": "v0=" + "0" * 64}
            async with http.post(url, data=body, headers=forged) as response:
                assert response.status == 401
            stale = {k: str(v[0]) for k, v in signed(body, int(time.time()) - 600).items()}
            async with http.post(url, data=body, headers=stale) as response:
                assert response.status == 401
        await until(lambda: fake_slack.of("response_url"))
        assert [c.text for c in core.commands] == ["subscriptions"]
    finally:
        await slack.stop()
    with socket.socket() as s:  # stopped: nothing listens any more
        assert s.connect_ex(("127.0.0.1", port)) != 0


async def test_http_mode_needs_a_signing_secret(fake_slack: FakeSlack) -> None:
    slack = make_adapter(fake_slack, signing_secret=None)
    with pytest.raises(ConfigError, match=r"needs slack\.signing_secret"):
        await slack.start()


async def test_a_refused_bot_token_is_a_config_error(fake_slack: FakeSlack) -> None:
    fake_slack.failures["auth.test"] = always(200, "invalid_auth")
    slack = make_adapter(fake_slack, port=free_port())
    with pytest.raises(ConfigError, match=r"slack.bot_token \(invalid_auth\)"):
        await slack.start()


async def test_socket_mode_is_the_default_with_an_app_token(fake_slack: FakeSlack) -> None:
    core = Recorder(Reply(text="3 papers", ephemeral=True))
    slack = make_adapter(fake_slack, core, mode=None, signing_secret=None, app_token="xapp-1")
    assert slack.mode == "socket"
    await slack.start()
    try:
        [opened] = fake_slack.of("apps.connections.open")
        assert opened.data["_authorization"] == "Bearer xapp-1"
        await fake_slack.push(
            {
                "envelope_id": "e1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": slash_payload(fake_slack, "search diffusion", team="T5"),
            }
        )
        await until(lambda: fake_slack.socket_acks and fake_slack.of("response_url"))
        [ack] = fake_slack.socket_acks
        assert ack["envelope_id"] == "e1"
        assert ack["payload"] == {"text": "Searching…", "response_type": "ephemeral"}
        [command] = core.commands
        assert str(command.destination) == "slack:T5:C1" and command.text == "search diffusion"
        assert fake_slack.of("response_url")[0].data["response_type"] == "ephemeral"
        await fake_slack.push(
            {
                "envelope_id": "e2",
                "type": "interactive",
                "accepts_response_payload": False,
                "payload": click_payload(fake_slack, "paperbot_similar", "arxiv:2411.00001"),
            }
        )
        await until(lambda: len(core.commands) == 2 and len(fake_slack.socket_acks) == 2)
        assert core.commands[1].text == "similar arxiv:2411.00001"
        assert fake_slack.socket_acks[1]["envelope_id"] == "e2"
        await fake_slack.push(
            {
                "envelope_id": "e3",
                "type": "events_api",
                "accepts_response_payload": False,
                "payload": {
                    "team_id": "T5",
                    "api_app_id": "A1",
                    "type": "event_callback",
                    "event_id": "Ev3",
                    "event": {
                        "type": "message",
                        "channel_type": "im",
                        "channel": "D5",
                        "user": "U1",
                        "text": "following",
                        "ts": "1700000000.000200",
                    },
                },
            }
        )
        await until(lambda: len(core.commands) == 3 and fake_slack.of("chat.postMessage"))
        assert str(core.commands[2].destination) == "slack:T5:D5"
        assert core.commands[2].text == "following"
        assert fake_slack.of("chat.postMessage")[0].data["channel"] == "D5"
    finally:
        await slack.stop()
    assert len(fake_slack.of("apps.connections.open")) == 1  # the URL asked for was used


async def test_socket_mode_with_a_refused_app_token_is_a_config_error(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.failures["apps.connections.open"] = always(200, "invalid_auth")
    slack = make_adapter(fake_slack, mode="socket", app_token="xoxb-not-an-app-token")
    with pytest.raises(ConfigError, match="app-level token"):
        await slack.start()


async def test_socket_mode_needs_an_app_token(fake_slack: FakeSlack) -> None:
    slack = make_adapter(fake_slack, mode="socket")
    with pytest.raises(ConfigError, match=r"needs slack\.app_token"):
        await slack.start()
    assert fake_slack.calls == []


async def test_paperbot_run_without_the_secret_of_its_mode_exits_2(
    slack_env: FakeSlack, tmp_path: Path
) -> None:
    code, _, err = await cli_runner(tmp_path)("run")
    assert code == 2 and "needs slack.signing_secret" in err
