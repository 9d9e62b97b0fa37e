"""Subscription commands: subscribe, unsubscribe, subscriptions, pause, resume,
follow, unfollow, following, digest."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.commands.args import Args
from bot.messages import Command, Reply, error, plural
from bot.models import Destination, Schedule, ScheduleError, Subscription, check_timezone
from bot.query import parse, validate_query
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


def _describe(sub: Subscription) -> str:
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
    same = next((s for s in existing if s.query == query), None)
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


async def _reschedule(core: Core, sub: Subscription, args: Args) -> Reply:
    """Subscribing to a query again changes the schedule, if one is given: the parts
    not given (time zone, or the digest when only --tz is) stay as they were.

    """
    given = "instant" in args.flags or {"digest", "tz"} & args.options.keys()
    if not given:
        example = "--digest daily@09:00" if sub.schedule.kind == "instant" else "--instant"
        return error(
            f"Already subscribed: {_describe(sub)}. To change how it posts, add e.g. {example}."
        )
    try:
        schedule = _schedule(args, str(sub.schedule), sub.schedule.tz)
    except ValueError as exc:
        return error(str(exc))
    old = _mode(sub)
    if _mode(replace(sub, schedule=schedule)) == old:
        return error(f"Already subscribed: {_describe(sub)}")
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


async def _owned(
    core: Core, command: Command, args: Args, dest: Destination
) -> Subscription | Reply:
    sub_id = args.rest.strip()
    if not sub_id:
        return error(f"Which one? Give the id, e.g. /papers {args.name} s7k2p")
    sub = await core.store.get_subscription(command.tenant, sub_id)
    if sub is None:
        return error(f"No subscription `{sub_id}` in this workspace.")
    if sub.destination != dest:
        where = "your follows" if dest.is_user else "this channel"
        return error(f"`{sub_id}` is not one of {where}; run this where it posts.")
    return sub


async def _channel_change(core: Core, command: Command, args: Args) -> Subscription | Reply:
    if not command.actor.is_admin:
        return error(NO_PERMISSION)
    return await _owned(core, command, args, command.destination)


async def unsubscribe(core: Core, command: Command, args: Args) -> Reply:
    """Remove a subscription of this channel."""
    sub = await _channel_change(core, command, args)
    if isinstance(sub, Reply):
        return sub
    await core.store.remove_subscription(command.tenant, sub.id)
    return Reply(text=f"Unsubscribed `{sub.id}` ({sub.query}).", ephemeral=False)


async def unfollow(core: Core, command: Command, args: Args) -> Reply:
    """Remove one of the actor's follows."""
    sub = await _owned(core, command, args, command.actor_destination)
    if isinstance(sub, Reply):
        return sub
    await core.store.remove_subscription(command.tenant, sub.id)
    return Reply(text=f"Unfollowed `{sub.id}` ({sub.query}).")


async def _pause(core: Core, command: Command, args: Args, paused: bool) -> Reply:
    if args.rest.strip().lower() == "all":
        return await _pause_all(core, command, paused)
    sub = await _channel_change(core, command, args)
    if isinstance(sub, Reply):
        return sub
    if sub.paused == paused:
        return error(f"`{sub.id}` is already {'paused' if paused else 'running'}.")
    reason = f"paused by {command.actor.name or command.actor.user}" if paused else None
    await core.store.set_paused(command.tenant, sub.id, paused, reason)
    verb = "Paused" if paused else "Resumed"
    return Reply(text=f"{verb} `{sub.id}` ({sub.query}).", ephemeral=False)


async def _pause_all(core: Core, command: Command, paused: bool) -> Reply:
    """Pause (or resume) every subscription of this channel that is not already."""
    if not command.actor.is_admin:
        return error(NO_PERMISSION)
    subs = await core.store.list_subscriptions(command.tenant, command.destination)
    todo = [s for s in subs if s.paused != paused]
    if not subs:
        return error("This channel has no subscriptions.")
    if not todo:
        return error(f"No subscription of this channel is {'running' if paused else 'paused'}.")
    reason = f"paused by {command.actor.name or command.actor.user}" if paused else None
    for sub in todo:
        await core.store.set_paused(command.tenant, sub.id, paused, reason)
    verb = "Paused" if paused else "Resumed"
    ids = ", ".join(f"`{s.id}`" for s in todo)
    return Reply(text=f"{verb} {plural(len(todo), 'subscription')}: {ids}.", ephemeral=False)


async def pause(core: Core, command: Command, args: Args) -> Reply:
    """Pause a subscription of this channel."""
    return await _pause(core, command, args, True)


async def resume(core: Core, command: Command, args: Args) -> Reply:
    """Resume a paused subscription of this channel."""
    return await _pause(core, command, args, False)


async def _listing(core: Core, command: Command, dest: Destination, empty: str) -> Reply:
    subs = await core.store.list_subscriptions(command.tenant, dest)
    if not subs:
        return Reply(text=empty)
    title = "Your follows:" if dest.is_user else "Subscriptions of this channel:"
    return Reply(text=title, lines=tuple(_describe(s) for s in subs))


async def subscriptions(core: Core, command: Command, args: Args) -> Reply:
    """List this channel's subscriptions."""
    return await _listing(
        core,
        command,
        command.destination,
        "This channel has no subscriptions. "
        "Try /papers subscribe QUERY (and /papers preview QUERY first).",
    )


async def following(core: Core, command: Command, args: Args) -> Reply:
    """List the actor's follows."""
    return await _listing(
        core,
        command,
        command.actor_destination,
        'You follow nothing yet. Try /papers follow author:"Chelsea Finn".',
    )


async def digest(core: Core, command: Command, args: Args) -> Reply:
    """Make this channel's pending digest due now."""
    if not command.actor.is_admin:
        return error(NO_PERMISSION)
    moved = await core.store.reschedule(command.destination, core.clock())
    if not moved:
        return Reply(text="Nothing is waiting for this channel's digest.")
    return Reply(
        text=f"{plural(moved, 'pending paper')} will be posted in the next delivery cycle."
    )


HANDLERS: dict[str, Handler] = {
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
    "subscriptions": subscriptions,
    "pause": pause,
    "resume": resume,
    "follow": follow,
    "unfollow": unfollow,
    "following": following,
    "digest": digest,
}
