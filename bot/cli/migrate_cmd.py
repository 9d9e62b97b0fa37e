"""`paperbot migrate --to URL`: move everything to another store (SQLite -> Redis)."""

from __future__ import annotations

import click

from bot.cli.context import UsageFailure, cli_context, run_async
from bot.migrate import NotEmpty, migrate


@click.command("migrate")
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL",
    help="The empty store to copy into: redis://HOST:PORT/DB or sqlite:///PATH.",
)
@run_async
async def migrate_cmd(target: str) -> None:
    """Copy the configured store into an empty one, e.g. from SQLite to Redis.

    Papers, subscriptions and follows (same ids, schedules and pauses), the delivery
    ledger (nothing is posted twice), posts still waiting, cursors and feedback votes.
    Stop `paperbot run` first, then point store.url at the new store. The configured
    store is left as it was. The last line is a summary: papers=N subscriptions=M
    ledger=K outbox=Q votes=V.
    """
    ctx = cli_context()
    if target == ctx.settings().store_url:
        raise UsageFailure("--to names the configured store itself")
    async with ctx.store() as source, ctx.store(target) as destination:
        try:
            report = await migrate(source, destination)
        except NotEmpty as exc:
            raise UsageFailure(f"{exc}; migrate only into an empty store") from None
    click.echo(report.line())


COMMANDS = [migrate_cmd]
