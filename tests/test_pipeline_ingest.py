"""The ingest half of the pipeline: batches -> store -> sinks; polling with cursors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Settings, load_settings
from bot.models import Paper
from bot.pipeline import IngestReport, PaperSink, Sources, idle, poll_forever, store_batch
from bot.poll_status import last_polls
from bot.sources.base import Batch
from bot.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HF: list[dict[str, Any]] = json.loads((FIXTURES / "hf_daily_papers.json").read_text())
RSS = (FIXTURES / "arxiv_rss.xml").read_bytes()
ATOM = (FIXTURES / "arxiv_api.xml").read_bytes()


class Recorder:
    """A PaperSink that remembers what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[Paper], list[Paper]]] = []

    async def on_papers(self, new: Sequence[Paper], updated: Sequence[Paper]) -> None:
        self.calls.append((list(new), list(updated)))


async def no_sleep(seconds: float) -> None:
    """Retries without waiting."""


def _settings(tmp_path: Path, **sources: Any) -> Settings:
    base: dict[str, Any] = {
        "huggingface": {"base_url": "http://hf.test"},
        "arxiv": {"rss_url": "http://rss.test", "api_url": "http://api.test"},
        "max_retries": 1,
    }
    for key, value in sources.items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    return load_settings(None, data_dir=tmp_path, sources=base)


def _paper(n: int, **kw: Any) -> Paper:
    return Paper(id=f"arxiv:2411.{n:05d}", title=f"Paper {n}", sources=("file",), **kw)


async def test_report_and_sink_see_new_then_updated(store: Store) -> None:
    sink: PaperSink = Recorder()
    first = await store_batch(store, Batch([_paper(1), _paper(2)], ["bad item"]), sink.on_papers)
    assert first == IngestReport(fetched=3, new=2, updated=0, skipped=1)
    assert first.line() == "fetched=3 new=2 updated=0 skipped=1"
    again = await store_batch(store, Batch([_paper(1, upvotes=5), _paper(2)]), sink.on_papers)
    assert (again.new, again.updated) == (0, 1)
    assert isinstance(sink, Recorder) and len(sink.calls) == 2
    new, updated = sink.calls[0]
    assert [p.id for p in new] == ["arxiv:2411.00001", "arxiv:2411.00002"] and updated == []
    assert all(p.seq is not None for p in new)  # the stored records, with their sequence
    new, updated = sink.calls[1]
    assert new == [] and [(p.id, p.upvotes) for p in updated] == [("arxiv:2411.00001", 5)]


async def test_nothing_changed_means_no_sink_call(store: Store) -> None:
    sink = Recorder()
    await store_batch(store, Batch([_paper(1)]))
    report = await store_batch(store, Batch([_paper(1)]), sink.on_papers)
    assert (report.fetched, report.new, report.updated) == (1, 0, 0) and sink.calls == []


async def test_chunks(store: Store) -> None:
    sink = Recorder()
    report = await store_batch(store, Batch([_paper(n) for n in range(25)]), sink.on_papers, 10)
    assert report.new == 25 and [len(new) for new, _ in sink.calls] == [10, 10, 5]
    assert await store.count_papers() == 25


async def test_revisions_only_update_stored_papers(store: Store) -> None:
    await store_batch(store, Batch([_paper(1, version=1)]))
    batch = Batch(revisions=[_paper(1, version=2), _paper(2, version=3)])
    report = await store_batch(store, batch)
    assert (report.fetched, report.new, report.updated) == (2, 0, 1)
    stored = await store.get_paper("arxiv:2411.00001")
    assert stored is not None and stored.version == 2
    assert await store.get_paper("arxiv:2411.00002") is None


def _handler(log: list[str], hf: Any = None, rss: Any = RSS) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        log.append(f"{request.url.host}{request.url.path}?{request.url.query.decode()}")
        body = hf if request.url.host == "hf.test" else rss
        if isinstance(body, httpx.Response):
            return body
        if isinstance(body, bytes):
            return httpx.Response(200, content=body)
        return httpx.Response(200, json=body if body is not None else [])

    return handler


async def test_hf_and_arxiv_merge_into_one_record(store: Store, tmp_path: Path) -> None:
    seen: list[str] = []
    sources = Sources(_settings(tmp_path), httpx.MockTransport(_handler(seen, HF)), no_sleep, 0)
    await store.set_cursor("huggingface", "2099-01-01")  # today only
    report = await sources.poll_all(store)
    await sources.aclose()
    assert (report.new, report.updated, report.skipped) == (3, 1, 4 + 3)
    paper = await store.get_paper("arxiv:2411.01234")
    assert paper is not None
    assert paper.sources == ("huggingface", "arxiv")
    assert paper.upvotes == 42 and paper.categories == ("cs.LG", "cs.RO")
    assert paper.ai_summary and paper.github_repo and paper.version == 1
    assert await store.count_papers() == 3


async def test_a_failing_source_is_tried_next_poll_and_others_go_on(
    store: Store, tmp_path: Path
) -> None:
    seen: list[str] = []
    transport = httpx.MockTransport(_handler(seen, httpx.Response(500)))
    sources = Sources(_settings(tmp_path), transport, no_sleep, 0)
    report = await sources.poll_all(store)
    await sources.aclose()
    assert report.new == 2 and report.skipped == 3
    assert await store.get_cursor("arxiv") is not None
    assert await store.get_cursor("huggingface") is None  # tried again next poll
    assert sum("hf.test" in s for s in seen) == 2  # the first day, tried twice: given up
    assert sum("rss.test" in s for s in seen) == 1
    hf, arxiv = await last_polls(store)  # what /papers status shows
    assert (hf.source, hf.ok, arxiv.source, arxiv.ok) == ("huggingface", False, "arxiv", True)
    assert "HTTP 500" in hf.detail and arxiv.detail == report.line()  # arXiv alone succeeded
    assert datetime.now(UTC) - arxiv.at < timedelta(minutes=1)


async def test_cursors_make_polling_incremental(store: Store, tmp_path: Path) -> None:
    seen: list[str] = []
    settings = _settings(tmp_path, arxiv={"enabled": False})
    today = datetime.now(UTC).date()
    await store.set_cursor("huggingface", (today - timedelta(days=2)).isoformat())
    sources = Sources(settings, httpx.MockTransport(_handler(seen, HF[:2])), no_sleep, 0)
    await sources.poll_all(store)
    cursor = await store.get_cursor("huggingface")
    assert len(seen) == 3 and cursor == today.isoformat()
    seen.clear()
    report = await sources.poll_all(store)
    await sources.aclose()
    assert [s.split("date=")[1][:10] for s in seen] == [cursor]  # only the cursor's day again
    assert report.new == 0


async def test_etags_survive_only_complete_polls(store: Store, tmp_path: Path) -> None:
    pages: dict[str, Any] = {"0": HF[:2] * 50, "1": b"<html>oops</html>"}
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.headers.get("If-None-Match") == '"same"':
            return httpx.Response(304)
        body = pages.get(request.url.params["p"], [])
        if isinstance(body, bytes):
            return httpx.Response(200, content=body, headers={"ETag": '"same"'})
        return httpx.Response(200, json=body, headers={"ETag": '"same"'})

    def conditional() -> list[bool]:
        done = ["If-None-Match" in r.headers for r in calls]
        calls.clear()
        return done

    settings = _settings(tmp_path, arxiv={"enabled": False})
    sources = Sources(settings, httpx.MockTransport(handler), no_sleep, 0)
    await store.set_cursor("huggingface", "2099-01-01")  # today only
    await sources.poll_all(store)  # page 1 is broken: the poll is incomplete
    assert conditional() == [False, False]
    await sources.poll_all(store)  # so everything is fetched in full again
    assert conditional() == [False, False]
    pages["1"] = []
    await sources.poll_all(store)  # complete now
    assert conditional() == [False, False]
    await sources.poll_all(store)  # unchanged: one conditional request, 304
    assert conditional() == [True]
    await sources.aclose()


async def test_a_store_failure_raises(tmp_path: Path) -> None:
    class Broken:
        async def get_cursor(self, source: str) -> str | None:
            return None

        async def put_papers(self, papers: Sequence[Paper]) -> None:
            raise ConnectionError("store is down")

    seen: list[str] = []
    settings = _settings(tmp_path, arxiv={"enabled": False})
    sources = Sources(settings, httpx.MockTransport(_handler(seen, HF)), no_sleep, 0)
    with pytest.raises(ConnectionError):
        await sources.poll_all(Broken())  # type: ignore[arg-type]
    await sources.aclose()


async def test_each_source_polls_on_its_own_interval(store: Store, tmp_path: Path) -> None:
    seen: list[str] = []
    settings = _settings(
        tmp_path, huggingface={"poll_interval": 900}, arxiv={"poll_interval": 3600}
    )
    sources = Sources(settings, httpx.MockTransport(_handler(seen)), no_sleep, 0)
    await sources.poll_all(store, due_only=True)
    assert {s.split("/")[0] for s in seen} == {"hf.test", "rss.test"}
    seen.clear()
    await sources.poll_all(store, due_only=True)
    assert seen == []  # nothing is due yet
    assert 890 < sources.next_poll_in() <= 900
    sources._next["huggingface"] = 0  # as if 15 minutes had passed
    await sources.poll_all(store, due_only=True)
    assert {s.split("/")[0] for s in seen} == {"hf.test"}
    await sources.aclose()


class Stop(Exception):
    """Ends poll_forever in a test."""


async def test_poll_forever_polls_rounds_and_survives_a_failing_one(
    store: Store, tmp_path: Path
) -> None:
    seen: list[str] = []
    sources = Sources(_settings(tmp_path), httpx.MockTransport(_handler(seen, HF)), no_sleep, 0)
    rounds: list[int] = []
    waits: list[float] = []

    async def after_poll() -> None:
        rounds.append(await store.count_papers())
        if len(rounds) == 1:
            raise RuntimeError("index exploded")  # logged; the loop goes on

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        sources._next.clear()  # every source is due again
        if len(waits) == 3:
            raise Stop

    with pytest.raises(Stop):
        await poll_forever(sources, store, after_poll=after_poll, max_wait=30, sleep=sleep)
    await sources.aclose()
    assert rounds == [3, 3, 3] and waits == [30, 30, 30]


async def test_idle_raises_a_cancellation_that_a_library_swallowed() -> None:
    rounds = 0

    async def swallowing() -> None:  # as Python 3.11's asyncio.wait_for can
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return

    async def loop() -> None:
        nonlocal rounds
        while rounds < 3:  # bounded, so that without idle's check the test fails, not hangs
            rounds += 1
            await swallowing()
            await idle(0.01)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.wait({task}, timeout=30)
    assert task.cancelled() and rounds == 1


async def test_poll_forever_is_cancellable(store: Store, tmp_path: Path) -> None:
    seen: list[str] = []
    sources = Sources(_settings(tmp_path), httpx.MockTransport(_handler(seen)), no_sleep, 0)
    task = asyncio.create_task(poll_forever(sources, store, max_wait=0.01))
    while not seen:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await sources.aclose()
    assert seen
