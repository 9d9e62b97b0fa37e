"""Test helpers: serve an aiohttp app on loopback; drive the CLI from async tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from click.testing import CliRunner

from bot.cli import main


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on 127.0.0.1 at a free port; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def cli_runner(data_dir: Path) -> Callable[..., Awaitable[tuple[int, str, str]]]:
    """`await run("subscribe", ...)`: the CLI in a worker thread (it runs its own loop)."""

    def invoke(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])
        return result.exit_code, result.stdout, result.stderr

    async def run(*args: str) -> tuple[int, str, str]:
        return await asyncio.to_thread(invoke, *args)

    return run
