"""The outcome of each source's last poll, kept in the store so that any process
(`/papers status` in a bot sharing a Redis store with the poller) can tell whether
papers are still coming in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.store import Store

#: The sources `paperbot run` polls, in the order status shows them.
POLLED = ("huggingface", "arxiv")
NAMES = {"huggingface": "Hugging Face", "arxiv": "arXiv"}


@dataclass(frozen=True, slots=True)
class PollStatus:
    """How one poll of a source ended: `detail` is the ingest line or the error."""

    source: str
    at: datetime
    ok: bool
    detail: str


def status_key(source: str) -> str:
    """The key of a source's last poll among the store's small values."""
    return f"poll_status:{source}"


async def record_poll(store: Store, status: PollStatus) -> None:
    """Remember a source's latest poll (replacing the one before)."""
    value = {"at": status.at.isoformat(), "ok": status.ok, "detail": status.detail}
    await store.set_value(status_key(status.source), json.dumps(value))


async def last_polls(store: Store) -> list[PollStatus]:
    """The latest recorded poll of each polled source (sources never polled are left out).

    An unreadable record is left out too: status is advice, never an error.
    """
    found: list[PollStatus] = []
    for source in POLLED:
        raw = await store.get_value(status_key(source))
        if raw is None:
            continue
        try:
            data = json.loads(raw)
            at = datetime.fromisoformat(data["at"])
            found.append(PollStatus(source, at, bool(data["ok"]), str(data["detail"])))
        except (ValueError, KeyError, TypeError):
            continue
    return found
