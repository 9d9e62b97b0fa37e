"""Hugging Face Daily Papers: `GET {base_url}/api/daily_papers?date=YYYY-MM-DD&p=N&limit=L`.

An item looks like `{"paper": {"id": "2401.12345", "title", "summary",
"authors": [{"name"}], "publishedAt", "upvotes", "ai_summary", "ai_keywords",
"githubRepo", "projectPage", ...}, "publishedAt", "title", "summary", "thumbnail",
"numComments", "submittedBy", ...}`: the HF extras live inside `paper`. Upvotes change
during the day, so today is polled again; a re-poll updates the record, it never
makes a new paper.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from bot.ids import parse_paper_ref
from bot.models import Paper
from bot.sources.base import Batch, clean, parse_time
from bot.sources.http import Fetcher, SourceError

log = logging.getLogger(__name__)

NAME = "huggingface"
PAGE_SIZE = 100
MAX_PAGES = 50
CATCH_UP_DAYS = 7


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a string")
    return value


def paper_from_hf_item(item: Any) -> Paper:
    """A Paper from one daily_papers item; ValueError when the item is unusable."""
    if not isinstance(item, dict):
        raise ValueError("item is not an object")
    inner = item.get("paper")
    if not isinstance(inner, dict):
        raise ValueError("item has no 'paper' object")
    paper_id, version = parse_paper_ref(_str(inner.get("id"), "paper.id"))
    title = clean(_str(inner.get("title") or item.get("title"), "title"))
    if not title:
        raise ValueError(f"{paper_id} has an empty title")
    abstract = inner.get("summary") or item.get("summary") or ""
    authors = inner.get("authors") or []
    if not isinstance(authors, list):
        raise ValueError(f"{paper_id}: authors is not a list")
    upvotes = inner.get("upvotes")
    if upvotes is not None and (not isinstance(upvotes, int) or isinstance(upvotes, bool)):
        raise ValueError(f"{paper_id}: upvotes is not a number")
    keywords = inner.get("ai_keywords") or []

    def optional(value: Any) -> str | None:
        return value.strip() if isinstance(value, str) and value.strip() else None

    return Paper(
        id=paper_id,
        title=title,
        abstract=clean(_str(abstract, "summary")),
        authors=tuple(
            clean(a["name"])
            for a in authors
            if isinstance(a, dict) and isinstance(a.get("name"), str)
        ),
        published=parse_time(inner.get("publishedAt") or item.get("publishedAt")),
        sources=(NAME,),
        version=version,
        upvotes=upvotes,
        github_repo=optional(inner.get("githubRepo")),
        project_page=optional(inner.get("projectPage")),
        ai_summary=optional(inner.get("ai_summary")),
        ai_keywords=tuple(k for k in keywords if isinstance(k, str))
        if isinstance(keywords, list)
        else (),
        thumbnail=optional(item.get("thumbnail")),
    )


def papers_from_items(items: Any, where: str) -> Batch:
    """Papers of a daily_papers array; bad items are skipped with one log line each."""
    batch = Batch()
    if not isinstance(items, list):
        raise SourceError(f"{where}: expected a JSON array of papers")
    for index, item in enumerate(items):
        batch.collect(partial(paper_from_hf_item, item), f"{where} item {index}")
    return batch


class HuggingFaceSource:
    """Polls Hugging Face Daily Papers day by day."""

    name = NAME

    def __init__(self, fetcher: Fetcher, base_url: str, page_size: int = PAGE_SIZE) -> None:
        self.fetcher = fetcher
        self.url = base_url.rstrip("/") + "/api/daily_papers"
        self.page_size = page_size

    async def fetch_day(self, day: date) -> Batch:
        """Every paper of one day, following pages until a short one."""
        batch = Batch()
        for page in range(MAX_PAGES):
            where = f"daily_papers {day} page {page}"
            body = await self.fetcher.get(
                self.url, {"date": day.isoformat(), "p": page, "limit": self.page_size}
            )
            if body is None:  # 304: nothing changed since our last poll
                break
            try:
                items = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise SourceError(f"{where}: not JSON ({exc})") from exc
            part = papers_from_items(items, where)
            batch.extend(part)
            if len(items) < self.page_size:
                break
        return batch

    async def poll(self, cursor: str | None, today: date | None = None) -> tuple[Batch, str]:
        """Papers of every day since the cursor (today always again); the new cursor."""
        today = today or datetime.now(UTC).date()
        start = today - timedelta(days=1)
        if cursor:
            try:
                start = min(date.fromisoformat(cursor), today)
            except ValueError:
                log.warning("ignoring unreadable huggingface cursor %r", cursor)
        start = max(start, today - timedelta(days=CATCH_UP_DAYS))
        batch = Batch()
        day = start
        while day <= today:
            batch.extend(await self.fetch_day(day))
            day += timedelta(days=1)
        return batch, today.isoformat()
