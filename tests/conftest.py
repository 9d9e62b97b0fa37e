"""Fixtures shared by the whole suite: a real Redis, and a `store` of every backend.

Redis comes from PAPERBOT_TEST_REDIS_URL (default redis://127.0.0.1:6379/15); that
database is flushed around each test. When Redis does not answer, its tests are
skipped — except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from hypothesis import settings

from bot.store import Store, open_store

# Shared machines are noisy: property tests are judged on results, never on speed.
settings.register_profile("paperbot", deadline=None)
settings.load_profile("paperbot")

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the test Redis database (skip, or fail under CI, when unreachable)."""
    url = os.environ.get("PAPERBOT_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5) as client:
            client.ping()
    except redis.RedisError as exc:
        message = f"Redis at {url} is unreachable ({exc}); Redis-backed tests need it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def clean_redis(redis_url: str) -> Iterator[str]:
    """The test Redis URL, its database flushed before and after the test."""
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()
        yield redis_url
        client.flushdb()


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened, empty store of each backend (SQLite in tmp_path; Redis flushed)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'paperbot.db'}"
    else:
        url = request.getfixturevalue("clean_redis")
    opened = await open_store(url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def doomed_redis(tmp_path: Path) -> Iterator[str]:
    """A private redis-server on a free port, for tests that kill it."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    proc.kill()
    proc.wait()
