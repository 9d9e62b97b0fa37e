"""When is a match due? Instant now; digests at their next wall-clock time in their zone.

Digest times are wall-clock times in the subscription's IANA zone, so a 09:00 digest
stays at 09:00 across daylight-saving changes. A time that does not exist on a
spring-forward day is moved forward by the length of the gap (02:30 in Europe/Berlin
becomes 03:30 CEST); a repeated time on a fall-back day is taken at its first
occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.models import Schedule


def next_due(schedule: Schedule, now: datetime) -> datetime:
    """The UTC time at which a match found at `now` (aware) should be posted."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if schedule.kind == "instant":
        return now.astimezone(UTC)
    zone = ZoneInfo(schedule.tz)
    local = now.astimezone(zone)
    day = local.date()
    for offset in range(0, 9):
        candidate_day = day + timedelta(days=offset)
        if schedule.kind == "weekly" and candidate_day.weekday() != schedule.weekday:
            continue
        wall = datetime.combine(candidate_day, schedule.at)
        due = _resolve(wall, zone)
        if due > now.astimezone(UTC):
            return due
    raise AssertionError("unreachable: a day or week always has a next digest time")


def _resolve(wall: datetime, zone: ZoneInfo) -> datetime:
    """Local wall-clock time -> UTC. fold=0 takes the first of a repeated time, and
    moves a time inside a spring-forward gap forward by the gap (PEP 495)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
