"""`paperbot run` and `paperbot console`: the bot itself."""

from __future__ import annotations

import logging
import sys

import click

from adapters.console import ConsoleAdapter
from bot.app import App
from bot.cli.context import UsageFailure, cli_context, run_async
from bot.config import ConfigError

log = logging.getLogger(__name__)


@click.command()
@click.option(
    "--once", is_flag=True, help="One cycle (poll sources, deliver what is due), then exit."
)
@run_async
async def run(once: bool) -> None:
    """Run the bot: poll sources, match, deliver, and take /papers commands.

    Starts every adapter whose tokens are configured (Slack, Discord); with none, the
    console adapter takes commands from this terminal. Posts to console destinations
    are printed to stdout.
    """
    ctx = cli_context()
    settings = ctx.settings()
    ctx.bot_logging()
    app = await App.open(settings)
    try:
        if once:
            report = await app.cycle()
            click.echo(
                f"fetched={report.fetched} new={report.new} queued={report.queued} "
                f"posted={report.delivery.posted} retried={report.delivery.retried}",
                err=True,
            )
            return
        await app.run(console_repl=not app.platform_adapters and sys.stdin.isatty())
    except ConfigError as exc:
        raise UsageFailure(str(exc)) from None
    finally:
        await app.close()


@click.command()
@click.option("--channel", default="lab", show_default=True, help="Console channel to sit in.")
@click.option("--user", default="me", show_default=True, help="Your user name.")
@run_async
async def console(channel: str, user: str) -> None:
    """Chat with the bot in this terminal: no Slack or Discord tokens needed.

    Type /papers commands (the prefix is optional); posts to console:default:CHANNEL
    appear inline. Sources are polled as in `run`, Slack and Discord are not started.
    Reads one command per line when stdin is not a terminal; ends at end of input.
    """
    ctx = cli_context()
    settings = ctx.settings()
    ctx.bot_logging()
    adapter = ConsoleAdapter(channel=channel, user=user)
    app = await App.open(settings, console=adapter)
    try:
        await app.run(console_repl=True, platforms=False)
    finally:
        await app.close()


COMMANDS = [run, console]
