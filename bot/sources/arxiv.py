"""arXiv: the daily announcement RSS feed, and the export API (Atom) for lookups.

RSS: `{rss_url}/rss/cs.LG+cs.CL`, one `<item>` per announced paper with
`arxiv:announce_type` new, cross, replace or replace-cross and a description of the
form `arXiv:2401.12345v2 Announce Type: replace Abstract: ...`. A replacement is a
new version of a paper: it goes to `Batch.revisions`, which update a stored paper
and never create one, so a revised paper is never posted again. An empty feed
(weekends, holidays: the feed lists them in skipDays) is normal. API:
`{api_url}/api/query?id_list=...` or a `search_query` for backfills. arXiv asks for
one request every 3 seconds, one at a time, across the process: the fetcher given
here must carry that `Politeness`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import feedparser
from feedparser.exceptions import ThingsNobodyCaresAboutButMe

from bot.ids import parse_paper_ref
from bot.models import Paper
from bot.sources.base import Batch, clean, parse_time
from bot.sources.http import Fetcher, PayloadError

log = logging.getLogger(__name__)

NAME = "arxiv"
API_PAGE = 100
REVISIONS = ("replace", "replace-cross")
_ABSTRACT = re.compile(r"Abstract:\s*", re.IGNORECASE)
_ANNOUNCE = re.compile(r"Announce Type:\s*([\w-]+)", re.IGNORECASE)
_AUTHORS_SPLIT = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


def _text(entry: Any, key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _categories(entry: Any) -> tuple[str, ...]:
    tags = entry.get("tags") or []
    terms = [t.get("term") for t in tags if isinstance(t, dict)]
    return tuple(dict.fromkeys(t.strip() for t in terms if isinstance(t, str) and t.strip()))


def announce_type(entry: Any) -> str:
    """`new`, `cross`, `replace` or `replace-cross` of an RSS item (`new` if unsaid)."""
    kind = _text(entry, "arxiv_announce_type").strip().lower()
    if not kind:
        m = _ANNOUNCE.search(_text(entry, "summary"))
        kind = m[1].lower() if m else "new"
    return kind


def paper_from_rss_item(entry: Any) -> Paper:
    """A Paper from one announcement item; ValueError when unusable.

    A replacement's pubDate is the day of the new version, not of the paper, so it
    is left out and the stored date stays.
    """
    paper_id, version = parse_paper_ref(_text(entry, "id") or _text(entry, "link"))
    title = clean(_text(entry, "title"))
    if not title:
        raise ValueError(f"{paper_id} has no title")
    parts = _ABSTRACT.split(_text(entry, "summary"), maxsplit=1)
    abstract = parts[-1]
    if version is None and len(parts) == 2:
        m = re.search(r"v(\d+)\b", parts[0])
        version = int(m[1]) if m else None
    creators = _text(entry, "author") or _text(entry, "dc_creator")
    revision = announce_type(entry) in REVISIONS
    return Paper(
        id=paper_id,
        title=title,
        abstract=clean(abstract),
        authors=tuple(clean(a) for a in _AUTHORS_SPLIT.split(creators) if a.strip()),
        published=None if revision else parse_time(_text(entry, "published")),
        categories=_categories(entry),
        sources=(NAME,),
        version=version,
        journal_ref=clean(_text(entry, "arxiv_journal_reference")) or None,
        doi=_text(entry, "arxiv_doi").strip().lower() or None,
    )


def paper_from_atom_entry(entry: Any) -> Paper:
    """A Paper from one export-API Atom entry; ValueError when unusable."""
    paper_id, version = parse_paper_ref(_text(entry, "id"))
    title = clean(_text(entry, "title"))
    if not title:
        raise ValueError(f"{paper_id} has no title")
    authors = tuple(
        clean(a["name"])
        for a in entry.get("authors") or []
        if isinstance(a, dict) and isinstance(a.get("name"), str) and a["name"].strip()
    )
    return Paper(
        id=paper_id,
        title=title,
        abstract=clean(_text(entry, "summary")),
        authors=authors,
        published=parse_time(_text(entry, "published")),
        categories=_categories(entry),
        sources=(NAME,),
        version=version,
        comment=clean(_text(entry, "arxiv_comment")) or None,
        journal_ref=clean(_text(entry, "arxiv_journal_ref")) or None,
        doi=_text(entry, "arxiv_doi").strip().lower() or None,
    )


def parse_feed(body: bytes, where: str, atom: bool | None = None) -> Batch:
    """Papers of an RSS or Atom document; bad entries skipped, one log line each.

    `atom`: entries are export-API entries (True) or announcement items (False);
    None decides by the document's own format (a saved file).

    Of a cut-off document the last entry (perhaps cut) is skipped and the batch is
    marked incomplete. PayloadError when the body is no feed at all (an HTML page).
    """
    feed = feedparser.parse(body)
    entries = list(feed.get("entries") or [])
    problem = feed.get("bozo_exception") if feed.get("bozo") else None
    if not feed.get("version") or (problem is not None and not entries):
        raise PayloadError(f"{where}: not an RSS or Atom feed ({problem or 'no feed element'})")
    if atom is None:
        atom = str(feed.get("version")).startswith("atom")
    if atom and entries and "/api/errors" in _text(entries[0], "id"):
        raise PayloadError(f"{where}: arXiv API error: {clean(_text(entries[0], 'summary'))}")
    batch = Batch()
    if problem is not None and not isinstance(problem, ThingsNobodyCaresAboutButMe):
        batch.skip(f"{where} entry {len(entries) - 1}: document cut off here ({problem})")
        batch.complete = False
        entries.pop()
    for index, entry in enumerate(entries):
        if atom:
            batch.collect(partial(paper_from_atom_entry, entry), f"{where} entry {index}")
        else:
            revision = announce_type(entry) in REVISIONS
            convert = partial(paper_from_rss_item, entry)
            batch.collect(convert, f"{where} entry {index}", revision=revision)
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
        """Today's announcement (conditional: an unchanged feed costs nothing).

        The cursor is the day of the last poll; the feed itself is always today's.
        """
        url = f"{self.rss_url}/rss/{'+'.join(self.categories)}"
        body = await self.fetcher.get(url)
        today = datetime.now(UTC).date().isoformat()
        if body is None:
            log.info("arXiv: announcement unchanged since the last poll")
            return Batch(), cursor or today
        batch = parse_feed(body, "arXiv RSS", atom=False)
        if not batch.total:
            log.info("arXiv: no announcement today (weekend or holiday)")
        return batch, today

    async def lookup(self, ids: Sequence[str]) -> Batch:
        """Papers by arXiv id through the export API."""
        batch = Batch()
        bare = [i.removeprefix("arxiv:") for i in ids]
        for start in range(0, len(bare), API_PAGE):
            chunk = bare[start : start + API_PAGE]
            params = {"id_list": ",".join(chunk), "max_results": len(chunk)}
            body = await self.fetcher.get(self.api_url, params)
            if body is not None:
                batch.extend(parse_feed(body, "arXiv API", atom=True))
        return batch

    async def backfill(
        self,
        since: date,
        max_papers: int = 10_000,
        on_page: Callable[[int], None] | None = None,
    ) -> Batch:
        """Papers of the categories submitted since `since`, newest first, page by page.

        `on_page(papers_so_far)` is called after each page (for a progress bar).
        """
        query = " OR ".join(f"cat:{c}" for c in self.categories)
        batch = Batch()
        start = 0
        while start < max_papers:
            params = {
                "search_query": query,
                "sortBy": "submittedDate",
                "sortOrder": "descending",
                "start": start,
                "max_results": API_PAGE,
            }
            body = await self.fetcher.get(self.api_url, params)
            if body is None:
                break
            page = parse_feed(body, f"arXiv API page {start // API_PAGE}", atom=True)
            fresh = [p for p in page.papers if p.published is None or p.published.date() >= since]
            batch.extend(Batch(papers=fresh, skipped=page.skipped, complete=page.complete))
            if on_page is not None:
                on_page(len(batch.papers))
            if len(fresh) < len(page.papers) or page.total < API_PAGE or not page.complete:
                break
            start += API_PAGE
        return batch
