"""arXiv RSS announcements and the export API on recorded-shape payloads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

import httpx
import pytest

from bot.pipeline import store_batch
from bot.sources.arxiv import ArxivSource, announce_type, parse_feed
from bot.sources.http import Fetcher, PayloadError, SourceError
from bot.store import Store

MakeFetcher = Callable[..., Fetcher]


def _source(fetcher: Fetcher) -> ArxivSource:
    return ArxivSource(fetcher, ["cs.LG", "cs.CL"], "http://rss.test/", "http://api.test")


def test_rss_new_and_cross_are_papers_replacements_are_revisions(rss: bytes) -> None:
    batch = parse_feed(rss, "rss", atom=False)
    assert [p.id for p in batch.papers] == ["arxiv:2411.01234", "arxiv:2411.04321"]
    assert [p.id for p in batch.revisions] == ["arxiv:2310.00001", "arxiv:2409.11111"]
    new, cross = batch.papers
    assert new.title == "Diffusion Policies for Dexterous Manipulation"
    assert new.abstract == (
        "We propose a diffusion policy for dexterous manipulation. It works on real robots."
    )
    assert new.authors == ("Kaiyang Zhou", "Chelsea Finn")
    assert new.categories == ("cs.LG", "cs.RO") and new.version == 1
    assert new.published is not None and new.published.isoformat() == "2024-11-20T05:00:00+00:00"
    assert cross.authors == ("Grace Hopper", "Alan Turing")
    assert cross.abstract.endswith("when x < y.")  # entities decoded
    replaced, replaced_cross = batch.revisions
    assert replaced.version == 3 and replaced.published is None  # pubDate is not the paper's
    assert replaced_cross.version == 2
    assert replaced_cross.doi == "10.1000/late.42"
    assert replaced_cross.journal_ref == "J. Late Results 7 (2024) 1-9"
    assert replaced_cross.categories == ("stat.ML", "cs.LG")


def test_rss_bad_items_are_skipped_one_log_line_each(
    rss: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        batch = parse_feed(rss, "rss", atom=False)
    assert len(batch.skipped) == 3
    assert "entry 4" in batch.skipped[0]  # no id anywhere
    assert "duplicate of arxiv:2411.01234" in batch.skipped[1]
    assert "has no title" in batch.skipped[2]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 3
    assert batch.complete


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        ({"arxiv_announce_type": "replace-cross"}, "replace-cross"),
        ({"arxiv_announce_type": " New "}, "new"),
        ({"summary": "arXiv:2411.1v2 Announce Type: replace \nAbstract: x"}, "replace"),
        ({"summary": "Abstract: x"}, "new"),
        ({}, "new"),
    ],
)
def test_announce_type(entry: dict[str, str], kind: str) -> None:
    assert announce_type(entry) == kind


def test_atom_entry_fields(atom: bytes) -> None:
    [paper] = parse_feed(atom, "api", atom=True).papers
    assert paper.id == "arxiv:2310.00001" and paper.version == 3
    assert paper.title == "An Old Paper, Revised"
    assert paper.abstract == r"We study $\alpha$-divergences. Now with more experiments."
    assert paper.comment == "12 pages, 3 figures" and paper.doi == "10.1000/old.123"
    assert paper.journal_ref == "J. Old Stuff 1 (2024)"
    assert paper.categories == ("cs.LG", "stat.ML")
    assert paper.authors == ("Ada Lovelace", "Charles Babbage")
    assert paper.published is not None and paper.published.year == 2023


def test_api_error_feed_is_a_payload_error(api_error: bytes) -> None:
    with pytest.raises(PayloadError, match=r"incorrect id format for 1234\.12345"):
        parse_feed(api_error, "api", atom=True)


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body><h1>503 Service Unavailable</h1></body></html>",
        b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><body/></html>",
        b"",
        b"\x00\x01binary",
    ],
    ids=["html", "xhtml", "empty", "binary"],
)
def test_no_feed_at_all_is_a_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_feed(body, "rss", atom=False)


def test_a_cut_off_feed_keeps_the_complete_entries(rss: bytes) -> None:
    cut = rss[: rss.index(b"<title>No id anywhere")]  # cut inside the fifth item
    batch = parse_feed(cut, "rss", atom=False)
    assert [p.id for p in batch.papers] == ["arxiv:2411.01234", "arxiv:2411.04321"]
    assert [p.id for p in batch.revisions] == ["arxiv:2310.00001", "arxiv:2409.11111"]
    assert len(batch.skipped) == 1 and "cut off" in batch.skipped[0]
    assert not batch.complete


def test_a_feed_cut_in_its_first_item_yields_nothing_and_says_so(rss: bytes) -> None:
    batch = parse_feed(rss[: rss.index(b"<item>") + 40], "rss", atom=False)
    assert batch.papers == [] and batch.revisions == []
    assert len(batch.skipped) == 1 and not batch.complete
    with pytest.raises(PayloadError):  # cut before the first item: no entries, no feed
        parse_feed(rss[: rss.index(b"<item>")], "rss", atom=False)


async def test_poll_fetches_the_categories_feed(make_fetcher: MakeFetcher, rss: bytes) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=rss)

    batch, cursor = await _source(make_fetcher(handler, polite=True)).poll(None)
    assert seen == ["http://rss.test/rss/cs.LG+cs.CL"]
    assert len(batch.papers) == 2 and date.fromisoformat(cursor)


async def test_empty_feed_is_no_announcement_not_an_error(
    make_fetcher: MakeFetcher, rss_empty: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    f = make_fetcher(lambda r: httpx.Response(200, content=rss_empty), polite=True)
    with caplog.at_level(logging.INFO):
        batch, cursor = await _source(f).poll(None)
    assert batch.papers == [] and batch.skipped == [] and cursor
    assert "no announcement" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_unchanged_feed_costs_nothing(make_fetcher: MakeFetcher, rss: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == '"today"':
            return httpx.Response(304)
        return httpx.Response(200, content=rss, headers={"ETag": '"today"'})

    source = _source(make_fetcher(handler, polite=True))
    first, cursor = await source.poll(None)
    again, same = await source.poll(cursor)
    assert len(first.papers) == 2 and again.total == 0 and same == cursor


async def test_poll_gives_up_on_an_html_page(make_fetcher: MakeFetcher) -> None:
    f = make_fetcher(lambda r: httpx.Response(200, text="<html>down</html>"), polite=True)
    with pytest.raises(SourceError):
        await _source(f).poll(None)


async def test_replacement_updates_version_and_never_makes_a_paper(
    store: Store, rss: bytes, atom: bytes
) -> None:
    await store_batch(store, parse_feed(atom, "api", atom=True))
    before = await store.get_paper("arxiv:2310.00001")
    report = await store_batch(store, parse_feed(rss, "rss", atom=False))
    assert (report.new, report.updated, report.skipped) == (2, 1, 3)
    stored = await store.get_paper("arxiv:2310.00001")
    assert stored is not None and before is not None
    assert stored.version == 3 and stored.abstract == "Now with more experiments."
    assert stored.published == before.published and stored.seq == before.seq
    assert await store.get_paper("arxiv:2409.11111") is None  # a revision of an unknown paper
    assert await store.count_papers() == 3
    again = await store_batch(store, parse_feed(rss, "rss", atom=False))
    assert (again.new, again.updated) == (0, 0)


async def test_lookup_asks_the_api_in_chunks(make_fetcher: MakeFetcher, atom: bytes) -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        assert request.url.path == "/api/query"
        return httpx.Response(200, content=atom)

    ids = [f"arxiv:2310.{i:05d}" for i in range(1, 151)]
    batch = await _source(make_fetcher(handler, polite=True)).lookup(ids)
    assert [s["max_results"] for s in seen] == ["100", "50"]
    assert seen[0]["id_list"].startswith("2310.00001,2310.00002,")
    assert [p.id for p in batch.papers] == ["arxiv:2310.00001"]  # merged across chunks


def _atom_page(ids_dates: list[tuple[str, str]]) -> bytes:
    entries = "".join(
        f"<entry><id>http://arxiv.org/abs/{i}v1</id><published>{d}T10:00:00Z</published>"
        f"<title>Paper {i}</title><summary>About {i}.</summary>"
        f"<author><name>A. Author</name></author></entry>"
        for i, d in ids_dates
    )
    return f'<feed xmlns="http://www.w3.org/2005/Atom"><title>q</title>{entries}</feed>'.encode()


async def test_backfill_pages_until_older_than_since(make_fetcher: MakeFetcher) -> None:
    seen: list[dict[str, str]] = []
    page0 = [(f"2411.{i:05d}", "2024-11-20") for i in range(100)]
    page1 = [("2411.20000", "2024-11-19"), ("2411.20001", "2024-11-10")]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        start = int(request.url.params["start"])
        return httpx.Response(200, content=_atom_page(page0 if start == 0 else page1))

    progress: list[int] = []
    batch = await _source(make_fetcher(handler, polite=True)).backfill(
        date(2024, 11, 15), on_page=progress.append
    )
    assert [s["start"] for s in seen] == ["0", "100"]
    assert seen[0]["search_query"] == "cat:cs.LG OR cat:cs.CL"
    assert seen[0]["sortBy"] == "submittedDate" and seen[0]["sortOrder"] == "descending"
    assert len(batch.papers) == 101 and progress == [100, 101]


def test_arxiv_refuses_an_impolite_fetcher(make_fetcher: MakeFetcher) -> None:
    with pytest.raises(ValueError, match="polite"):
        _source(make_fetcher(lambda r: httpx.Response(200)))
