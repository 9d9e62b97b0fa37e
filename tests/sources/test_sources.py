"""Sources against recorded-shape payloads through httpx.MockTransport (no network)."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from bot.config import load_settings
from bot.pipeline import Sources, store_batch
from bot.sources.arxiv import ArxivSource, parse_feed
from bot.sources.files import load_papers
from bot.sources.http import Fetcher, Politeness, SourceError, make_client
from bot.sources.huggingface import HuggingFaceSource, papers_from_items
from bot.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HF = json.loads((FIXTURES / "hf_daily_papers.json").read_text())
RSS = (FIXTURES / "arxiv_rss.xml").read_bytes()
RSS_EMPTY = (FIXTURES / "arxiv_rss_empty.xml").read_bytes()
ATOM = (FIXTURES / "arxiv_api.xml").read_bytes()


class Sleeps:
    """Records the waits a fetcher asks for, without waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def fetcher(
    handler: Callable[[httpx.Request], httpx.Response], **kw: object
) -> tuple[Fetcher, Sleeps]:
    sleeps = Sleeps()
    client = make_client(5, httpx.MockTransport(handler))
    return Fetcher(client, retries=3, sleep=sleeps, **kw), sleeps  # type: ignore[arg-type]


# -- Hugging Face ------------------------------------------------------------------------


def test_hf_items_good_and_bad() -> None:
    batch = papers_from_items(HF, "fixture")
    assert [p.id for p in batch.papers] == ["arxiv:2411.01234", "arxiv:2411.05678"]
    first, second = batch.papers
    assert first.title == "Diffusion Policies for Dexterous Manipulation"
    assert first.authors == ("Kaiyang Zhou", "Chelsea Finn")
    assert first.upvotes == 42 and first.github_repo == "https://github.com/example/dexdiff"
    assert first.ai_summary and first.ai_keywords == ("diffusion policy", "dexterous manipulation")
    assert first.project_page and first.thumbnail and first.sources == ("huggingface",)
    assert first.published is not None and first.published.year == 2024
    assert second.upvotes == 0
    assert len(batch.skipped) == 4
    assert any("duplicate of arxiv:2411.01234" in s for s in batch.skipped)


async def test_hf_paginates_until_a_short_page() -> None:
    pages = {0: HF[:2], 1: HF[:1], 2: []}
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        seen.append(params)
        assert request.url.path == "/api/daily_papers"
        assert "paperbot/" in request.headers["User-Agent"]
        return httpx.Response(200, json=pages[int(params["p"])])

    f, _ = fetcher(handler)
    source = HuggingFaceSource(f, "http://hf.test", page_size=2)
    from datetime import date

    batch = await source.fetch_day(date(2024, 11, 20))
    assert [s["p"] for s in seen] == ["0", "1"]
    assert seen[0]["date"] == "2024-11-20" and seen[0]["limit"] == "2"
    assert len(batch.papers) == 3  # the same paper twice across pages: merged by the store


async def test_hf_repoll_updates_upvotes_without_new_paper(store: Store) -> None:
    first = papers_from_items(HF[:1], "a")
    again = papers_from_items([{**HF[0], "paper": {**HF[0]["paper"], "upvotes": 77}}], "b")
    one = await store_batch(store, first)
    two = await store_batch(store, again)
    assert (one.new, one.updated) == (1, 0)
    assert (two.new, two.updated) == (0, 1)
    stored = await store.get_paper("arxiv:2411.01234")
    assert stored is not None and stored.upvotes == 77


# -- HTTP robustness --------------------------------------------------------------------


async def test_429_honours_retry_after() -> None:
    calls = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[])])
    f, sleeps = fetcher(lambda r: next(calls))
    assert await f.get("http://x.test/a") == b"[]"
    assert sleeps.calls == [7.0]


async def test_5xx_timeouts_and_connection_errors_retry_then_give_up() -> None:
    problems: list[Callable[[httpx.Request], httpx.Response]] = [
        lambda r: httpx.Response(503),
        lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)),
    ]
    for problem in problems:
        f, sleeps = fetcher(problem)
        with pytest.raises(SourceError, match="gave up after 4 tries"):
            await f.get("http://x.test/a")
        assert len(sleeps.calls) == 3
        assert sleeps.calls[0] < sleeps.calls[2]  # exponential backoff (with jitter)


async def test_recovers_after_a_passing_error() -> None:
    calls = iter([httpx.Response(502), httpx.Response(200, content=b"ok")])
    f, sleeps = fetcher(lambda r: next(calls))
    assert await f.get("http://x.test/a") == b"ok"
    assert len(sleeps.calls) == 1


async def test_4xx_is_not_retried() -> None:
    f, sleeps = fetcher(lambda r: httpx.Response(404))
    with pytest.raises(SourceError, match="HTTP 404"):
        await f.get("http://x.test/a")
    assert sleeps.calls == []


async def test_oversized_response_is_refused() -> None:
    big = b"[" + b" " * (11 * 1024 * 1024) + b"]"
    f, _ = fetcher(lambda r: httpx.Response(200, content=big))
    with pytest.raises(SourceError, match="larger than"):
        await f.get("http://x.test/a")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(11):
            yield b" " * (1024 * 1024)

    f, _ = fetcher(lambda r: httpx.Response(200, content=chunks()))
    with pytest.raises(SourceError, match="larger than"):
        await f.get("http://x.test/b")


async def test_conditional_requests() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=b"[]", headers={"ETag": '"v1"'})

    f, _ = fetcher(handler)
    assert await f.get("http://x.test/feed") == b"[]"
    assert await f.get("http://x.test/feed") is None
    assert seen[1]["If-None-Match"] == '"v1"'


@pytest.mark.parametrize(
    "body", [b"<html><body>502 Bad Gateway</body></html>", b'[{"paper": {"id": "2411.0', b"{}"]
)
async def test_broken_hf_payloads_raise_source_error(body: bytes) -> None:
    f, _ = fetcher(lambda r: httpx.Response(200, content=body))
    source = HuggingFaceSource(f, "http://hf.test")
    from datetime import date

    with pytest.raises(SourceError):
        await source.fetch_day(date(2024, 11, 20))


# -- arXiv ------------------------------------------------------------------------------


def test_rss_items() -> None:
    batch = parse_feed(RSS, "rss", atom=False)
    ids = [p.id for p in batch.papers]
    assert ids == ["arxiv:2411.01234", "arxiv:2411.04321", "arxiv:2310.00001"]
    new, cross, replaced = batch.papers
    assert new.abstract.startswith("We propose a diffusion policy")
    assert new.authors == ("Kaiyang Zhou", "Chelsea Finn")
    assert new.categories == ("cs.LG", "cs.RO") and new.version == 1
    assert cross.authors == ("Grace Hopper", "Alan Turing")
    assert replaced.version == 3
    assert len(batch.skipped) == 1


def test_atom_entry_fields() -> None:
    [paper] = parse_feed(ATOM, "api", atom=True).papers
    assert paper.id == "arxiv:2310.00001" and paper.version == 3
    assert paper.title == "An Old Paper, Revised"
    assert paper.comment == "12 pages, 3 figures" and paper.doi == "10.1000/old.123"
    assert paper.journal_ref == "J. Old Stuff 1 (2024)"
    assert paper.categories == ("cs.LG", "stat.ML")
    assert paper.authors == ("Ada Lovelace", "Charles Babbage")


@pytest.mark.parametrize("body", [b"<html>oops</html>", RSS[: len(RSS) // 2]])
def test_broken_feeds(body: bytes) -> None:
    try:
        batch = parse_feed(body, "rss", atom=False)
    except SourceError:
        return
    assert len(batch.papers) <= 1  # a truncated feed yields at most what was complete


async def test_empty_feed_is_no_announcement(caplog: pytest.LogCaptureFixture) -> None:
    f, _ = fetcher(lambda r: httpx.Response(200, content=RSS_EMPTY), politeness=Politeness(0))
    source = ArxivSource(f, ["cs.LG"], "http://rss.test", "http://api.test")
    with caplog.at_level(logging.INFO):
        batch, cursor = await source.poll(None)
    assert batch.papers == [] and cursor
    assert "no announcement" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_replacement_updates_version_never_new(store: Store) -> None:
    await store_batch(store, parse_feed(ATOM, "api", atom=True))
    before = await store.get_paper("arxiv:2310.00001")
    report = await store_batch(store, parse_feed(RSS, "rss", atom=False))
    assert report.new == 2 and report.updated == 1  # the replacement is an update
    stored = await store.get_paper("arxiv:2310.00001")
    assert stored is not None and before is not None
    assert stored.version == 3 and stored.comment and stored.seq == before.seq


async def test_arxiv_is_polite_one_at_a_time() -> None:
    in_flight, most, starts = 0, 0, []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        starts.append(time.monotonic())
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, content=ATOM)

    client = make_client(5, httpx.MockTransport(handler))
    polite = Fetcher(client, politeness=Politeness(0.2))
    source = ArxivSource(polite, ["cs.LG"], "http://rss.test", "http://api.test")
    await asyncio.gather(*(source.lookup([f"2310.0000{i}"]) for i in range(3)))
    assert most == 1
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 2 and all(g >= 0.2 for g in gaps)


def test_arxiv_refuses_an_impolite_fetcher() -> None:
    f, _ = fetcher(lambda r: httpx.Response(200))
    with pytest.raises(ValueError, match="polite"):
        ArxivSource(f, ["cs.LG"], "http://rss.test", "http://api.test")


# -- one record per paper, pipeline, files ---------------------------------------------


async def test_hf_and_arxiv_merge_into_one_record(store: Store) -> None:
    await store_batch(store, papers_from_items(HF[:1], "hf"))
    await store_batch(store, parse_feed(RSS, "rss", atom=False))
    paper = await store.get_paper("arxiv:2411.01234")
    assert paper is not None
    assert paper.sources == ("huggingface", "arxiv")
    assert paper.upvotes == 42 and paper.categories == ("cs.LG", "cs.RO")
    assert paper.ai_summary and paper.github_repo
    assert await store.count_papers() == 3


async def test_poll_all_survives_a_failing_source(store: Store, tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "hf.test":
            return httpx.Response(500)
        return httpx.Response(200, content=RSS)

    settings = load_settings(
        None,
        data_dir=tmp_path,
        sources={
            "huggingface": {"base_url": "http://hf.test"},
            "arxiv": {"rss_url": "http://rss.test", "categories": ["cs.LG"]},
        },
    )
    sleeps = Sleeps()
    sources = Sources(settings, httpx.MockTransport(handler), sleep=sleeps, arxiv_interval=0)
    report = await sources.poll_all(store)
    await sources.aclose()
    assert report.new == 3 and report.skipped == 1
    assert await store.get_cursor("arxiv") is not None
    assert await store.get_cursor("huggingface") is None  # tried again next poll


def test_files_jsonl_and_hf_array(tmp_path: Path) -> None:
    jsonl = tmp_path / "papers.jsonl"
    jsonl.write_text(
        '{"id": "2411.00001v2", "title": "A"}\n'
        "\n"
        "not json\n"
        '{"id": "arxiv:2411.00002", "title": "B", "sources": ["arxiv"], "upvotes": 0}\n'
        '{"title": "no id"}\n'
        '{"id": "arxiv:2411.00001", "title": "dup"}\n'
    )
    batch = load_papers(jsonl)
    assert [(p.id, p.version, p.sources) for p in batch.papers] == [
        ("arxiv:2411.00001", 2, ("file",)),
        ("arxiv:2411.00002", None, ("arxiv",)),
    ]
    assert len(batch.skipped) == 3 and batch.skipped[0].startswith(f"{jsonl}:3")
    array = tmp_path / "daily.json"
    array.write_text(json.dumps(HF))
    assert len(load_papers(array).papers) == 2
    with pytest.raises(SourceError):
        load_papers(tmp_path / "missing.jsonl")


async def test_each_source_polls_on_its_own_interval(store: Store, tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        return httpx.Response(200, content=RSS if request.url.host == "rss.test" else b"[]")

    settings = load_settings(
        None,
        data_dir=tmp_path,
        sources={
            "huggingface": {"base_url": "http://hf.test", "poll_interval": 900},
            "arxiv": {"rss_url": "http://rss.test", "poll_interval": 3600},
        },
    )
    sources = Sources(settings, httpx.MockTransport(handler), sleep=Sleeps(), arxiv_interval=0)
    await sources.poll_all(store, due_only=True)
    assert set(seen) == {"hf.test", "rss.test"}
    seen.clear()
    await sources.poll_all(store, due_only=True)
    assert seen == []  # nothing is due yet
    assert 890 < sources.next_poll_in() <= 900
    sources._next["huggingface"] = 0  # as if 15 minutes had passed
    await sources.poll_all(store, due_only=True)
    assert set(seen) == {"hf.test"}
    await sources.aclose()
