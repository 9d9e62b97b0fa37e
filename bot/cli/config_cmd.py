"""`paperbot check-config`: validate a config file and show the effective settings."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli.context import UsageFailure, cli_context
from bot.config import ConfigError, load_settings


@click.command("check-config")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def check_config(file: Path | None) -> None:
    """Validate FILE (default: --config) and print the effective settings, secrets masked.

    Exits 2 with a message naming the bad key when the configuration is invalid.
    """
    ctx = cli_context()
    path = file or ctx.config
    try:
        settings = load_settings(path, data_dir=ctx.data_dir)
    except ConfigError as exc:
        raise UsageFailure(str(exc)) from None
    click.echo(json.dumps(settings.masked(), indent=2))
    click.echo(f"ok: {path or 'defaults + environment'} is valid", err=True)


COMMANDS = [check_config]
