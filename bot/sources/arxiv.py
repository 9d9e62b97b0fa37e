"""arXiv: the daily announcement RSS feed, and the export API (Atom) for lookups.

RSS: `{rss_url}/rss/cs.LG+cs.CL`, one `<item>` per announced paper with
`arxiv:announce_type` new, cross, replace or replace-cross and a description of the
form `arXiv:2401.12345v2 Announce Type: replace Abstract: ...`. A replacement is a
new version of a known paper: it updates `version`, it is never a new paper. An empty
feed (weekends, holidays) is normal. API: `{api_url}/api/query?id_list=...` or a
`search_query` for backfills. arXiv asks for one request every 3 seconds, one at a
time, across the process: the fetcher given here must carry that `Politeness`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import feedparser

from bot.ids import parse_paper_ref
from bot.models import Paper
from bot.sources.base import Batch, clean, parse_time
from bot.sources.http import Fetcher, SourceError

log = logging.getLogger(__name__)

NAME = "arxiv"
API_PAGE = 100
_ABSTRACT = re.compile(r"Abstract:\s*", re.IGNORECASE)
_AUTHORS_SPLIT = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def _entry_value(entry: Any, key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _categories(entry: Any) -> tuple[str, ...]:
    tags = entry.get("tags") or []
    terms = [t.get("term") for t in tags if isinstance(t, dict)]
    return tuple(dict.fromkeys(t.strip() for t in terms if isinstance(t, str) and t.strip()))


def paper_from_rss_item(entry: Any) -> Paper:
    """A Paper from one announcement item; ValueError when unusable."""
    ref = _entry_value(entry, "id") or _entry_value(entry, "link")
    paper_id, version = parse_paper_ref(ref)
    title = clean(_entry_value(entry, "title"))
    if not title:
        raise ValueError(f"{paper_id} has no title")
    description = _entry_value(entry, "summary") or _entry_value(entry, "description")
    parts = _ABSTRACT.split(description, maxsplit=1)
    abstract = parts[1] if len(parts) == 2 else description
    head = parts[0] if len(parts) == 2 else ""
    if version is None:
        m = re.search(r"v(\d+)\b", head)
        version = int(m[1]) if m else None
    creators = _entry_value(entry, "author") or _entry_value(entry, "dc_creator")
    authors = tuple(a.strip() for a in _AUTHORS_SPLIT.split(creators) if a.strip())
    return Paper(
        id=paper_id,
        title=title,
        abstract=clean(abstract),
        authors=authors,
        published=parse_time(_entry_value(entry, "published")),
        categories=_categories(entry),
        sources=(NAME,),
        version=version,
    )


def paper_from_atom_entry(entry: Any) -> Paper:
    """A Paper from one export-API Atom entry; ValueError when unusable."""
    paper_id, version = parse_paper_ref(_entry_value(entry, "id"))
    title = clean(_entry_value(entry, "title"))
    if not title:
        raise ValueError(f"{paper_id} has no title")
    authors = tuple(
        clean(a["name"])
        for a in entry.get("authors") or []
        if isinstance(a, dict) and isinstance(a.get("name"), str)
    )
    doi = _entry_value(entry, "arxiv_doi").strip() or None
    return Paper(
        id=paper_id,
        title=title,
        abstract=clean(_entry_value(entry, "summary")),
        authors=authors,
        published=parse_time(_entry_value(entry, "published")),
        categories=_categories(entry),
        sources=(NAME,),
        version=version,
        comment=clean(_entry_value(entry, "arxiv_comment")) or None,
        journal_ref=clean(_entry_value(entry, "arxiv_journal_ref")) or None,
        doi=doi,
    )


def parse_feed(body: bytes, where: str, atom: bool) -> Batch:
    """Papers of an RSS or Atom document; bad entries skipped, one log line each."""
    feed = feedparser.parse(body)
    if feed.get("bozo") and not feed.get("entries"):
        raise SourceError(f"{where}: not a readable feed ({feed.get('bozo_exception')})")
    convert = paper_from_atom_entry if atom else paper_from_rss_item
    batch = Batch()
    for index, entry in enumerate(feed.get("entries") or []):
        batch.collect(partial(convert, entry), f"{where} entry {index}")
    return batch


class ArxivSource:
    """The announcement feed of some categories, and the export API."""

    name = NAME

    def __init__(
        self, fetcher: Fetcher, categories: Sequence[str], rss_url: str, api_url: str
    ) -> None:
        if fetcher.politeness is None:
            raise ValueError("arXiv needs a polite fetcher (one request every 3 s)")
        self.fetcher = fetcher
        self.categories = list(categories)
        self.rss_url = rss_url.rstrip("/")
        self.api_url = api_url.rstrip("/") + "/api/query"

    async def poll(self, cursor: str | None) -> tuple[Batch, str]:
        """Today's announcement (conditional: an unchanged feed costs nothing)."""
        url = f"{self.rss_url}/rss/{'+'.join(self.categories)}"
        body = await self.fetcher.get(url)
        today = datetime.now(UTC).date().isoformat()
        if body is None:
            return Batch(), cursor or today
        batch = parse_feed(body, "arXiv RSS", atom=False)
        if not batch.papers and not batch.skipped:
            log.info("arXiv: no announcement today (weekend or holiday)")
        return batch, today

    async def lookup(self, ids: Sequence[str]) -> Batch:
        """Papers by arXiv id through the export API."""
        batch = Batch()
        bare = [i.removeprefix("arxiv:") for i in ids]
        for start in range(0, len(bare), API_PAGE):
            chunk = bare[start : start + API_PAGE]
            body = await self.fetcher.get(
                self.api_url, {"id_list": ",".join(chunk), "max_results": len(chunk)}
            )
            if body is not None:
                batch.extend(parse_feed(body, "arXiv API", atom=True))
        return batch

    async def backfill(self, since: date, max_papers: int = 10_000) -> Batch:
        """Papers of the categories submitted since `since`, newest first."""
        query = " OR ".join(f"cat:{c}" for c in self.categories)
        batch = Batch()
        start = 0
        while start < max_papers:
            body = await self.fetcher.get(
                self.api_url,
                {
                    "search_query": query,
                    "sortBy": "submittedDate",
                    "sortOrder": "descending",
                    "start": start,
                    "max_results": API_PAGE,
                },
            )
            if body is None:
                break
            page = parse_feed(body, f"arXiv API page {start // API_PAGE}", atom=True)
            fresh = [p for p in page.papers if p.published is None or p.published.date() >= since]
            batch.papers.extend(fresh)
            batch.skipped.extend(page.skipped)
            if len(fresh) < len(page.papers) or len(page.papers) + len(page.skipped) < API_PAGE:
                break
            start += API_PAGE
        return batch
