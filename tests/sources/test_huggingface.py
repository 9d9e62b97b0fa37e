"""Hugging Face Daily Papers on recorded-shape payloads through httpx.MockTransport."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest

from bot.models import Paper
from bot.pipeline import store_batch
from bot.sources.http import Fetcher, PayloadError, SourceError
from bot.sources.huggingface import (
    HuggingFaceSource,
    decode_array,
    paper_from_hf_item,
    papers_from_items,
)
from bot.store import Store

MakeFetcher = Callable[..., Fetcher]
Items = list[dict[str, Any]]
DAY = date(2024, 11, 20)


def test_item_fields(hf_items: Items) -> None:
    paper = paper_from_hf_item(hf_items[0])
    assert paper.id == "arxiv:2411.01234" and paper.version is None
    assert paper.title == "Diffusion Policies for Dexterous Manipulation"  # whitespace normalised
    assert paper.abstract == (
        "We propose a diffusion policy for dexterous manipulation. It works on real robots."
    )
    assert paper.authors == ("Kaiyang Zhou", "Chelsea Finn")
    assert paper.upvotes == 42
    assert paper.github_repo == "https://github.com/example/dexdiff"
    assert paper.project_page == "https://example.github.io/dexdiff"
    assert paper.ai_summary == "A diffusion policy learns dexterous manipulation on real robots."
    assert paper.ai_keywords == ("diffusion policy", "dexterous manipulation")
    assert paper.thumbnail and paper.thumbnail.endswith("2411.01234.png")
    assert paper.sources == ("huggingface",)
    assert paper.published is not None
    assert paper.published.isoformat() == "2024-11-19T18:59:59+00:00"


def test_item_without_extras(hf_items: Items) -> None:
    paper = paper_from_hf_item(hf_items[1])
    assert paper.upvotes == 0  # a stored zero stays a zero
    assert paper.github_repo is None and paper.ai_summary is None and paper.ai_keywords == ()


def _item(**paper: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "2411.00001", "title": "T", "summary": "S", "authors": []}
    return {"paper": {**base, **paper}}


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ("not an object", "not an object"),
        ({"title": "no paper"}, "no 'paper' object"),
        ({"paper": []}, "no 'paper' object"),
        (_item(id=None), "paper.id is not a string"),
        (_item(id=2411.00001), "paper.id is not a string"),
        (_item(id="not-an-id"), "not a paper id"),
        (_item(title=12345), "title is not a string"),
        (_item(title="  \n "), "empty title"),
        (_item(summary=["x"]), "summary is not a string"),
        (_item(authors="nobody"), "authors is not a list"),
        (_item(upvotes="many"), "upvotes is not a whole number"),
        (_item(upvotes=True), "upvotes is not a whole number"),
        (_item(upvotes=1.5), "upvotes is not a whole number"),
    ],
)
def test_bad_items_raise_value_error(item: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        paper_from_hf_item(item)


def test_tolerated_oddities() -> None:
    paper = paper_from_hf_item(
        _item(
            id="2411.00001v2",
            authors=[{"name": " Ada  Lovelace "}, {"name": None}, "Bob", {"_id": "x"}],
            ai_keywords="not a list",
            githubRepo="",
            publishedAt="yesterday",
            title=None,
        )
        | {"title": "Outer title", "thumbnail": 7}
    )
    assert paper.title == "Outer title" and paper.version == 2
    assert paper.authors == ("Ada Lovelace",)
    assert paper.ai_keywords == () and paper.github_repo is None
    assert paper.published is None and paper.thumbnail is None


def test_page_keeps_good_items_and_logs_each_bad_one_once(
    hf_items: Items, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        batch = papers_from_items(hf_items, "page")
    assert [p.id for p in batch.papers] == ["arxiv:2411.01234", "arxiv:2411.05678"]
    assert len(batch.skipped) == 4
    assert any("duplicate of arxiv:2411.01234" in s for s in batch.skipped)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4
    assert {f"page item {i}" for i in (2, 3, 4, 5)} == {
        r.getMessage().split(":")[0].removeprefix("skipped ") for r in warnings
    }


def test_decode_array_salvages_a_cut_off_page(hf_items: Items) -> None:
    body = json.dumps(hf_items).encode()
    cut = body[: body.index(b'{"paper": {"id": "not-an-id"') + 20]
    items, problem = decode_array(cut, "page")
    assert [i["paper"]["id"] for i in items] == ["2411.01234", "2411.05678"]
    assert problem and "cut off after 2 items" in problem
    assert decode_array(body, "page") == (hf_items, None)


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
        b'{"error": "Invalid date"}',
        b'[{"paper": {"id": "2411.0',
        b"",
        b"\xff\xfe not utf-8",
    ],
    ids=["html", "object", "cut-in-first-item", "empty", "binary"],
)
def test_decode_array_refuses_what_is_no_array(body: bytes) -> None:
    with pytest.raises(PayloadError):
        decode_array(body, "page")


def _server(pages: dict[int, Any], seen: list[dict[str, str]] | None = None) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        if seen is not None:
            seen.append(params)
        assert request.url.path == "/api/daily_papers"
        page = pages.get(int(params["p"]), [])
        if isinstance(page, httpx.Response):
            return page
        if isinstance(page, bytes):
            return httpx.Response(200, content=page)
        return httpx.Response(200, json=page)

    return handler


async def test_paginates_with_p_and_limit_until_a_short_page(
    make_fetcher: MakeFetcher, hf_items: Items
) -> None:
    seen: list[dict[str, str]] = []
    other = {**hf_items[1], "paper": {**hf_items[1]["paper"], "id": "2411.05679"}}
    pages = {0: hf_items[:2], 1: [other, hf_items[0]], 2: [other]}
    source = HuggingFaceSource(make_fetcher(_server(pages, seen)), "http://hf.test/", page_size=2)
    batch = await source.fetch_day(DAY)
    assert [s["p"] for s in seen] == ["0", "1", "2"]
    assert all(s["date"] == "2024-11-20" and s["limit"] == "2" for s in seen)
    # the same paper on two pages (lists shift while paged) is one paper, not a skip
    ids = [p.id for p in batch.papers]
    assert ids == ["arxiv:2411.01234", "arxiv:2411.05678", "arxiv:2411.05679"]
    assert batch.skipped == [] and batch.complete


async def test_a_server_ignoring_p_does_not_loop(
    make_fetcher: MakeFetcher, hf_items: Items
) -> None:
    seen: list[dict[str, str]] = []
    same = hf_items[:2]
    source = HuggingFaceSource(
        make_fetcher(_server(dict.fromkeys(range(50), same), seen)), "http://hf.test", page_size=2
    )
    batch = await source.fetch_day(DAY)
    assert len(seen) == 2 and len(batch.papers) == 2


@pytest.mark.parametrize(
    "broken",
    [
        b"<html><body>Service unavailable</body></html>",
        httpx.Response(200, content=b"[" + b" " * (10 * 1024 * 1024) + b"]"),
    ],
    ids=["html-page", "10MB"],
)
async def test_a_broken_page_is_skipped_and_the_day_marked_incomplete(
    make_fetcher: MakeFetcher, hf_items: Items, broken: Any, caplog: pytest.LogCaptureFixture
) -> None:
    source = HuggingFaceSource(
        make_fetcher(_server({0: hf_items[:2], 1: broken})), "http://hf.test", page_size=2
    )
    with caplog.at_level(logging.WARNING):
        batch = await source.fetch_day(DAY)
    assert len(batch.papers) == 2 and len(batch.skipped) == 1 and not batch.complete
    assert "page 1" in batch.skipped[0] or "p=1" in batch.skipped[0]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


async def test_a_cut_off_page_keeps_its_complete_items(
    make_fetcher: MakeFetcher, hf_items: Items
) -> None:
    body = json.dumps(hf_items).encode()
    source = HuggingFaceSource(make_fetcher(_server({0: body[:-40]})), "http://hf.test")
    batch = await source.fetch_day(DAY)
    assert [p.id for p in batch.papers] == ["arxiv:2411.01234", "arxiv:2411.05678"]
    assert any("cut off after 5 items" in s for s in batch.skipped) and not batch.complete


async def test_a_server_error_after_retries_raises(make_fetcher: MakeFetcher) -> None:
    source = HuggingFaceSource(make_fetcher(_server({0: httpx.Response(503)})), "http://hf.test")
    with pytest.raises(SourceError, match="gave up"):
        await source.fetch_day(DAY)


async def test_poll_covers_cursor_to_today_and_moves_the_cursor(
    make_fetcher: MakeFetcher, hf_items: Items
) -> None:
    days: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        days.append(request.url.params["date"])
        return httpx.Response(200, json=hf_items[:1] if days[-1] == "2024-11-19" else [])

    source = HuggingFaceSource(make_fetcher(handler), "http://hf.test")
    batch, cursor = await source.poll("2024-11-18", today=DAY)
    assert days == ["2024-11-18", "2024-11-19", "2024-11-20"] and cursor == "2024-11-20"
    assert [p.id for p in batch.papers] == ["arxiv:2411.01234"]
    days.clear()
    await source.poll(None, today=DAY)  # first poll ever: the last week, for preview
    assert days[0] == "2024-11-13" and days[-1] == "2024-11-20" and len(days) == 8
    days.clear()
    await source.poll("2020-01-01", today=DAY)  # a week at most
    assert days[0] == "2024-11-13" and len(days) == 8
    days.clear()
    await source.poll("garbage", today=DAY)  # as if there were none
    assert days[0] == "2024-11-13" and len(days) == 8


async def test_poll_keeps_what_it_read_and_resumes_at_a_failed_day(
    make_fetcher: MakeFetcher, hf_items: Items
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        day = request.url.params["date"]
        if day == "2024-11-19":
            return httpx.Response(200, content=b"<html>oops</html>")
        if day == "2024-11-20":
            return httpx.Response(500)
        return httpx.Response(200, json=hf_items[:1])

    source = HuggingFaceSource(make_fetcher(handler), "http://hf.test")
    batch, cursor = await source.poll("2024-11-18", today=DAY)
    assert [p.id for p in batch.papers] == ["arxiv:2411.01234"]
    assert cursor == "2024-11-19"  # the broken page's day is read again next poll
    with pytest.raises(SourceError):  # nothing read at all: the poll gives up
        await source.poll("2024-11-20", today=DAY)


async def test_repoll_updates_upvotes_without_a_new_paper(store: Store, hf_items: Items) -> None:
    first = papers_from_items(hf_items[:1], "a")
    later = {**hf_items[0], "paper": {**hf_items[0]["paper"], "upvotes": 77}}
    one = await store_batch(store, first)
    two = await store_batch(store, papers_from_items([later], "b"))
    three = await store_batch(store, papers_from_items([later], "c"))
    assert (one.new, one.updated) == (1, 0)
    assert (two.new, two.updated) == (0, 1)
    assert (three.new, three.updated) == (0, 0)
    stored = await store.get_paper("arxiv:2411.01234")
    assert isinstance(stored, Paper) and stored.upvotes == 77
    assert await store.count_papers() == 1
