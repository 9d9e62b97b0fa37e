"""`paperbot status`: the operator's view of `/papers status`, every workspace."""

from __future__ import annotations

import click

from bot.cli.context import cli_context, run_async
from bot.commands.status import status_lines
from bot.models import utcnow


@click.command()
@run_async
async def status() -> None:
    """Is the bot working: each source's last poll, papers stored, subscriptions of
    every workspace, posts waiting in the outbox. Reads the store only."""
    ctx = cli_context()
    async with ctx.store() as store:
        lines = await status_lines(store, utcnow())
    for line in lines:
        click.echo(line)


COMMANDS = [status]
