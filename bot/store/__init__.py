"""Storage backends behind one `Store` protocol, chosen by URL."""

from __future__ import annotations

from bot.store.base import DuplicateSubscription, Store, StoreError, StoreUnavailable

__all__ = ["DuplicateSubscription", "Store", "StoreError", "StoreUnavailable", "open_store"]


async def open_store(url: str) -> Store:
    """Open the store at `url` (`sqlite:///path` or `redis://host:port/db`).

    Raises StoreUnavailable when the backend cannot be reached and ValueError for
    an unsupported URL scheme.
    """
    if url.startswith("sqlite://"):
        from bot.store.sqlite import SQLiteStore

        return await SQLiteStore.open(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from bot.store.redis import RedisStore

        return await RedisStore.open(url)
    raise ValueError(f"unsupported store URL {url!r}: use sqlite:///PATH or redis://HOST:PORT/DB")
