"""The SQLite store's paper and subscription statements, run on its worker thread.

Every function takes the connection first. Multi-statement changes run inside
`transaction` (`BEGIN IMMEDIATE`), so they are atomic against other connections
and other processes using the same file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from bot.models import Destination, Paper, PutResult, Schedule, Subscription, utcnow
from bot.store.base import DuplicateSubscription, StoreError, new_short_id
from bot.store.codec import from_ts, paper_from_json, paper_json, sub_from_json, sub_json, ts

_CHUNK = 500  # ids per `IN (...)`: well below SQLite's variable limit
_ID_ATTEMPTS = 100
_SUB_ORDER = "ORDER BY created, rowid"  # oldest first; rowid breaks ties by insertion


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (if SQLite has not already)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def utc(value: datetime) -> datetime:
    """An aware datetime converted to UTC; ValueError for a naive one."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetimes given to the store must be timezone-aware")
    return value.astimezone(UTC)


# -- papers ---------------------------------------------------------------------------


def put_papers(conn: sqlite3.Connection, papers: list[Paper]) -> PutResult:
    """Insert or merge a batch of papers in one transaction."""
    batch: dict[str, Paper] = {}
    for paper in papers:
        batch[paper.id] = batch[paper.id].merged(paper) if paper.id in batch else paper
    new: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    with transaction(conn):
        existing = select_papers(conn, list(batch))
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


def select_papers(conn: sqlite3.Connection, ids: list[str]) -> dict[str, Paper]:
    """The known papers among `ids`, with their `seq`."""
    found: dict[str, Paper] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        for seq, data in conn.execute(f"SELECT seq, data FROM papers WHERE id IN ({marks})", chunk):
            paper = paper_from_json(data, seq)
            found[paper.id] = paper
    return found


def papers_after(conn: sqlite3.Connection, seq: int, limit: int) -> list[Paper]:
    """Up to `limit` papers with seq > `seq`, in seq order."""
    rows = conn.execute(
        "SELECT seq, data FROM papers WHERE seq > ? ORDER BY seq LIMIT ?", (seq, max(limit, 0))
    )
    return [paper_from_json(data, s) for s, data in rows]


def count_papers(conn: sqlite3.Connection) -> int:
    """How many papers are stored."""
    return int(conn.execute("SELECT count(*) FROM papers").fetchone()[0])


# -- subscriptions --------------------------------------------------------------------


def add_subscription(
    conn: sqlite3.Connection,
    destination: Destination,
    query: str,
    schedule: Schedule,
    created_by: str | None,
) -> Subscription:
    """Insert a subscription with a fresh unique short id; DuplicateSubscription if taken."""
    with transaction(conn):
        _refuse_duplicate_query(conn, destination, query)
        for _ in range(_ID_ATTEMPTS):
            sub_id = new_short_id()
            if conn.execute("SELECT 1 FROM subscriptions WHERE id = ?", (sub_id,)).fetchone():
                continue
            sub = Subscription(
                id=sub_id,
                destination=destination,
                query=query,
                schedule=schedule,
                created_at=utcnow(),
                created_by=created_by,
            )
            _insert_subscription(conn, sub)
            return sub
    raise StoreError(f"no free subscription id after {_ID_ATTEMPTS} attempts")


def restore_subscription(conn: sqlite3.Connection, sub: Subscription) -> None:
    """Insert `sub` as it is; DuplicateSubscription if its id or its query is taken."""
    with transaction(conn):
        row = conn.execute("SELECT data FROM subscriptions WHERE id = ?", (sub.id,)).fetchone()
        if row is not None:
            raise DuplicateSubscription(sub_from_json(row[0]))
        _refuse_duplicate_query(conn, sub.destination, sub.query)
        _insert_subscription(conn, sub)


def _refuse_duplicate_query(conn: sqlite3.Connection, destination: Destination, query: str) -> None:
    row = conn.execute(
        "SELECT data FROM subscriptions WHERE destination = ? AND query = ?",
        (str(destination), query),
    ).fetchone()
    if row is not None:
        raise DuplicateSubscription(sub_from_json(row[0]))


def _insert_subscription(conn: sqlite3.Connection, sub: Subscription) -> None:
    conn.execute(
        "INSERT INTO subscriptions (id, tenant, destination, query, created, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            sub.id,
            str(sub.tenant),
            str(sub.destination),
            sub.query,
            ts(sub.created_at),
            sub_json(sub),
        ),
    )
    _changed(conn)


def get_subscription(conn: sqlite3.Connection, tenant: str, sub_id: str) -> Subscription | None:
    """One subscription of a tenant, or None."""
    row = conn.execute(
        "SELECT data FROM subscriptions WHERE id = ? AND tenant = ?", (sub_id, tenant)
    ).fetchone()
    return None if row is None else sub_from_json(row[0])


def list_subscriptions(
    conn: sqlite3.Connection, tenant: str, destination: str | None
) -> list[Subscription]:
    """A tenant's subscriptions (of one of its destinations if given), oldest first."""
    if destination is None:
        rows = conn.execute(
            f"SELECT data FROM subscriptions WHERE tenant = ? {_SUB_ORDER}", (tenant,)
        )
    else:
        rows = conn.execute(
            f"SELECT data FROM subscriptions WHERE tenant = ? AND destination = ? {_SUB_ORDER}",
            (tenant, destination),
        )
    return [sub_from_json(data) for (data,) in rows]


def all_subscriptions(conn: sqlite3.Connection) -> list[Subscription]:
    """Every subscription of every tenant."""
    return [sub_from_json(data) for (data,) in conn.execute("SELECT data FROM subscriptions")]


def remove_subscription(conn: sqlite3.Connection, tenant: str, sub_id: str) -> bool:
    """Delete a subscription of a tenant; True if it existed."""
    with transaction(conn):
        cursor = conn.execute(
            "DELETE FROM subscriptions WHERE id = ? AND tenant = ?", (sub_id, tenant)
        )
        if cursor.rowcount > 0:
            _changed(conn)
    return cursor.rowcount > 0


def subscriptions_version(conn: sqlite3.Connection) -> int:
    """The count of subscription changes (`Store.subscriptions_version`)."""
    row = conn.execute("SELECT value FROM counters WHERE name = 'subscriptions'").fetchone()
    return 0 if row is None else int(row[0])


def _changed(conn: sqlite3.Connection) -> None:
    """Count one subscription change (inside the transaction that makes it)."""
    conn.execute(
        "INSERT INTO counters (name, value) VALUES ('subscriptions', 1) "
        "ON CONFLICT (name) DO UPDATE SET value = value + 1"
    )


def _save(conn: sqlite3.Connection, sub: Subscription) -> None:
    conn.execute("UPDATE subscriptions SET data = ? WHERE id = ?", (sub_json(sub), sub.id))


def set_paused(
    conn: sqlite3.Connection,
    tenant: str,
    sub_id: str,
    paused: bool,
    reason: str | None,
    resume_at: datetime | None = None,
) -> Subscription | None:
    """Pause (with a reason, until `resume_at`) or resume one subscription of a tenant."""
    with transaction(conn):
        sub = get_subscription(conn, tenant, sub_id)
        if sub is None:
            return None
        sub = replace(
            sub,
            paused=paused,
            paused_reason=reason if paused else None,
            resume_at=from_ts(ts(resume_at)) if paused and resume_at else None,
        )
        _save(conn, sub)
        _changed(conn)
    return sub


def set_schedule(
    conn: sqlite3.Connection, tenant: str, sub_id: str, schedule: Schedule
) -> Subscription | None:
    """Change the schedule of one subscription of a tenant."""
    with transaction(conn):
        sub = get_subscription(conn, tenant, sub_id)
        if sub is None:
            return None
        sub = replace(sub, schedule=schedule)
        _save(conn, sub)
        _changed(conn)
    return sub


def pause_destination(conn: sqlite3.Connection, destination: str, reason: str) -> int:
    """Pause every running subscription of a destination; how many were paused."""
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
        if count:
            _changed(conn)
    return count


def mark_posted(conn: sqlite3.Connection, tenant: str, ids: list[str], at: datetime) -> None:
    """Set `last_post_at` (in UTC) of a tenant's subscriptions; other ids are ignored."""
    at = utc(at)
    with transaction(conn):
        for sub_id in dict.fromkeys(ids):
            sub = get_subscription(conn, tenant, sub_id)
            if sub is not None:
                _save(conn, replace(sub, last_post_at=at))
