"""The SQLite store's delivery ledger, outbox, small values and feedback statements.

Run on the store's worker thread, connection first; multi-statement changes run in
`BEGIN IMMEDIATE` transactions (atomic across connections and processes).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import datetime

from bot.models import OutboxEntry
from bot.store.codec import entry_from_dict, from_ts, ts
from bot.store.sqlite_ops import transaction, utc

_COLUMNS = (
    "id",
    "destination",
    "paper_id",
    "subscription_ids",
    "terms",
    "due_at",
    "attempts",
    "lease_until",
    "last_error",
)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM outbox"
_ORDER = "ORDER BY due_at, id"


def _claim(conn: sqlite3.Connection, destination: str, paper_id: str) -> bool:
    cursor = conn.execute("INSERT OR IGNORE INTO ledger VALUES (?, ?)", (destination, paper_id))
    return cursor.rowcount == 1


def claim(conn: sqlite3.Connection, destination: str, paper_ids: list[str]) -> list[str]:
    """Claim (destination, paper) pairs; the ids won, in input order, each once."""
    with transaction(conn):
        return [p for p in dict.fromkeys(paper_ids) if _claim(conn, destination, p)]


def ledger(conn: sqlite3.Connection) -> list[tuple[str, list[str]]]:
    """Every destination with the paper ids claimed for it."""
    claimed: dict[str, list[str]] = {}
    for destination, paper_id in conn.execute(
        "SELECT destination, paper_id FROM ledger ORDER BY destination, paper_id"
    ):
        claimed.setdefault(destination, []).append(paper_id)
    return list(claimed.items())


def unclaim(conn: sqlite3.Connection, destination: str, paper_ids: list[str]) -> int:
    """Forget claims; how many there were."""
    with transaction(conn):
        return sum(
            conn.execute(
                "DELETE FROM ledger WHERE destination = ? AND paper_id = ?", (destination, p)
            ).rowcount
            for p in dict.fromkeys(paper_ids)
        )


def enqueue(conn: sqlite3.Connection, entries: list[OutboxEntry], claim: bool) -> list[OutboxEntry]:
    """Insert entries (only the ledger winners when `claim`); them with ids, in order."""
    done: list[OutboxEntry] = []
    with transaction(conn):
        for entry in entries:
            if claim and not _claim(conn, str(entry.destination), entry.paper_id):
                continue
            lease_until = utc(entry.lease_until) if entry.lease_until else None
            cursor = conn.execute(
                "INSERT INTO outbox (destination, paper_id, subscription_ids, terms, due_at, "
                "attempts, lease_until, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(entry.destination),
                    entry.paper_id,
                    json.dumps(list(entry.subscription_ids)),
                    json.dumps(list(entry.terms)),
                    ts(entry.due_at),
                    entry.attempts,
                    ts(lease_until) if lease_until else None,
                    entry.last_error,
                ),
            )
            if cursor.lastrowid is None:  # pragma: no cover - SQLite always sets it
                raise sqlite3.OperationalError("outbox insert returned no id")
            done.append(
                replace(
                    entry, id=cursor.lastrowid, due_at=utc(entry.due_at), lease_until=lease_until
                )
            )
    return done


def _entry(row: tuple[object, ...]) -> OutboxEntry:
    data = dict(zip(_COLUMNS, row, strict=True))
    data["subscription_ids"] = json.loads(str(data["subscription_ids"]))
    data["terms"] = json.loads(str(data["terms"]))
    return entry_from_dict(data)


def lease(conn: sqlite3.Connection, now: float, seconds: float, limit: int) -> list[OutboxEntry]:
    """Lease up to `limit` due entries nobody holds (lease absent or expired before `now`)."""
    with transaction(conn):
        rows = conn.execute(
            f"{_SELECT} WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ?) "
            f"{_ORDER} LIMIT ?",
            (now, now, max(limit, 0)),
        ).fetchall()
        until = now + seconds
        leased: list[OutboxEntry] = []
        for row in rows:
            entry = _entry(row)
            conn.execute(
                "UPDATE outbox SET lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                (until, entry.id),
            )
            leased.append(replace(entry, lease_until=from_ts(until), attempts=entry.attempts + 1))
    return leased


def ack(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Delete entries; unknown ids are ignored."""
    with transaction(conn):
        conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])


def retry(conn: sqlite3.Connection, entry_id: int, due_at: datetime, error: str) -> None:
    """Release an entry's lease, make it due at `due_at` and remember the error."""
    conn.execute(
        "UPDATE outbox SET lease_until = NULL, due_at = ?, last_error = ? WHERE id = ?",
        (ts(due_at), error, entry_id),
    )


def pending(conn: sqlite3.Connection, destination: str | None) -> list[OutboxEntry]:
    """Entries not yet acked (of one destination if given), oldest due first."""
    if destination is None:
        rows = conn.execute(f"{_SELECT} {_ORDER}")
    else:
        rows = conn.execute(f"{_SELECT} WHERE destination = ? {_ORDER}", (destination,))
    return [_entry(row) for row in rows]


def reschedule(conn: sqlite3.Connection, destination: str, due_at: datetime) -> int:
    """Make every pending entry of a destination due at `due_at`; how many."""
    cursor = conn.execute(
        "UPDATE outbox SET due_at = ? WHERE destination = ?", (ts(due_at), destination)
    )
    return cursor.rowcount


# -- cursors, small values, counters ----------------------------------------------------


def get_text(conn: sqlite3.Connection, table: str, key: str) -> str | None:
    """The value under `key` in `cursors` or `kv`, or None."""
    column = {"cursors": "source", "kv": "key"}[table]
    row = conn.execute(f"SELECT value FROM {table} WHERE {column} = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_text(conn: sqlite3.Connection, table: str, key: str, value: str) -> None:
    """Store `value` under `key` in `cursors` or `kv`."""
    column = {"cursors": "source", "kv": "key"}[table]
    conn.execute(
        f"INSERT INTO {table} ({column}, value) VALUES (?, ?) "
        f"ON CONFLICT({column}) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def incr(conn: sqlite3.Connection, key: str, by: int) -> int:
    """Add `by` to the counter `key` (0 when new); the new count."""
    with transaction(conn):
        current = get_text(conn, "kv", key)
        count = (0 if current is None else int(current)) + by
        set_text(conn, "kv", key, str(count))
    return count


# -- feedback -------------------------------------------------------------------------


def record_feedback(
    conn: sqlite3.Connection, tenant: str, paper_id: str, who: str, value: int
) -> None:
    """Record a vote of `who` (last vote wins); 0 withdraws it."""
    if value == 0:
        conn.execute(
            "DELETE FROM feedback WHERE tenant = ? AND paper_id = ? AND who = ?",
            (tenant, paper_id, who),
        )
    else:
        conn.execute(
            "INSERT INTO feedback (tenant, paper_id, who, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(tenant, paper_id, who) DO UPDATE SET value = excluded.value",
            (tenant, paper_id, who, value),
        )


def votes(conn: sqlite3.Connection) -> list[tuple[str, str, str, int]]:
    """Every standing vote: (tenant, paper id, who, +1 or -1)."""
    rows = conn.execute("SELECT tenant, paper_id, who, value FROM feedback ORDER BY 1, 2, 3")
    return [(t, p, w, int(v)) for t, p, w, v in rows]


def feedback(conn: sqlite3.Connection, tenant: str, paper_id: str) -> tuple[int, int]:
    """(up, down) votes of a paper within a tenant."""
    row = conn.execute(
        "SELECT coalesce(sum(value = 1), 0), coalesce(sum(value = -1), 0) FROM feedback "
        "WHERE tenant = ? AND paper_id = ?",
        (tenant, paper_id),
    ).fetchone()
    return int(row[0]), int(row[1])
