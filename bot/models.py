"""Domain records shared by every part of paperbot.

Identities (`Tenant`, `Destination`) are tiny frozen dataclasses with a canonical
text form; records (`Paper`, `Subscription`, `OutboxEntry`) are frozen too and are
changed with `dataclasses.replace`.

A follow is a subscription whose destination is a user (`slack:T1:@U2`): the same
record, the same store operations, delivered by direct message.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, time
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PLATFORMS = ("slack", "discord", "console")
SOURCES = ("huggingface", "arxiv", "file")

_PART = re.compile(r"^[A-Za-z0-9_.\-]+$")


class AddressError(ValueError):
    """A destination or user address that cannot be parsed."""


@dataclass(frozen=True, slots=True, order=True)
class Tenant:
    """One Slack workspace, Discord guild or console: the unit of isolation."""

    platform: str
    workspace: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace}"

    @classmethod
    def parse(cls, text: str) -> Tenant:
        """Parse `platform:workspace`."""
        parts = text.strip().split(":")
        if len(parts) != 2:
            raise AddressError(f"workspace {text!r} is not of the form platform:workspace")
        return cls(*_check_parts(text, parts))


@dataclass(frozen=True, slots=True, order=True)
class Destination:
    """Where posts go: a channel (`slack:T1:C2`) or a user's DM (`slack:T1:@U2`)."""

    platform: str
    workspace: str
    channel: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.channel}"

    @property
    def tenant(self) -> Tenant:
        """The workspace this destination belongs to."""
        return Tenant(self.platform, self.workspace)

    @property
    def is_user(self) -> bool:
        """True for a user's direct messages (a follow), False for a channel."""
        return self.channel.startswith("@")

    @classmethod
    def parse(cls, text: str) -> Destination:
        """Parse `platform:workspace:channel` or `platform:workspace:@user`."""
        parts = text.strip().split(":")
        if len(parts) != 3:
            raise AddressError(
                f"destination {text!r} is not of the form platform:workspace:channel "
                "(e.g. slack:T024BE7LD:C0123 or console:default:lab)"
            )
        platform, workspace, channel = _check_parts(text, parts)
        if channel.startswith("@") and len(channel) == 1:
            raise AddressError(f"destination {text!r} names no user after '@'")
        return cls(platform, workspace, channel)


def user_destination(platform: str, workspace: str, user: str) -> Destination:
    """The DM destination of a user id (`U0456` -> `slack:T1:@U0456`)."""
    return Destination(platform, workspace, "@" + user.lstrip("@"))


def _check_parts(text: str, parts: list[str]) -> list[str]:
    if parts[0] not in PLATFORMS:
        raise AddressError(
            f"unknown platform {parts[0]!r} in {text!r}; expected one of {', '.join(PLATFORMS)}"
        )
    for part in parts[1:]:
        if not _PART.match(part.lstrip("@")):
            raise AddressError(f"{text!r} has an empty or invalid part {part!r}")
    return parts


# --------------------------------------------------------------------------- papers


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


#: Paper fields that hold text when present (title is required, checked on its own).
_OPTIONAL_TEXT = (
    "abstract",
    "github_repo",
    "project_page",
    "ai_summary",
    "thumbnail",
    "comment",
    "journal_ref",
    "doi",
)


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper, whichever sources saw it. `id` is canonical (`arxiv:2401.12345`)."""

    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    version: int | None = None
    upvotes: int | None = None
    github_repo: str | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    thumbnail: str | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    seq: int | None = field(default=None, compare=False)

    @property
    def arxiv_id(self) -> str | None:
        """The bare arXiv id (`2401.12345`), or None for non-arXiv papers."""
        return self.id[6:] if self.id.startswith("arxiv:") else None

    @property
    def url(self) -> str:
        """The paper's canonical web page."""
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        if self.doi or self.id.startswith("doi:"):
            return f"https://doi.org/{self.doi or self.id[4:]}"
        return self.project_page or self.github_repo or ""

    def merged(self, newer: Paper) -> Paper:
        """This record updated with what a newer sighting knows.

        Non-empty fields of `newer` win; sources and categories are united; the
        version only grows; `published` is the earliest date seen (an arXiv
        replacement announced later does not move a paper's date); `seq` (the
        ingest sequence) of the first sighting stays.
        """
        changes: dict[str, Any] = {}
        for f in fields(self):
            name = f.name
            if name in ("id", "seq"):
                continue
            old, new = getattr(self, name), getattr(newer, name)
            if name in ("sources", "categories"):
                value: Any = tuple(dict.fromkeys((*old, *new)))
            elif name == "version":
                value = max((v for v in (old, new) if v is not None), default=None)
            elif name == "published":
                value = min((d for d in (old, new) if d is not None), default=None)
            elif new is None or new == () or new == "":
                value = old
            else:
                value = new
            if value != old:
                changes[name] = value
        return replace(self, **changes) if changes else self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the record format of JSONL paper files."""
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        for key in ("authors", "categories", "sources", "ai_keywords"):
            data[key] = list(data[key])
        return {k: v for k, v in data.items() if v not in (None, [], "")} | {
            "id": self.id,
            "title": self.title,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Paper:
        """Build a Paper from `to_dict` output. Raises ValueError on a bad record."""
        if not isinstance(data, dict):
            raise ValueError("a paper record must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown paper fields: {', '.join(sorted(unknown))}")
        if not isinstance(data.get("id"), str) or not data["id"]:
            raise ValueError("a paper record needs a non-empty string 'id'")
        if not isinstance(data.get("title"), str):
            raise ValueError("a paper record needs a string 'title'")
        kwargs: dict[str, Any] = dict(data)
        for key in ("authors", "categories", "sources", "ai_keywords"):
            value = kwargs.get(key, ())
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"paper field {key!r} must be a list of strings")
            kwargs[key] = tuple(value)
        published = kwargs.get("published")
        if isinstance(published, str):
            parsed = datetime.fromisoformat(published.replace("Z", "+00:00"))
            kwargs["published"] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        elif published is not None:
            raise ValueError("paper field 'published' must be an ISO date string")
        for key in _OPTIONAL_TEXT:
            if kwargs.get(key) is not None and not isinstance(kwargs[key], str):
                raise ValueError(f"paper field {key!r} must be a string")
        for key in ("version", "upvotes", "seq"):
            if kwargs.get(key) is not None and (
                not isinstance(kwargs[key], int) or isinstance(kwargs[key], bool)
            ):
                raise ValueError(f"paper field {key!r} must be an integer")
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class PutResult:
    """What a batch of papers did to the store: ids that are new, and ids that changed."""

    new: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()


# --------------------------------------------------------------------------- schedules

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = r"\d{1,2}(?::\d{2})?(?:am|pm)?"
_SCHEDULE = re.compile(
    rf"^(?:(?P<instant>instant)|(?P<daily>daily)(?:@(?P<dt>{_TIME}))?"
    rf"|(?P<weekly>weekly)(?:@(?P<wd>[a-z]{{3,9}}))?(?:@(?P<wt>{_TIME}))?)$"
)
_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?(am|pm)?")


class ScheduleError(ValueError):
    """A schedule or time zone that cannot be understood."""


def check_timezone(name: str) -> str:
    """Return `name` if it is a known IANA time zone, else raise ScheduleError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(
            f"unknown time zone {name!r}; use an IANA name like Europe/Berlin or UTC"
        ) from exc
    return name


@dataclass(frozen=True, slots=True)
class Schedule:
    """When matches are posted: at once, or as a daily or weekly digest in a time zone."""

    kind: Literal["instant", "daily", "weekly"] = "instant"
    at: time = time(9, 0)
    weekday: int = 0
    tz: str = "UTC"

    def __str__(self) -> str:
        if self.kind == "instant":
            return "instant"
        hhmm = self.at.strftime("%H:%M")
        if self.kind == "daily":
            return f"daily@{hhmm}"
        return f"weekly@{_WEEKDAYS[self.weekday]}@{hhmm}"

    @classmethod
    def parse(cls, text: str, tz: str = "UTC") -> Schedule:
        """Parse `instant`, `daily[@TIME]` or `weekly[@DAY][@TIME]` in time zone `tz`.

        TIME is `HH:MM`, `H`, or either with am/pm (`9am`, `5:30pm`; default 09:00);
        DAY is a weekday, whole or from its first three letters (`fri`, `friday`;
        default Monday). `str()` gives the canonical form: `weekly@fri@17:30`.
        """
        m = _SCHEDULE.match(text.strip().lower())
        if not m:
            raise ScheduleError(
                f"unknown schedule {text!r}; use instant, daily@HH:MM or weekly@mon@HH:MM"
            )
        check_timezone(tz)
        if m["instant"]:
            return cls("instant", tz=tz)
        at = _clock(m["dt"] or m["wt"] or "09:00", text)
        if m["daily"]:
            return cls("daily", at, tz=tz)
        day = m["wd"] or "mon"
        weekday = next((i for i, name in enumerate(_DAY_NAMES) if name.startswith(day)), -1)
        if weekday < 0:
            raise ScheduleError(f"unknown weekday {day!r}; use mon, tue, ... sun")
        return cls("weekly", at, weekday, tz=tz)


def _clock(text: str, schedule: str) -> time:
    """`09:00`, `9`, `9am`, `5:30pm` as a time of day; ScheduleError if there is none."""
    found = _CLOCK.fullmatch(text)
    assert found is not None  # _SCHEDULE lets only such times through
    hour_text, minute_text, half = found.groups()
    hour, minute = int(hour_text), int(minute_text or 0)
    if half is not None:
        if not 1 <= hour <= 12:
            raise ScheduleError(f"invalid time {text!r} in schedule {schedule!r}")
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ScheduleError(f"invalid time {text!r} in schedule {schedule!r}")
    return time(hour, minute)


# --------------------------------------------------------------------------- subscriptions


#: `created_by` of subscriptions made with `paperbot subscribe` (no person to tell).
CLI_CREATOR = "cli"


@dataclass(frozen=True, slots=True)
class Subscription:
    """A query whose matches are posted to a destination (a channel, or a user's DMs)."""

    id: str
    destination: Destination
    query: str
    schedule: Schedule = Schedule()
    created_at: datetime = field(default_factory=utcnow)
    created_by: str | None = None
    paused: bool = False
    paused_reason: str | None = None
    last_post_at: datetime | None = None
    resume_at: datetime | None = None  # a pause for a while: when it ends by itself

    @property
    def tenant(self) -> Tenant:
        """The workspace that owns this subscription."""
        return self.destination.tenant

    @property
    def is_follow(self) -> bool:
        """True when this is a user's follow (delivered by DM)."""
        return self.destination.is_user

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for `--json` output and storage)."""
        return {
            "id": self.id,
            "destination": str(self.destination),
            "query": self.query,
            "schedule": str(self.schedule),
            "tz": self.schedule.tz,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "paused": self.paused,
            "paused_reason": self.paused_reason,
            "last_post_at": self.last_post_at.isoformat() if self.last_post_at else None,
            "resume_at": self.resume_at.isoformat() if self.resume_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Subscription:
        """Inverse of `to_dict`."""
        return cls(
            id=data["id"],
            destination=Destination.parse(data["destination"]),
            query=data["query"],
            schedule=Schedule.parse(data["schedule"], data.get("tz") or "UTC"),
            created_at=datetime.fromisoformat(data["created_at"]),
            created_by=data.get("created_by"),
            paused=bool(data.get("paused")),
            paused_reason=data.get("paused_reason"),
            last_post_at=(
                datetime.fromisoformat(data["last_post_at"]) if data.get("last_post_at") else None
            ),
            resume_at=datetime.fromisoformat(data["resume_at"]) if data.get("resume_at") else None,
        )


# --------------------------------------------------------------------------- delivery


class Hit(NamedTuple):
    """A subscription that matched a paper, with the query terms that matched.

    A NamedTuple rather than a frozen dataclass: the percolator makes dozens per
    paper, and a tuple is made in half the time.
    """

    subscription_id: str
    paper_id: str
    terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A paper found by a search, with its relevance score (higher is better)."""

    paper_id: str
    score: float


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One paper waiting to be posted to one destination, on behalf of subscriptions.

    `id` is assigned by the store on enqueue (0 before). `due_at` is when it may be
    delivered (now for instant, the digest time for digests). `lease_until` is set
    while a delivery worker holds it. `terms` are the query terms that matched (for
    highlighting on the card).
    """

    destination: Destination
    paper_id: str
    subscription_ids: tuple[str, ...]
    due_at: datetime
    terms: tuple[str, ...] = ()
    id: int = 0
    attempts: int = 0
    lease_until: datetime | None = None
    last_error: str | None = None
