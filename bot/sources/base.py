"""What every source shares: a Batch of papers read, and small field cleaners.

One rule for bad input everywhere: a bad item is skipped with one log line (and
counted); the good items around it are kept. A duplicate id within one page is a
bad item; the same paper on two pages of one poll (lists shift while they are
paged) is merged, later sighting winning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from bot.models import Paper

log = logging.getLogger("bot.sources")


@dataclass
class Batch:
    """Papers read from a source, and why the skipped items were skipped.

    `revisions` are new versions of papers (arXiv replacements): they update a paper
    already stored and never create one. `complete` is False when part of the input
    could not be read (a broken page), so a cursor must not move past it.
    """

    papers: list[Paper] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    revisions: list[Paper] = field(default_factory=list)
    complete: bool = True
    _where: dict[str, tuple[bool, int]] = field(default_factory=dict, repr=False)

    def skip(self, reason: str) -> None:
        """Skip one bad item: one log line, counted."""
        log.warning("skipped %s", reason)
        self.skipped.append(reason)

    def collect(self, convert: Callable[[], Paper], where: str, revision: bool = False) -> None:
        """Add `convert()`'s paper; a bad item (ValueError, TypeError) or an id seen
        already in this batch is skipped with one log line."""
        try:
            paper = convert()
        except (ValueError, TypeError) as exc:
            self.skip(f"{where}: {exc}")
            return
        if paper.id in self._where:
            self.skip(f"{where}: duplicate of {paper.id}")
            return
        self._add(paper, revision)

    def _add(self, paper: Paper, revision: bool) -> None:
        target = self.revisions if revision else self.papers
        self._where[paper.id] = (revision, len(target))
        target.append(paper)

    def extend(self, other: Batch) -> None:
        """Add another batch (a later page or day); a paper seen again is merged."""
        for revision, papers in ((False, other.papers), (True, other.revisions)):
            for paper in papers:
                slot = self._where.get(paper.id)
                if slot is None:
                    self._add(paper, revision)
                else:
                    target = self.revisions if slot[0] else self.papers
                    target[slot[1]] = target[slot[1]].merged(paper)
        self.skipped.extend(other.skipped)
        self.complete = self.complete and other.complete

    @property
    def total(self) -> int:
        """Items read: papers, revisions and skipped ones."""
        return len(self.papers) + len(self.revisions) + len(self.skipped)


class Source(Protocol):
    """A paper source polled by `paperbot run`."""

    name: str

    async def poll(self, cursor: str | None) -> tuple[Batch, str]:
        """Papers new since `cursor`, and the cursor to store for next time."""
        ...


def clean(text: str) -> str:
    """Whitespace normalised (LaTeX is left for the analyzer)."""
    return " ".join(text.split())


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 or RFC 2822 date as an aware UTC datetime; None if absent or bad."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
