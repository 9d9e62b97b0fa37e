"""The console adapter: paperbot in a terminal, no tokens needed.

Type the same `/papers ...` commands as in Slack or Discord (the `/papers` prefix is
optional). Posts to `console:default:<channel>` and to the user's console DMs appear
inline. When stdin is not a terminal it reads one command per line and prints the
replies, so it can be scripted. Paper text is printed literally: rich markup in a
title (`[bold]`) is escaped, never interpreted.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from bot.messages import Actor, Card, Command, MessageRef, Reply
from bot.models import Destination

WORKSPACE = "default"
Handle = Callable[[Command], Awaitable[Reply]]


def render_card(card: Card) -> str:
    """One card as rich markup (every paper text escaped)."""
    lines = [f"[bold]{escape(card.title)}[/bold]", f"  {escape(card.url)}"]
    facts = [card.authors, card.date or "", ", ".join(card.categories)]
    if card.upvotes is not None:
        facts.append(f"▲ {card.upvotes}")
    lines.append("  " + escape(" · ".join(f for f in facts if f)))
    if card.tldr:
        lines.append(f"  TL;DR: {escape(card.tldr)}")
    links = [x for x in (card.hf_url, card.github) if x]
    if links:
        lines.append("  " + escape("  ".join(links)))
    if card.matched or card.subscription_ids:
        why = ", ".join(card.matched) or "?"
        subs = ", ".join(card.subscription_ids)
        lines.append(f"  [dim]matched: {escape(why)}{escape(f' ({subs})') if subs else ''}[/dim]")
    return "\n".join(lines)


def render(reply: Reply) -> str:
    """A whole reply as rich markup."""
    parts = []
    if reply.text:
        style = "red" if reply.is_error else "cyan"
        parts.append(f"[{style}]{escape(reply.text)}[/{style}]")
    parts += [f"  {escape(line)}" for line in reply.lines]
    if reply.about is not None:
        parts.append(f"  Channel: {escape(str(reply.about))}")
    parts += [render_card(card) for card in reply.cards]
    if reply.footer:
        parts.append(f"[dim]{escape(reply.footer)}[/dim]")
    return "\n".join(parts)


class ConsoleAdapter:
    """A terminal chat bound to one console channel and one user."""

    platform = "console"

    def __init__(
        self,
        channel: str = "lab",
        user: str = "me",
        out: TextIO | None = None,
        handle: Handle | None = None,
    ) -> None:
        self.destination = Destination("console", WORKSPACE, channel)
        self.actor = Actor(user=user, is_admin=True, name=user)
        self.console = Console(file=out or sys.stdout, highlight=False, soft_wrap=True)
        self.handle = handle
        self._ids = itertools.count(1)

    async def start(self) -> None:
        """Nothing to connect to: the terminal is always there."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def send(
        self, destination: Destination, reply: Reply, thread: MessageRef | None = None
    ) -> MessageRef:
        """Print a post to a console channel or DM."""
        where = f"#{destination.channel}" if not destination.is_user else destination.channel
        prefix = "  ↳ " if thread else ""
        self.console.print(f"[magenta]{prefix}paperbot → {escape(where)}[/magenta]")
        self.console.print(render(reply))
        return MessageRef(destination, str(next(self._ids)))

    def to_command(self, line: str) -> Command | None:
        """A typed line -> Command (None for an empty line)."""
        text = line.strip()
        if not text:
            return None
        if text.startswith("/papers"):
            text = text[len("/papers") :].strip()
        return Command(text=text, destination=self.destination, actor=self.actor)

    async def say(self, line: str) -> Reply | None:
        """Handle one typed line and print the reply; returns it (None if empty)."""
        command = self.to_command(line)
        if command is None or self.handle is None:
            return None
        reply = await self.handle(command)
        self.console.print(render(reply))
        return reply

    async def repl(
        self,
        stdin: TextIO | None = None,
        after_each: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        """Read commands until end of input (or `exit`), answering each.

        `after_each` runs after every command (the console delivers right away, so a
        subscription's posts show up without waiting for the next cycle).
        """
        stdin = stdin or sys.stdin
        interactive = stdin.isatty()
        if interactive:
            self.console.print(
                f"paperbot console — channel #{self.destination.channel} as {self.actor.user}. "
                "Type /papers help, or exit."
            )
        while True:
            if interactive:
                self.console.print("[bold]> [/bold]", end="")
            line = await asyncio.to_thread(stdin.readline)
            if not line or line.strip() in ("exit", "quit"):
                return
            await self.say(line)
            if after_each is not None:
                await after_each()
