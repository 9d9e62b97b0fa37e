"""Making subscriptions and follows (`/papers subscribe`, `follow`), and changing how
they post by subscribing again; bot/commands/manage.py handles what exists."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.commands.args import Args
from bot.messages import Command, Reply, error, plural
from bot.models import Destination, Schedule, ScheduleError, Subscription, check_timezone
from bot.query import QueryError, parse, validate_query
from bot.schedule import next_due
from bot.store import DuplicateSubscription, Store

if TYPE_CHECKING:
    from bot.commands.core import Core, Handler

log = logging.getLogger(__name__)

NO_PERMISSION = "Only people who may manage this channel can change its subscriptions."
#: Subscriptions one channel (or follows one person) may have: enough for any real use,
#: and a bound on what one channel costs every paper's matching.
MAX_PER_DESTINATION = 100


def _schedule(args: Args, default: str, zone: str) -> Schedule:
    digest = args.options.get("digest")
    if digest and "instant" in args.flags:
        raise ValueError("--instant and --digest exclude each other")
    spec = "instant" if "instant" in args.flags else digest or default
    return Schedule.parse(spec, args.options.get("tz") or zone)


def _own_zone(core: Core, command: Command) -> str:
    """The actor's own time zone if the platform told a known one, else the bot's."""
    zone = command.actor.timezone
    if zone:
        try:
            return check_timezone(zone)
        except ScheduleError:
            log.info("%s has an unknown time zone %r", command.actor.user, zone)
    return core.timezone


def _mode(sub: Subscription) -> str:
    return str(sub.schedule) + (f" {sub.schedule.tz}" if sub.schedule.kind != "instant" else "")


def describe(sub: Subscription) -> str:
    """A subscription in one line: id, query, mode, last post, and why it is paused."""
    mode = _mode(sub)
    state = f" — paused: {sub.paused_reason or 'by request'}" if sub.paused else ""
    last = (
        f"last post {sub.last_post_at:%Y-%m-%d %H:%M} UTC" if sub.last_post_at else "no posts yet"
    )
    return f"`{sub.id}` {sub.query}  ({mode}; {last}){state}"


async def create_subscription(
    core: Core, command: Command, args: Args, dest: Destination, default: str, zone: str
) -> Reply:
    if not args.rest.strip():
        return error('Say what to look for, e.g. /papers subscribe "diffusion policy" -survey')
    query = validate_query(args.rest)  # raises QueryError with a message and column
    try:
        schedule = _schedule(args, default, zone)
    except ValueError as exc:
        return error(str(exc))
    existing = await core.store.list_subscriptions(dest.tenant, dest)
    canonical = str(parse(query))  # `Robots  -survey` is `robots -survey` again
    same = next((s for s in existing if _canonical(s.query) == canonical), None)
    if same is not None:
        return await _reschedule(core, same, args)
    if len(existing) >= MAX_PER_DESTINATION:
        whose = "You follow" if dest.is_user else "This channel has"
        drop = "/papers unfollow" if dest.is_user else "/papers unsubscribe"
        return error(
            f"{whose} {MAX_PER_DESTINATION} queries already, the most allowed: remove one "
            f"first ({drop} ID), or join queries with OR."
        )
    try:
        sub = await core.store.add_subscription(dest, query, schedule, command.actor.user)
    except DuplicateSubscription as exc:  # made meanwhile by someone else
        return await _reschedule(core, exc.existing, args)
    what = "Following" if dest.is_user else "Subscribed this channel to"
    return Reply(
        text=f"{what} {sub.query} ({_mode(sub)}) as `{sub.id}`.{await _last_week(core, query)}",
        ephemeral=dest.is_user,
    )


def _canonical(query: str) -> str | None:
    """A stored query's canonical form (None if it no longer parses)."""
    try:
        return str(parse(query))
    except QueryError:
        return None


async def _reschedule(core: Core, sub: Subscription, args: Args) -> Reply:
    """Subscribing to a query again changes the schedule, if one is given: the parts
    not given (time zone, or the digest when only --tz is) stay as they were."""
    given = "instant" in args.flags or {"digest", "tz"} & args.options.keys()
    if not given:
        example = "--digest daily@09:00" if sub.schedule.kind == "instant" else "--instant"
        return error(
            f"Already subscribed: {describe(sub)}. To change how it posts, add e.g. {example}."
        )
    try:
        schedule = _schedule(args, str(sub.schedule), sub.schedule.tz)
    except ValueError as exc:
        return error(str(exc))
    old = _mode(sub)
    if _mode(replace(sub, schedule=schedule)) == old:
        return error(f"Already subscribed: {describe(sub)}")
    changed = await change_schedule(core.store, sub, schedule, core.clock())
    if changed is None:  # removed meanwhile
        return error(f"`{sub.id}` was just removed; subscribe again.")
    paused = f" (still paused: /papers resume {sub.id} turns it back on)" if sub.paused else ""
    return Reply(
        text=f"Changed `{sub.id}` {sub.query} from {old} to {_mode(changed)}{paused}.",
        ephemeral=sub.destination.is_user,
    )


async def change_schedule(
    store: Store, sub: Subscription, schedule: Schedule, now: datetime
) -> Subscription | None:
    """Give `sub` a new schedule; the updated record, or None if it was removed.

    Its posts already waiting move earlier when the new schedule is sooner, never later.
    """
    changed = await store.set_schedule(sub.tenant, sub.id, schedule)
    if changed is None:
        return None
    waiting = await store.pending(sub.destination)
    due = next_due(schedule, now)
    if any(sub.id in e.subscription_ids for e in waiting) and due < min(e.due_at for e in waiting):
        await store.reschedule(sub.destination, due)
    return changed


async def _last_week(core: Core, query: str) -> str:
    """What a new subscription would have brought last week: tells at once whether it
    is too narrow or too broad. Empty if the index cannot say (the subscription stands)."""
    try:
        since = core.clock() - timedelta(days=7)
        count = len(await core.search.search(parse(query), since=since, limit=None))
    except Exception:
        log.exception("could not count last week's papers for %r", query)
        return ""
    if not count:
        return " Nothing in the last 7 days matches it; /papers preview helps tune it."
    return f" It would have brought {plural(count, 'paper')} in the last 7 days."


async def subscribe(core: Core, command: Command, args: Args) -> Reply:
    """Subscribe the channel the command was typed in."""
    if not command.actor.is_admin:
        return error(NO_PERMISSION)
    return await create_subscription(
        core, command, args, command.destination, "instant", core.timezone
    )


async def follow(core: Core, command: Command, args: Args) -> Reply:
    """Follow a query by direct message (daily digest by default, in the person's
    own time zone when the platform tells it)."""
    return await create_subscription(
        core,
        command,
        args,
        command.actor_destination,
        f"daily@{core.digest_time}",
        _own_zone(core, command),
    )


HANDLERS: dict[str, Handler] = {
    "subscribe": subscribe,
    "follow": follow,
}
