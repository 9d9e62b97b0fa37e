"""The `paperbot` command line. Each topic's commands live in a module of this package."""

from __future__ import annotations

from pathlib import Path

import click

from bot import __version__
from bot.cli.context import CliContext, setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="PAPERBOT_CONFIG",
    help="TOML config file (env PAPERBOT_CONFIG).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the SQLite store and search index live (default: the user data dir).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(__version__, prog_name="paperbot")
@click.pass_context
def main(ctx: click.Context, config: Path | None, data_dir: Path | None, verbose: int) -> None:
    """paperbot: a self-hosted Slack and Discord bot that recommends research papers."""
    setup_logging(verbose)
    ctx.obj = CliContext(config=config, data_dir=data_dir, verbose=verbose)


def _register() -> None:
    from bot.cli import (
        config_cmd,
        ingest,
        match,
        migrate_cmd,
        run,
        search_cmd,
        status_cmd,
        subscriptions,
    )

    modules = (run, config_cmd, subscriptions, ingest, search_cmd, match, status_cmd, migrate_cmd)
    for module in modules:
        for command in module.COMMANDS:
            main.add_command(command)


_register()
