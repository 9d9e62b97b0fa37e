"""End to end in HTTP mode: subscribe, ingest, `paperbot run --once` -> the fake Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fake_slack import FakeSlack
from loopback import cli_runner
from slack_helpers import check_blocks, no_pings


async def test_run_once_posts_each_match_once(slack_env: FakeSlack, tmp_path: Path) -> None:
    fake_slack = slack_env
    now = datetime.now(UTC).isoformat()
    papers = tmp_path / "papers.jsonl"
    papers.write_text(
        "\n".join(
            json.dumps({"id": f"2411.0000{i}", "title": title, "published": now})
            for i, title in enumerate(
                ["Diffusion <!channel> policies", "Diffusion models", "Graph networks"], 1
            )
        )
    )

    run = cli_runner(tmp_path)

    assert (await run("subscribe", "--channel", "slack:T1:C1", "diffusion"))[0] == 0
    assert (await run("subscribe", "--channel", "slack:T1:C2", "graph"))[0] == 0
    # A workspace this bot token does not belong to is never posted to.
    assert (await run("subscribe", "--channel", "slack:T2:C1", "graph"))[0] == 0
    assert (await run("ingest", "--file", str(papers)))[0] == 0
    code, _, err = await run("run", "--once")
    assert code == 0, err
    posts = fake_slack.of("chat.postMessage")
    assert len(posts) == 2  # one batch per destination
    by_channel: dict[str, list[str]] = {}
    for post in posts:
        check_blocks(post.data["blocks"])
        for block in post.data["blocks"]:
            if block["type"] == "header":
                by_channel.setdefault(post.data["channel"], []).append(block["text"]["text"])
        no_pings(post.data)
    assert sorted(by_channel["C1"]) == ["Diffusion &lt;!channel&gt; policies", "Diffusion models"]
    assert by_channel["C2"] == ["Graph networks"]
    code, out, _ = await run("subscriptions", "--workspace", "slack:T2")
    assert "paused: Slack: this bot token belongs to workspace T1, not T2" in out
    code, _, err = await run("run", "--once")
    assert code == 0 and len(fake_slack.of("chat.postMessage")) == 2  # nothing twice
