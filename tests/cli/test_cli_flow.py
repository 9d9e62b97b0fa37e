"""The shell workflow: subscribe, ingest a file, run one cycle — posts exactly once."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main


@pytest.fixture(params=["sqlite", "redis"])
def env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each backend; sources disabled so that `run --once` touches no network."""
    if request.param == "redis":
        monkeypatch.setenv("PAPERBOT_STORE__URL", request.getfixturevalue("clean_redis"))
    monkeypatch.setenv("PAPERBOT_SOURCES__HUGGINGFACE__ENABLED", "false")
    monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV__ENABLED", "false")
    return tmp_path


def invoke(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def _papers(path: Path) -> Path:
    now = datetime.now(UTC)
    rows = [
        {
            "id": "2411.00001",
            "title": "Diffusion Policies for Robots",
            "abstract": "We propose diffusion policies.",
            "published": (now - timedelta(hours=5)).isoformat(),
        },
        {"id": "2411.00002", "title": "A Survey of Diffusion", "published": now.isoformat()},
        {
            "id": "2411.00003",
            "title": "Graph Networks <!channel> @everyone",
            "published": now.isoformat(),
        },
        "this line is broken",
    ]
    path.write_text("\n".join(json.dumps(r) if isinstance(r, dict) else r for r in rows) + "\n")
    return path


def test_subscribe_ingest_run_once_posts_once(env: Path) -> None:
    code, out, _ = invoke(env, "subscribe", "--channel", "console:default:lab", "diffusion -survey")
    assert code == 0
    sub_id = out.strip().splitlines()[-1]
    code, out, _ = invoke(env, "subscribe", "--channel", "console:default:other", "graph*")
    assert code == 0
    code, out, err = invoke(env, "ingest", "--file", str(_papers(env / "papers.jsonl")))
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "fetched=4 new=3 updated=0 skipped=1"
    code, out, err = invoke(env, "run", "--once")
    assert code == 0, err
    assert out.count("Diffusion Policies for Robots") == 1
    assert "Survey" not in out
    assert out.count("Graph Networks <!channel> @everyone") == 1  # printed literally
    assert "#lab" in out and "#other" in out and sub_id in out
    assert "posted=2" in err
    # Both again: nothing new is posted.
    invoke(env, "ingest", "--file", str(env / "papers.jsonl"))
    code, out, err = invoke(env, "run", "--once")
    assert code == 0 and "Diffusion" not in out and "posted=0" in err
    # The papers are searchable from the shell.
    code, out, _ = invoke(env, "search", "diffusion", "--json")
    assert code == 0
    assert {json.loads(line)["id"] for line in out.splitlines()} == {
        "arxiv:2411.00001",
        "arxiv:2411.00002",
    }


def test_match_style_errors(env: Path) -> None:
    code, _, err = invoke(env, "ingest", "--file", str(env / "missing.jsonl"))
    assert code == 2 and "cannot read" in err
    code, _, err = invoke(env, "ingest")
    assert code == 2 and "exactly one of --source or --file" in err
    code, _, err = invoke(env, "ingest", "--source", "huggingface", "--date", "yesterday")
    assert code == 2 and "2026-01-31" in err
    code, _, err = invoke(env, "search", "(unclosed")
    assert code == 2 and "never closed at column 1" in err
    code, _, err = invoke(env, "subscribe", "--channel", "console:default:lab", "di*")
    assert code == 2 and "needs at least 3 letters" in err


def test_console_is_scriptable(env: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(env), "console", "--channel", "lab"],
        input='/papers subscribe transformers\n/papers subscriptions\nsearch "unbalanced\n',
    )
    assert result.exit_code == 0, result.output
    assert "Subscribed this channel to transformers" in result.stdout
    assert "unbalanced quote at column 1" in result.stdout


@pytest.fixture
def root_level() -> Iterator[None]:
    """Put the root logger's level back after a command set the bot's."""
    level, httpx = logging.getLogger().level, logging.getLogger("httpx").level
    yield
    logging.getLogger().setLevel(level)
    logging.getLogger("httpx").setLevel(httpx)


@pytest.mark.parametrize(("level", "said"), [("INFO", True), ("WARNING", False)])
def test_the_bot_says_it_runs_at_its_log_level(
    env: Path,
    root_level: None,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    level: str,
    said: bool,
) -> None:
    monkeypatch.setenv("PAPERBOT_LOG_LEVEL", level)
    result = CliRunner().invoke(main, ["--data-dir", str(env), "console"], input="help\n")
    assert result.exit_code == 0, result.output
    running = [r.getMessage() for r in caplog.records if "paperbot running" in r.getMessage()]
    if said:
        [line] = running
        adapters, store, polling = line.split("; ")
        assert adapters == "paperbot running: console only" and polling == "polling no source"
        assert store in ("store redis://127.0.0.1:6379/15", f"store sqlite:///{env}/paperbot.db")
    else:
        assert running == []


def test_console_posts_what_another_process_ingested(env: Path) -> None:
    assert invoke(env, "subscribe", "--channel", "console:default:lab", "graph*")[0] == 0
    code, _, err = invoke(env, "ingest", "--file", str(_papers(env / "papers.jsonl")))
    assert code == 0, err
    result = CliRunner().invoke(
        main, ["--data-dir", str(env), "console", "--channel", "lab"], input="help\n"
    )
    assert result.exit_code == 0, result.output
    assert "paperbot → #lab" in result.stdout
    assert result.stdout.count("Graph Networks <!channel> @everyone") == 1
