"""Split `/papers` text into a subcommand, `--options` and the query, quotes intact.

The query keeps its original spelling (quotes, parentheses, `-word`), because the
query language gives them meaning; only words starting with `--` are options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# Options that take a value; any other `--name` is a flag.
VALUED = {"since", "until", "sort", "limit", "days", "digest", "tz", "for"}
FLAGS = {"instant", "share"}
_TOKEN = re.compile(r'"[^"]*"?|[^\s"]+(?:"[^"]*"?[^\s"]*)*')
_RELATIVE = re.compile(r"^(\d{1,4})([hdw])$")


class ArgError(ValueError):
    """Options that cannot be understood; the message says which and why."""


@dataclass(frozen=True)
class Args:
    """A parsed command line: subcommand, option values, and the remaining text."""

    name: str
    rest: str
    options: dict[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()

    def int_option(self, name: str, default: int, low: int, high: int) -> int:
        """An integer option within [low, high]."""
        raw = self.options.get(name)
        if raw is None:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ArgError(f"--{name} takes a whole number from {low} to {high}, not {raw!r}")
        return int(raw)

    def time_option(self, name: str, now: datetime) -> datetime | None:
        """`7d`, `12h`, `2w` (before now) or a date `2026-01-01` (UTC midnight)."""
        raw = self.options.get(name)
        if raw is None:
            return None
        return parse_when(raw, now, f"--{name}")

    def future_option(self, name: str, now: datetime) -> datetime | None:
        """`2w`, `3d`, `12h` from now, or a date (UTC midnight); within a year from now."""
        raw = self.options.get(name)
        if raw is None:
            return None
        span = _span(raw)
        when = now + span if span is not None else parse_when(raw, now, f"--{name}")
        if not now < when <= now + timedelta(days=366):
            raise ArgError(f"--{name} takes a time within the next year, not {raw!r}")
        return when


def _span(raw: str) -> timedelta | None:
    """`7d`, `12h`, `2w` as a timedelta; None for anything else."""
    m = _RELATIVE.match(raw.lower())
    if m is None:
        return None
    unit = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
    return int(m[1]) * unit[m[2]]


def parse_when(raw: str, now: datetime, what: str = "time") -> datetime:
    """A relative span (`7d`, `12h`, `2w`) before `now`, or an ISO date."""
    span = _span(raw)
    if span is not None:
        return now - span
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ArgError(f"{what} takes 7d, 12h, 2w or a date like 2026-01-31, not {raw!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_args(text: str) -> Args:
    """Split `search "domain generalization" --since 7d` into its parts."""
    tokens = _TOKEN.findall(text.strip())
    if not tokens:
        return Args(name="help", rest="")
    name, words = tokens[0].lower(), tokens[1:]
    options: dict[str, str] = {}
    flags: set[str] = set()
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--") and len(word) > 2:
            key, eq, value = word[2:].partition("=")
            key = key.lower()
            if key in VALUED:
                if not eq:
                    if i + 1 >= len(words) or words[i + 1].startswith("--"):
                        raise ArgError(f"--{key} needs a value")
                    i += 1
                    value = words[i]
                options[key] = value.strip('"')
            elif key in FLAGS and not eq:
                flags.add(key)
            else:
                raise ArgError(f"unknown option --{key}; see /papers help {name}")
        else:
            rest.append(word)
        i += 1
    return Args(name=name, rest=" ".join(rest), options=options, flags=frozenset(flags))
