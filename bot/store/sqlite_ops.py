"""The SQLite store's statements: plain functions run on its worker thread."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from bot.models import OutboxEntry, Paper, PutResult, Subscription
from bot.store.codec import (
    entry_from_dict,
    from_ts,
    paper_from_json,
    paper_json,
    sub_from_json,
    sub_json,
    ts,
)

_ENTRY_COLUMNS = (
    "id, destination, paper_id, subscription_ids, terms, due_at, attempts, lease_until, last_error"
)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def put_papers(conn: sqlite3.Connection, papers: list[Paper]) -> PutResult:
    """Insert or merge a batch of papers."""
    batch: dict[str, Paper] = {}
    for paper in papers:
        batch[paper.id] = batch[paper.id].merged(paper) if paper.id in batch else paper
    new, updated, unchanged = [], [], []
    with transaction(conn):
        existing = _select_papers(conn, list(batch))
        for paper_id, paper in batch.items():
            old = existing.get(paper_id)
            if old is None:
                conn.execute(
                    "INSERT INTO papers (id, data) VALUES (?, ?)", (paper_id, paper_json(paper))
                )
                new.append(paper_id)
                continue
            merged = old.merged(paper)
            if merged == old:
                unchanged.append(paper_id)
            else:
                conn.execute(
                    "UPDATE papers SET data = ? WHERE id = ?", (paper_json(merged), paper_id)
                )
                updated.append(paper_id)
    return PutResult(tuple(new), tuple(updated), tuple(unchanged))


def _select_papers(conn: sqlite3.Connection, ids: list[str]) -> dict[str, Paper]:
    found: dict[str, Paper] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for seq, data in conn.execute(f"SELECT seq, data FROM papers WHERE id IN ({marks})", chunk):
            paper = paper_from_json(data, seq)
            found[paper.id] = paper
    return found


def get_papers(conn: sqlite3.Connection, ids: list[str]) -> dict[str, Paper]:
    """The known papers among `ids`."""
    return _select_papers(conn, ids)


def papers_after(conn: sqlite3.Connection, seq: int, limit: int) -> list[Paper]:
    """Papers with seq > `seq`, in order."""
    rows = conn.execute(
        "SELECT seq, data FROM papers WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
    )
    return [paper_from_json(data, s) for s, data in rows]


def get_subscription(conn: sqlite3.Connection, tenant: str, sub_id: str) -> Subscription | None:
    """One subscription of a tenant."""
    row = conn.execute(
        "SELECT data FROM subscriptions WHERE id = ? AND tenant = ?", (sub_id, tenant)
    ).fetchone()
    return None if row is None else sub_from_json(row[0])


def list_subscriptions(
    conn: sqlite3.Connection, tenant: str, destination: str | None
) -> list[Subscription]:
    """A tenant's subscriptions, oldest first."""
    if destination is None:
        rows = conn.execute(
            "SELECT data FROM subscriptions WHERE tenant = ? ORDER BY created, id", (tenant,)
        )
    else:
        rows = conn.execute(
            "SELECT data FROM subscriptions WHERE tenant = ? AND destination = ? "
            "ORDER BY created, id",
            (tenant, destination),
        )
    return [sub_from_json(data) for (data,) in rows]


def all_subscriptions(conn: sqlite3.Connection) -> list[Subscription]:
    """Every subscription."""
    return [sub_from_json(data) for (data,) in conn.execute("SELECT data FROM subscriptions")]


def _save(conn: sqlite3.Connection, sub: Subscription) -> None:
    conn.execute("UPDATE subscriptions SET data = ? WHERE id = ?", (sub_json(sub), sub.id))


def set_paused(
    conn: sqlite3.Connection, tenant: str, sub_id: str, paused: bool, reason: str | None
) -> Subscription | None:
    """Pause or resume one subscription."""
    with transaction(conn):
        sub = get_subscription(conn, tenant, sub_id)
        if sub is None:
            return None
        sub = replace(sub, paused=paused, paused_reason=reason if paused else None)
        _save(conn, sub)
    return sub


def pause_destination(conn: sqlite3.Connection, destination: str, reason: str) -> int:
    """Pause every running subscription of a destination."""
    count = 0
    with transaction(conn):
        rows = conn.execute(
            "SELECT data FROM subscriptions WHERE destination = ?", (destination,)
        ).fetchall()
        for (data,) in rows:
            sub = sub_from_json(data)
            if not sub.paused:
                _save(conn, replace(sub, paused=True, paused_reason=reason))
                count += 1
    return count


def mark_posted(conn: sqlite3.Connection, tenant: str, ids: list[str], at: datetime) -> None:
    """Set last_post_at of a tenant's subscriptions."""
    with transaction(conn):
        for sub_id in dict.fromkeys(ids):
            sub = get_subscription(conn, tenant, sub_id)
            if sub is not None:
                _save(conn, replace(sub, last_post_at=at))


def _claim(conn: sqlite3.Connection, destination: str, paper_id: str) -> bool:
    return (
        conn.execute("INSERT OR IGNORE INTO ledger VALUES (?, ?)", (destination, paper_id)).rowcount
        == 1
    )


def claim(conn: sqlite3.Connection, destination: str, paper_ids: list[str]) -> list[str]:
    """Claim pairs; the ids won, in input order."""
    with transaction(conn):
        return [p for p in dict.fromkeys(paper_ids) if _claim(conn, destination, p)]


def enqueue(conn: sqlite3.Connection, entries: list[OutboxEntry], claim: bool) -> list[OutboxEntry]:
    """Insert entries (only ledger winners when `claim`), returning them with ids."""
    done = []
    with transaction(conn):
        for entry in entries:
            if claim and not _claim(conn, str(entry.destination), entry.paper_id):
                continue
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
                    ts(entry.lease_until) if entry.lease_until else None,
                    entry.last_error,
                ),
            )
            assert cursor.lastrowid is not None
            done.append(replace(entry, id=cursor.lastrowid))
    return done


def _entry(row: tuple[object, ...]) -> OutboxEntry:
    keys = [k.strip() for k in _ENTRY_COLUMNS.split(",")]
    data = dict(zip(keys, row, strict=True))
    data["subscription_ids"] = json.loads(str(data["subscription_ids"]))
    data["terms"] = json.loads(str(data["terms"]))
    return entry_from_dict(data)


def lease(conn: sqlite3.Connection, now: float, seconds: float, limit: int) -> list[OutboxEntry]:
    """Lease up to `limit` due entries nobody holds."""
    with transaction(conn):
        rows = conn.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM outbox WHERE due_at <= ? "
            "AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at, id LIMIT ?",
            (now, now, limit),
        ).fetchall()
        until = now + seconds
        leased = []
        for row in rows:
            entry = _entry(row)
            conn.execute(
                "UPDATE outbox SET lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                (until, entry.id),
            )
            leased.append(replace(entry, lease_until=from_ts(until), attempts=entry.attempts + 1))
    return leased


def ack(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Delete entries."""
    with transaction(conn):
        conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])


def pending(conn: sqlite3.Connection, destination: str | None) -> list[OutboxEntry]:
    """Entries not yet acked, oldest due first."""
    sql = f"SELECT {_ENTRY_COLUMNS} FROM outbox"
    args: tuple[str, ...] = ()
    if destination is not None:
        sql += " WHERE destination = ?"
        args = (destination,)
    return [_entry(row) for row in conn.execute(sql + " ORDER BY due_at, id", args)]


def record_feedback(
    conn: sqlite3.Connection, tenant: str, paper_id: str, who: str, value: int
) -> None:
    """Last vote wins; 0 withdraws."""
    with transaction(conn):
        if value == 0:
            conn.execute(
                "DELETE FROM feedback WHERE tenant = ? AND paper_id = ? AND who = ?",
                (tenant, paper_id, who),
            )
        else:
            conn.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?) "
                "ON CONFLICT(tenant, paper_id, who) DO UPDATE SET value = excluded.value",
                (tenant, paper_id, who, value),
            )


def feedback(conn: sqlite3.Connection, tenant: str, paper_id: str) -> tuple[int, int]:
    """(up, down) votes."""
    row = conn.execute(
        "SELECT coalesce(sum(value = 1), 0), coalesce(sum(value = -1), 0) FROM feedback "
        "WHERE tenant = ? AND paper_id = ?",
        (tenant, paper_id),
    ).fetchone()
    return int(row[0]), int(row[1])


def incr(conn: sqlite3.Connection, key: str, by: int) -> int:
    """Add to a counter in the kv table; the new count."""
    with transaction(conn):
        row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        count = (int(row[0]) if row else 0) + by
        conn.execute(
            "INSERT INTO kv VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
            (key, str(count), str(count)),
        )
    return count
