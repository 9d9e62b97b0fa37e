"""`paperbot status`: the operator's view of `/papers status`, every workspace, and
`--check` for health checks (Docker's HEALTHCHECK)."""

from __future__ import annotations

from datetime import timedelta

import click

from bot.cli.context import cli_context, run_async
from bot.commands.status import ago, status_lines
from bot.matcher_native import INSTALLED
from bot.messages import plural
from bot.models import utcnow
from bot.pipeline import polled_every
from bot.poll_status import NAMES, last_polls

#: A source counts as late after this many of its poll intervals without a poll.
LATE_AFTER = 3
#: A post counts as stuck after this many failed attempts (about half an hour of backoff).
STUCK_AFTER = 6
#: Which percolator this installation runs (bot/matcher.py).
MATCHER = f"Matcher: {INSTALLED}"


@click.command()
@click.option(
    "--check",
    is_flag=True,
    help=f"Exit 1 when a polled source has not been polled for {LATE_AFTER} of its "
    f"intervals (the bot is stuck or stopped), or posts have failed {STUCK_AFTER} times "
    "(a revoked token, say); for health checks.",
)
@run_async
async def status(check: bool) -> None:
    """Is the bot working: each source's last poll, papers stored, subscriptions of
    every workspace, posts waiting in the outbox, and which matcher is installed.
    Reads the store only."""
    ctx = cli_context()
    now = utcnow()
    async with ctx.store() as store:
        found = await last_polls(store)
        lines = await status_lines(store, now, found)
        waiting = await store.pending() if check else []
    polls = {p.source: p for p in found}
    lines.append(MATCHER)
    for line in lines:
        click.echo(line)
    if not check:
        return
    for source, seconds in polled_every(ctx.settings()).items():
        poll = polls.get(source)
        if poll is None or now - poll.at > timedelta(seconds=LATE_AFTER * seconds):
            when = "has not been polled yet" if poll is None else f"last polled {ago(poll.at, now)}"
            click.echo(
                f"unhealthy: {NAMES[source]} {when} (expected every {seconds:.0f} s)", err=True
            )
            raise SystemExit(1)
    stuck = [e for e in waiting if e.attempts >= STUCK_AFTER and e.last_error]
    if stuck:
        worst = max(stuck, key=lambda e: e.attempts)
        click.echo(
            f"unhealthy: {plural(len(stuck), 'post')} failed {STUCK_AFTER} times or more "
            f"(e.g. to {worst.destination}: {worst.last_error})",
            err=True,
        )
        raise SystemExit(1)


COMMANDS = [status]
