"""End to end: subscribe, ingest, `paperbot run --once` -> the fake Discord REST API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_discord import FakeDiscord, error, rate_limited
from loopback import cli_runner


async def test_run_once_posts_each_match_once(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERBOT_DISCORD__TOKEN", "test")
    monkeypatch.setenv("PAPERBOT_DISCORD__API_URL", fake_discord.url)
    monkeypatch.setenv("PAPERBOT_SOURCES__HUGGINGFACE__ENABLED", "false")
    monkeypatch.setenv("PAPERBOT_SOURCES__ARXIV__ENABLED", "false")
    now = datetime.now(UTC).isoformat()
    papers = tmp_path / "papers.jsonl"
    papers.write_text(
        "\n".join(
            json.dumps({"id": f"2411.0000{i}", "title": title, "published": now})
            for i, title in enumerate(["Diffusion @everyone", "Diffusion models", "Graphs"], 1)
        )
    )
    fake_discord.failures["channels/222/messages"] = rate_limited(times=1, retry_after=0.01)
    fake_discord.failures["channels/999/messages"] = error(404, 10003, "Unknown Channel")

    run = cli_runner(tmp_path)

    assert (await run("subscribe", "--channel", "discord:111:222", "diffusion"))[0] == 0
    assert (await run("subscribe", "--channel", "discord:111:999", "graphs"))[0] == 0
    assert (await run("ingest", "--file", str(papers)))[0] == 0
    code, _, err = await run("run", "--once")
    assert code == 0, err
    [post] = fake_discord.delivered()
    assert post.path == "channels/222/messages"
    assert post.json["allowed_mentions"] == {"parse": []}
    titles = sorted(e["title"] for e in post.json["embeds"])
    assert titles == ["Diffusion @\u200beveryone", "Diffusion models"]
    assert len(fake_discord.posts("channels/222/messages")) == 2  # the 429, then the post
    assert not [c for c in fake_discord.calls if c.method == "PUT"]  # no command sync

    code, _, _ = await run("run", "--once")
    assert code == 0 and len(fake_discord.delivered()) == 1
    code, out, _ = await run("subscriptions", "--channel", "discord:111:999")
    assert code == 0 and "Unknown Channel" in out
