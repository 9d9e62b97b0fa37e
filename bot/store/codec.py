"""Record <-> JSON text, shared by the backends (one format, one place)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.models import Destination, OutboxEntry, Paper, Subscription


def ts(value: datetime) -> float:
    """An aware datetime as a UTC epoch float."""
    if value.tzinfo is None:
        raise ValueError("datetimes given to the store must be timezone-aware")
    return value.timestamp()


def from_ts(value: float) -> datetime:
    """A UTC epoch float as an aware datetime."""
    return datetime.fromtimestamp(value, UTC)


def paper_json(paper: Paper) -> str:
    """A paper as JSON text (without its seq, which the backends keep apart)."""
    data = paper.to_dict()
    data.pop("seq", None)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def paper_from_json(text: str | bytes, seq: int) -> Paper:
    """Inverse of `paper_json`, with the stored ingest sequence."""
    data = json.loads(text)
    data["seq"] = seq
    return Paper.from_dict(data)


def sub_json(sub: Subscription) -> str:
    """A subscription as JSON text."""
    return json.dumps(sub.to_dict(), ensure_ascii=False, separators=(",", ":"))


def sub_from_json(text: str | bytes) -> Subscription:
    """Inverse of `sub_json`."""
    return Subscription.from_dict(json.loads(text))


def entry_dict(entry: OutboxEntry) -> dict[str, Any]:
    """An outbox entry as a JSON-ready dict."""
    return {
        "id": entry.id,
        "destination": str(entry.destination),
        "paper_id": entry.paper_id,
        "subscription_ids": list(entry.subscription_ids),
        "due_at": ts(entry.due_at),
        "terms": list(entry.terms),
        "attempts": entry.attempts,
        "lease_until": ts(entry.lease_until) if entry.lease_until else None,
        "last_error": entry.last_error,
    }


def entry_from_dict(data: dict[str, Any]) -> OutboxEntry:
    """Inverse of `entry_dict`."""
    return OutboxEntry(
        id=int(data["id"]),
        destination=Destination.parse(data["destination"]),
        paper_id=data["paper_id"],
        subscription_ids=tuple(data["subscription_ids"]),
        due_at=from_ts(float(data["due_at"])),
        terms=tuple(data.get("terms") or ()),
        attempts=int(data["attempts"]),
        lease_until=from_ts(float(data["lease_until"])) if data.get("lease_until") else None,
        last_error=data.get("last_error"),
    )
