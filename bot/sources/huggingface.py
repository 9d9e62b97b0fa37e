"""Hugging Face Daily Papers: `GET {base_url}/api/daily_papers?date=YYYY-MM-DD&p=N&limit=L`.

An item looks like `{"paper": {"id": "2401.12345", "title", "summary",
"authors": [{"name"}], "publishedAt", "upvotes", "ai_summary", "ai_keywords",
"githubRepo", "projectPage", ...}, "publishedAt", "title", "summary", "thumbnail",
"numComments", "submittedBy", ...}`: the HF extras live inside `paper`. Upvotes change
during the day, so today is polled again; a re-poll updates the record, it never
makes a new paper.

The cursor is the first day to fetch next time: today after a clean poll, or the
first day a broken page or a failed request left incomplete (at most
`CATCH_UP_DAYS` back). The first poll (no cursor) reads the last `CATCH_UP_DAYS`
days too, so search and `/papers preview` have a week of papers from the start.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from bot.ids import parse_paper_ref
from bot.models import Paper
from bot.sources.base import Batch, clean, parse_time
from bot.sources.http import Fetcher, PayloadError, SourceError

log = logging.getLogger(__name__)

NAME = "huggingface"
PAGE_SIZE = 50  # small enough that a server capping `limit` still pages right
MAX_PAGES = 50
CATCH_UP_DAYS = 7
_WS = re.compile(r"[ \t\n\r]*")


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a string")
    return value


def _optional(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def paper_from_hf_item(item: Any) -> Paper:
    """A Paper from one daily_papers item; ValueError when the item is unusable."""
    if not isinstance(item, dict):
        raise ValueError("item is not an object")
    inner = item.get("paper")
    if not isinstance(inner, dict):
        raise ValueError("item has no 'paper' object")
    paper_id, version = parse_paper_ref(_str(inner.get("id"), "paper.id"))
    title = clean(_str(inner.get("title") or item.get("title"), f"{paper_id}: title"))
    if not title:
        raise ValueError(f"{paper_id} has an empty title")
    abstract = _str(inner.get("summary") or item.get("summary") or "", f"{paper_id}: summary")
    authors = inner.get("authors") or []
    if not isinstance(authors, list):
        raise ValueError(f"{paper_id}: authors is not a list")
    upvotes = inner.get("upvotes")
    if upvotes is not None and (not isinstance(upvotes, int) or isinstance(upvotes, bool)):
        raise ValueError(f"{paper_id}: upvotes is not a whole number")
    keywords = inner.get("ai_keywords")
    return Paper(
        id=paper_id,
        title=title,
        abstract=clean(abstract),
        authors=tuple(
            clean(a["name"])
            for a in authors
            if isinstance(a, dict) and isinstance(a.get("name"), str) and a["name"].strip()
        ),
        published=parse_time(inner.get("publishedAt") or item.get("publishedAt")),
        sources=(NAME,),
        version=version,
        upvotes=upvotes,
        github_repo=_optional(inner.get("githubRepo")),
        project_page=_optional(inner.get("projectPage")),
        ai_summary=_optional(inner.get("ai_summary")),
        ai_keywords=tuple(clean(k) for k in keywords if isinstance(k, str) and k.strip())
        if isinstance(keywords, list)
        else (),
        thumbnail=_optional(item.get("thumbnail")),
    )


def papers_from_items(items: Any, where: str) -> Batch:
    """Papers of a daily_papers array; bad items are skipped with one log line each."""
    batch = Batch()
    if not isinstance(items, list):
        raise PayloadError(f"{where}: expected a JSON array of papers")
    for index, item in enumerate(items):
        batch.collect(partial(paper_from_hf_item, item), f"{where} item {index}")
    return batch


def decode_array(body: bytes, where: str) -> tuple[list[Any], str | None]:
    """The items of a JSON array, and None; of a cut-off array, the complete items and
    what went wrong. PayloadError when nothing usable is there (an HTML error page)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"{where}: not UTF-8 text ({exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        items = _salvage(text)
        if not items:
            raise PayloadError(f"{where}: not JSON ({exc})") from exc
        return items, f"cut off after {len(items)} items ({exc})"
    if not isinstance(data, list):
        raise PayloadError(f"{where}: expected a JSON array, got {type(data).__name__}")
    return data, None


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _salvage(text: str) -> list[Any]:
    """The complete leading items of a cut-off JSON array."""
    decoder = json.JSONDecoder()
    items: list[Any] = []
    pos = _skip_ws(text, 0)
    if not text.startswith("[", pos):
        return []
    pos += 1
    while True:
        try:
            item, pos = decoder.raw_decode(text, _skip_ws(text, pos))
        except json.JSONDecodeError:
            return items
        items.append(item)
        pos = _skip_ws(text, pos)
        if not text.startswith(",", pos):
            return items
        pos += 1


class HuggingFaceSource:
    """Polls Hugging Face Daily Papers day by day."""

    name = NAME

    def __init__(
        self,
        fetcher: Fetcher,
        base_url: str,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.fetcher = fetcher
        self.url = base_url.rstrip("/") + "/api/daily_papers"
        self.page_size = page_size
        self.max_pages = max_pages

    async def fetch_day(self, day: date) -> Batch:
        """Every paper of one day, following pages until a short one.

        A page that is not a JSON array (an HTML error page, too large) is skipped
        with one log line and ends the day, marked incomplete; of a cut-off page the
        complete items are kept. Raises SourceError when the server cannot be read.
        """
        batch = Batch()
        for page in range(self.max_pages):
            where = f"daily_papers {day} page {page}"
            params = {"date": day.isoformat(), "p": page, "limit": self.page_size}
            try:
                body = await self.fetcher.get(self.url, params)
                if body is None:  # 304: nothing changed since our last poll
                    break
                items, problem = decode_array(body, where)
            except PayloadError as exc:
                batch.skip(str(exc))
                batch.complete = False
                break
            part = papers_from_items(items, where)
            known = len(batch.papers)
            batch.extend(part)
            if problem is not None:
                batch.skip(f"{where}: {problem}")
                batch.complete = False
                break
            repeated = bool(part.papers) and len(batch.papers) == known
            if len(items) < self.page_size or repeated:
                break  # a short page, or a server that ignores `p`
        return batch

    async def poll(self, cursor: str | None, today: date | None = None) -> tuple[Batch, str]:
        """Papers of every day from the cursor to today; the cursor for next time.

        Raises SourceError when nothing could be fetched; when a later day fails,
        what was read is returned and the cursor stays on the failed day.
        """
        today = today or datetime.now(UTC).date()
        start = today - timedelta(days=CATCH_UP_DAYS)
        if cursor:
            try:
                start = min(date.fromisoformat(cursor), today)
            except ValueError:
                log.warning("ignoring unreadable huggingface cursor %r", cursor)
        start = max(start, today - timedelta(days=CATCH_UP_DAYS))
        batch, resume = Batch(), None
        day = start
        while day <= today:
            try:
                part = await self.fetch_day(day)
            except SourceError as exc:
                if day == start:
                    raise
                log.warning("huggingface: %s; continuing from %s next poll", exc, day)
                resume = resume or day
                break
            if not part.complete:
                resume = resume or day
            batch.extend(part)
            day += timedelta(days=1)
        return batch, (resume or today).isoformat()
