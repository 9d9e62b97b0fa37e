"""What only the SQLite backend can show: a file that survives, several connections and
processes on one file, and files that cannot be used."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.models import Destination, OutboxEntry, Paper, Tenant
from bot.store import DuplicateSubscription, StoreUnavailable, open_store, sqlite_ops
from bot.store import sqlite_schema as schema
from bot.store.sqlite import SQLiteStore

A = Destination.parse("slack:T1:C1")
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


async def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    url = url_of(tmp_path / "deep" / "er" / "p.db")  # the directory is created
    store = await open_store(url)
    sub = await store.add_subscription(A, "diffusion")
    await store.put_papers([Paper(id="arxiv:1", title="t", upvotes=0)])
    await store.claim(A, ["arxiv:1"])
    [queued] = await store.enqueue([OutboxEntry(A, "arxiv:1", (sub.id,), due_at=T0)])
    await store.set_cursor("arxiv", "2026-11-24")
    await store.record_feedback(A.tenant, "arxiv:1", "U1", -1)
    await store.close()
    await store.close()  # a second close does nothing
    store = await open_store(url)
    try:
        assert await store.get_subscription(A.tenant, sub.id) == sub
        stored = await store.get_paper("arxiv:1")
        assert stored is not None and stored.upvotes == 0 and stored.seq == 1
        assert await store.claim(A, ["arxiv:1"]) == []
        assert await store.pending() == [queued]
        assert await store.get_cursor("arxiv") == "2026-11-24"
        assert await store.feedback(Tenant("slack", "T1"), "arxiv:1") == (0, 1)
        await store.put_papers([Paper(id="arxiv:2", title="u")])
        assert [p.seq for p in await store.papers_after(0)] == [1, 2]
    finally:
        await store.close()


async def test_file_is_in_wal_mode(tmp_path: Path) -> None:
    store = await open_store(url_of(tmp_path / "p.db"))
    await store.close()
    with sqlite3.connect(tmp_path / "p.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)


async def test_memory_store_works() -> None:
    store = await SQLiteStore.open("sqlite:///:memory:")
    try:
        await store.put_papers([Paper(id="arxiv:1", title="t")])
        assert await store.count_papers() == 1
    finally:
        await store.close()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite://relative.db", "sqlite:///d/"])
async def test_malformed_url_is_a_value_error(url: str) -> None:
    with pytest.raises(ValueError):
        await SQLiteStore.open(url)


async def test_subscription_id_collisions_are_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = iter(["aaaaa", "aaaaa", "aaaaa", "bbbbb"])
    monkeypatch.setattr(sqlite_ops, "new_short_id", lambda: next(ids))
    store = await SQLiteStore.open(url_of(tmp_path / "p.db"))
    try:
        first = await store.add_subscription(A, "one")
        second = await store.add_subscription(A, "two")
        assert (first.id, second.id) == ("aaaaa", "bbbbb")
    finally:
        await store.close()


async def test_two_stores_on_one_file_have_one_winner(tmp_path: Path) -> None:
    url = url_of(tmp_path / "p.db")
    one, two = await SQLiteStore.open(url), await SQLiteStore.open(url)
    try:
        pair = await asyncio.gather(*(s.claim(A, ["p"]) for _ in range(10) for s in (one, two)))
        assert sorted(pair) == [[]] * 19 + [["p"]]
        ids = [f"q{i}" for i in range(20)]
        results = await asyncio.gather(*(s.claim(A, ids) for s in (one, two) for _ in range(5)))
        assert sorted(p for r in results for p in r) == sorted(ids)
        leased = await asyncio.gather(
            one.enqueue([OutboxEntry(A, f"x{i}", (), due_at=T0) for i in range(20)]),
            *(s.lease(T0, 60, limit=3) for s in (one, two) for _ in range(4)),
        )
        taken = [e.id for batch in leased[1:] for e in batch]
        assert len(taken) == len(set(taken))
    finally:
        await one.close()
        await two.close()


async def test_busy_stores_on_one_file_lease_and_subscribe_once(tmp_path: Path) -> None:
    url = url_of(tmp_path / "p.db")
    stores = [await SQLiteStore.open(url) for _ in range(4)]  # four threads, four connections
    try:
        await stores[0].enqueue([OutboxEntry(A, f"x{i}", (), due_at=T0) for i in range(300)])
        leased: list[int] = []

        async def drain(store: SQLiteStore) -> None:
            while batch := await store.lease(T0, 60, limit=4):
                leased.extend(e.id for e in batch)

        await asyncio.gather(*(drain(s) for s in stores for _ in range(2)))
        assert len(leased) == len(set(leased)) == 300
        for n in range(10):
            results = await asyncio.gather(
                *(s.add_subscription(A, f"race {n}") for s in stores), return_exceptions=True
            )
            made = [r for r in results if not isinstance(r, BaseException)]
            assert len(made) == 1, results
            assert all(isinstance(r, DuplicateSubscription) for r in results if r not in made)
    finally:
        for store in stores:
            await store.close()


CLAIMER = """
import asyncio, json, sys
from bot.models import Destination
from bot.store.sqlite import SQLiteStore

async def main() -> None:
    store = await SQLiteStore.open(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    won = []
    for i in range(60):
        won += await store.claim(Destination.parse("slack:T1:C1"), [f"p{i}", f"p{i + 1}"])
    await store.close()
    print(json.dumps(won), flush=True)

asyncio.run(main())
"""


async def test_processes_on_one_file_win_each_pair_once(tmp_path: Path) -> None:
    url = url_of(tmp_path / "p.db")
    await (await SQLiteStore.open(url)).close()  # the schema exists before the race
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLAIMER,
            url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    for proc in procs:  # everyone is connected before anyone claims
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"
    outs = await asyncio.gather(*(asyncio.wait_for(p.communicate(b"go\n"), 60) for p in procs))
    assert [p.returncode for p in procs] == [0, 0, 0]
    won = [pid for out, _ in outs for pid in json.loads(out)]
    assert sorted(won) == sorted(f"p{i}" for i in range(61))


async def test_directory_instead_of_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreUnavailable):
        await SQLiteStore.open(url_of(tmp_path / "dir.db"))


async def test_uncreatable_directory_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreUnavailable):
        await open_store(url_of(tmp_path / "file" / "sub" / "p.db"))


async def test_file_that_is_not_a_database_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "p.db").write_bytes(b"this is no SQLite file " * 200)
    with pytest.raises(StoreUnavailable):
        await open_store(url_of(tmp_path / "p.db"))


async def test_newer_schema_is_unavailable(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "p.db") as raw:
        raw.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    with pytest.raises(StoreUnavailable, match="schema version"):
        await open_store(url_of(tmp_path / "p.db"))


async def test_full_disk_raises_and_rolls_back(tmp_path: Path) -> None:
    store = await SQLiteStore.open(url_of(tmp_path / "p.db"))
    try:
        await store.put_papers([Paper(id="arxiv:1", title="t")])

        def cap(conn: sqlite3.Connection) -> None:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")

        await store._run(cap)
        big = [Paper(id=f"arxiv:{n}", title="t", abstract="x" * 50_000) for n in range(2, 9)]
        with pytest.raises(StoreUnavailable, match="full"):
            await store.put_papers(big)
        assert await store.count_papers() == 1  # the batch was rolled back, store usable
    finally:
        await store.close()


async def test_lock_held_too_long_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "BUSY_TIMEOUT_MS", 50)
    store = await SQLiteStore.open(url_of(tmp_path / "p.db"))
    raw = sqlite3.connect(tmp_path / "p.db", isolation_level=None)
    try:
        raw.execute("BEGIN IMMEDIATE")  # another process is writing and never lets go
        with pytest.raises(StoreUnavailable, match="locked"):
            await store.claim(A, ["p1"])
        raw.execute("ROLLBACK")
        assert await store.claim(A, ["p1"]) == ["p1"]
    finally:
        raw.close()
        await store.close()


async def test_closed_store_raises(tmp_path: Path) -> None:
    store = await open_store(url_of(tmp_path / "p.db"))
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.count_papers()
    with pytest.raises(StoreUnavailable):
        await store.claim(A, ["p1"])
