"""What every source shares: a Batch of papers read, and small field cleaners."""

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
    """Papers read from a source, and why the skipped items were skipped."""

    papers: list[Paper] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set, repr=False)

    def skip(self, reason: str) -> None:
        """Skip one bad item: one log line, counted."""
        log.warning("skipped %s", reason)
        self.skipped.append(reason)

    def collect(self, convert: Callable[[], Paper], where: str) -> None:
        """Add `convert()`'s paper; a bad item (ValueError, TypeError) or an id seen
        already in this batch is skipped with one log line."""
        try:
            paper = convert()
        except (ValueError, TypeError) as exc:
            self.skip(f"{where}: {exc}")
            return
        if paper.id in self._ids:
            self.skip(f"{where}: duplicate of {paper.id}")
            return
        self._ids.add(paper.id)
        self.papers.append(paper)

    def extend(self, other: Batch) -> None:
        """Add another batch's papers and skips."""
        self.papers.extend(other.papers)
        self.skipped.extend(other.skipped)


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
        except (TypeError, ValueError):
            return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
