"""Shared plumbing of the `paperbot` command line: settings, store, errors, async."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from bot.config import ConfigError, Settings, load_settings, safe_url
from bot.store import Store, StoreError, open_store
from bot.store.base import StoreUnavailable

P = ParamSpec("P")
T = TypeVar("T")


class UsageFailure(click.ClickException):
    """A user error: printed as `Error: message`, exit code 2."""

    exit_code = 2


@dataclass
class CliContext:
    """What the global options decided; settings are built on first use."""

    config: Path | None = None
    data_dir: Path | None = None
    verbose: int = 0
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        """The effective Settings; a ConfigError becomes a clean exit 2."""
        if self._settings is None:
            try:
                self._settings = load_settings(self.config, data_dir=self.data_dir)
            except ConfigError as exc:
                raise UsageFailure(str(exc)) from None
        return self._settings

    def bot_logging(self) -> None:
        """The bot's log level (`log_level`) unless -v/-vv asked for more. httpx's
        line per request shows at DEBUG only (each poll logs its own summary)."""
        if self.verbose == 0:
            level = self.settings().log_level
            logging.getLogger().setLevel(level)
            if level != "DEBUG":
                logging.getLogger("httpx").setLevel(logging.WARNING)

    @asynccontextmanager
    async def store(self, url: str | None = None) -> AsyncIterator[Store]:
        """Open the configured store (or the one at `url`) for the duration of a command."""
        url = url or self.settings().store_url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            store = await open_store(url)
        except StoreUnavailable as exc:
            raise click.ClickException(
                f"cannot reach the store at {safe_url(url)}: {exc}"
            ) from None
        try:
            yield store
        except StoreUnavailable as exc:
            raise click.ClickException(f"lost the store at {safe_url(url)}: {exc}") from None
        except StoreError as exc:
            raise UsageFailure(str(exc)) from None
        finally:
            await store.close()


def cli_context() -> CliContext:
    """The CliContext of the running command."""
    return click.get_current_context().find_object(CliContext) or CliContext()


def run_async(func: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """Let a click command be an async function."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return asyncio.run(func(*args, **kwargs))  # type: ignore[arg-type]

    return wrapper


def setup_logging(verbose: int) -> None:
    """Log to stderr: warnings by default, info with -v, debug with -vv."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def echo_json(data: Any) -> None:
    """Print one JSON object on one line."""
    import json

    click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
