"""`paperbot check-config`, `subscribe`, `subscriptions`, `unsubscribe` on both backends."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.cli.status_cmd import MATCHER
from bot.config import load_settings
from bot.matcher_native import AVAILABLE
from bot.models import Destination, OutboxEntry
from bot.poll_status import PollStatus, record_poll
from bot.store import open_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "redis"])
def cli(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke the CLI against a fresh store of each backend."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        import redis

        redis.Redis.from_url(url).flushdb()
        monkeypatch.setenv("PAPERBOT_STORE__URL", url)
    else:
        monkeypatch.delenv("PAPERBOT_STORE__URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(main, ["--data-dir", str(tmp_path), *args])
        return result.exit_code, result.stdout, result.stderr

    yield invoke
    if request.param == "redis":
        redis.Redis.from_url(url).flushdb()


def test_help_lists_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("check-config", "subscribe", "subscriptions", "unsubscribe", "status"):
        assert name in result.stdout


def test_check_config_prints_masked_settings(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[slack]\nbot_token = "xoxb-secret"\n')
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["slack"]["bot_token"] == "**********"
    assert "xoxb-secret" not in result.output


def test_check_config_example_file() -> None:
    result = CliRunner().invoke(main, ["check-config", str(ROOT / "config.example.toml")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[store]\nurl = 'ftp://x'\n", "store.url"),
        ("[delivery]\ntimezone = 'Nowhere/City'\n", "delivery.timezone"),
        ("[slak]\nbot_token = 'x'\n", "slak"),
    ],
)
def test_check_config_bad_file_exit_2(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 2
    assert key in result.stderr


def test_global_config_option_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[store]\nurl = 'ftp://x'\n")
    result = CliRunner().invoke(main, ["--config", str(path), "subscriptions"])
    assert result.exit_code == 2
    assert "store.url" in result.stderr


def test_subscribe_list_unsubscribe(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("subscribe", "--channel", "slack:T1:C2", "diffusion robot*")
    assert code == 0
    sub_id = out.strip().splitlines()[-1]
    assert 4 <= len(sub_id) <= 8 and sub_id.isalnum()

    code, out, _ = cli(
        "subscribe",
        "--channel",
        "discord:G1:C9",
        "--digest",
        "daily@07:30",
        "--tz",
        "Europe/Berlin",
        '"domain generalization" -survey',
    )
    assert code == 0
    digest_id = out.strip().splitlines()[-1]

    code, out, _ = cli("subscriptions", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["id"] for r in rows} == {sub_id, digest_id}
    digest = next(r for r in rows if r["id"] == digest_id)
    assert digest["schedule"] == "daily@07:30" and digest["tz"] == "Europe/Berlin"
    assert digest["query"] == '"domain generalization" -survey'

    code, out, _ = cli("subscriptions", "--channel", "slack:T1:C2")
    assert code == 0 and sub_id in out and digest_id not in out

    code, out, _ = cli("unsubscribe", sub_id)
    assert code == 0
    code, out, _ = cli("subscriptions", "--json")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [digest_id]

    code, _, err = cli("unsubscribe", sub_id)
    assert code == 2 and "no subscription" in err


def test_subscription_survives_a_new_process_on_sqlite(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["--data-dir", str(tmp_path), "subscribe", "--channel", "console:default:lab", "x"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "paperbot.db").exists()
    listed = runner.invoke(main, ["--data-dir", str(tmp_path), "subscriptions"])
    assert result.stdout.strip() in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--channel", "slak:T1:C2", "x"], "unknown platform"),
        (["--channel", "slack:T1", "x"], "platform:workspace:channel"),
        (["--channel", "slack:T1:C2", "--digest", "hourly", "x"], "unknown schedule"),
        (
            ["--channel", "slack:T1:C2", "--digest", "daily@09:00", "--tz", "Mars/X", "x"],
            "time zone",
        ),
        (["--channel", "slack:T1:C2", "   "], "empty"),
        (["--channel", "slack:T1:C2", '"domain generalization'], "unbalanced quote at column 1"),
        (["--channel", "slack:T1:C2", "titel:robots"], "did you mean title:?"),
        (["--channel", "slack:T1:C2", "--", "-survey"], "would post nearly every new paper"),
        (["--channel", "slack:T1:C2", "--instant", "--digest", "daily", "x"], "exclude"),
    ],
)
def test_subscribe_rejects_bad_input(cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("subscribe", *args)
    assert code == 2
    assert message in err


def test_status_covers_every_workspace(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    papers = tmp_path / "papers.jsonl"
    papers.write_text('{"id": "arxiv:2411.00001", "title": "Robots"}\n')
    assert cli("ingest", "--file", str(papers))[0] == 0
    for channel in ("slack:T1:C1", "slack:T1:@U1", "discord:81384788765712384:7"):
        assert cli("subscribe", "--channel", channel, "robots")[0] == 0
    code, out, _ = cli("status")
    assert code == 0
    assert out.splitlines() == [
        "Sources: not polled yet (`paperbot run` polls them)",
        "Papers: 1 stored",
        "2 workspaces: 2 channel subscriptions, 1 personal follow",
        MATCHER,
    ]
    assert MATCHER == "Matcher: native (C kernel)" or not AVAILABLE


def test_a_query_starting_with_a_minus_goes_after_double_dash(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("subscribe", "--channel", "slack:T1:C2", "--", "-survey robots")
    assert code == 0
    code, listing, _ = cli("subscriptions")
    assert out.strip().splitlines()[-1] in listing and "-survey robots" in listing
    assert '-- "-survey robots"' in cli("subscribe", "--help")[1]


def test_status_check_fails_when_a_source_is_late(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("status", "--check")
    assert code == 1 and "Hugging Face has not been polled yet" in err
    now = datetime.now(UTC)

    async def polled(hf_ago: timedelta) -> None:
        store = await open_store(load_settings(None, data_dir=tmp_path).store_url)
        await record_poll(store, PollStatus("huggingface", now - hf_ago, True, "fetched=1"))
        await record_poll(store, PollStatus("arxiv", now, False, "HTTP 503"))  # failing: alive
        await store.close()

    asyncio.run(polled(timedelta(minutes=20)))
    code, out, _ = cli("status", "--check")
    assert code == 0 and "arXiv: last poll just now, failed: HTTP 503" in out
    asyncio.run(polled(timedelta(hours=1)))  # 3 intervals of 15 minutes: late
    code, _, err = cli("status", "--check")
    assert code == 1 and "unhealthy: Hugging Face last polled 1 h ago (expected every 900 s)" in err


def test_status_check_fails_when_posts_keep_failing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    lab = Destination.parse("slack:T1:C1")

    async def fail(times: int) -> None:
        store = await open_store(load_settings(None, data_dir=tmp_path).store_url)
        for source in ("huggingface", "arxiv"):
            await record_poll(store, PollStatus(source, now, True, "fetched=1"))
        if not await store.pending():
            await store.enqueue([OutboxEntry(lab, "arxiv:2411.00001", ("s1",), now)])
        for _ in range(times):
            [entry] = await store.lease(now, 60)
            await store.retry(entry.id, now, "Slack: the bot token was revoked (token_revoked)")
        await store.close()

    asyncio.run(fail(5))
    code, out, _ = cli("status", "--check")
    assert code == 0 and "(last attempt failed: Slack: the bot token was revoked" in out
    asyncio.run(fail(1))
    code, _, err = cli("status", "--check")
    assert code == 1 and err.strip() == (
        "unhealthy: 1 post failed 6 times or more "
        "(e.g. to slack:T1:C1: Slack: the bot token was revoked (token_revoked))"
    )


def test_duplicate_subscription_is_refused(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("subscribe", "--channel", "slack:T1:C2", "gan")[0] == 0
    code, _, err = cli("subscribe", "--channel", "slack:T1:C2", "gan")
    assert code == 2 and "already has subscription" in err


def test_subscribing_again_with_a_schedule_changes_it(cli) -> None:  # type: ignore[no-untyped-def]
    args = ("subscribe", "--channel", "slack:T1:C2")
    first = cli(*args, "--digest", "weekly@fri", "--tz", "Europe/Berlin", "gan")[1].strip()
    code, out, err = cli(*args, "--tz", "Asia/Tokyo", "gan")
    assert code == 0 and out.strip() == first
    assert f"changed {first} (was weekly@fri@09:00, Europe/Berlin)" in err
    assert "(weekly@fri@09:00, Asia/Tokyo)" in err  # only the zone changed
    code, out, err = cli(*args, "--instant", "gan")
    assert code == 0 and "to 'gan' (instant)" in err
    assert cli(*args, "--instant", "gan")[0] == 2  # nothing to change
    code, out, _ = cli("subscriptions", "--json")
    [row] = [json.loads(line) for line in out.splitlines()]
    assert (row["id"], row["schedule"]) == (first, "instant")


def test_unreachable_redis_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERBOT_STORE__URL", "redis://127.0.0.1:1/0")
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "subscriptions"])
    assert result.exit_code == 1
    assert "cannot reach the store" in result.stderr
