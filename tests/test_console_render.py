"""The console adapter prints paper text literally and posts inline."""

from __future__ import annotations

import io

from adapters.console import ConsoleAdapter, render
from bot.messages import Card, Command, MessageRef, Reply
from bot.models import Destination


def _card(title: str) -> Card:
    return Card(
        paper_id="arxiv:1",
        title=title,
        url="https://arxiv.org/abs/1",
        authors="A, B",
        date="2026-11-24",
        categories=("cs.LG",),
        upvotes=0,
        tldr="We propose [red]x[/red].",
        matched=("x",),
        subscription_ids=("s7k2p",),
    )


def test_markup_in_paper_text_is_literal() -> None:
    out = io.StringIO()
    adapter = ConsoleAdapter(out=out)
    adapter.console.print(render(Reply(text="t", cards=(_card("[bold]Loud[/bold] <!channel>"),))))
    text = out.getvalue()
    assert "[bold]Loud[/bold] <!channel>" in text
    assert "We propose [red]x[/red]." in text
    assert "▲ 0" in text
    assert "matched: x (s7k2p)" in text


async def test_send_prints_post_with_thread_marker() -> None:
    out = io.StringIO()
    adapter = ConsoleAdapter(channel="lab", out=out)
    dest = Destination("console", "default", "lab")
    ref = await adapter.send(dest, Reply(text="1 new paper", cards=(_card("T"),)))
    await adapter.send(dest, Reply(text="", cards=(_card("U"),)), thread=ref)
    text = out.getvalue()
    assert "paperbot → #lab" in text and "↳ paperbot → #lab" in text
    assert ref == MessageRef(dest, "1")


async def test_say_builds_commands_for_its_channel_and_user() -> None:
    seen: list[Command] = []

    async def handle(command: Command) -> Reply:
        seen.append(command)
        return Reply(text="ok")

    adapter = ConsoleAdapter(channel="lab", user="ada", out=io.StringIO(), handle=handle)
    assert await adapter.say("/papers search diffusion") == Reply(text="ok")
    assert await adapter.say("   ") is None
    [command] = seen
    assert command.text == "search diffusion"
    assert str(command.destination) == "console:default:lab"
    assert str(command.actor_destination) == "console:default:@ada"


async def test_repl_reads_lines_until_exit() -> None:
    seen: list[str] = []

    async def handle(command: Command) -> Reply:
        seen.append(command.text)
        return Reply(text=f"echo {command.text}")

    out = io.StringIO()
    adapter = ConsoleAdapter(out=out, handle=handle)
    await adapter.repl(io.StringIO("help\n\n/papers search x\nexit\nsearch never\n"))
    assert seen == ["help", "search x"]
    assert "echo search x" in out.getvalue()


def test_a_reply_about_a_channel_names_it() -> None:
    lab = Destination.parse("console:default:lab")
    shown = render(Reply(text="I paused it.", about=lab))
    assert shown.splitlines()[-1] == "  Channel: console:default:lab"
    assert "Channel:" not in render(Reply(text="I paused it."))
