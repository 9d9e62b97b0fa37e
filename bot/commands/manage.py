"""Managing what exists: unsubscribe, unfollow, pause, resume (one, or all of a
channel), the subscriptions and following lists, and sending a digest now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands.args import Args
from bot.commands.subs import NO_PERMISSION, describe
from bot.messages import Command, Reply, error, plural
from bot.models import Destination, Subscription

if TYPE_CHECKING:
    from bot.commands.core import Core, Handler


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
    """Pause or resume one subscription of this channel, or `all`; a pause may be for a
    while (`--for 2w`, `--for 2026-12-16`), after which it ends by itself."""
    if not paused and "for" in args.options:
        return error("--for goes with pause: /papers pause ID --for 2w")
    until = args.future_option("for", core.clock())
    everything = args.rest.strip().lower() == "all"
    if everything:
        if not command.actor.is_admin:
            return error(NO_PERMISSION)
        subs = await core.store.list_subscriptions(command.tenant, command.destination)
        if not subs:
            return error("This channel has no subscriptions.")
        todo = [s for s in subs if s.paused != paused]
        if not todo:
            state = "running" if paused else "paused"
            return error(f"No subscription of this channel is {state}.")
    else:
        sub = await _channel_change(core, command, args)
        if isinstance(sub, Reply):
            return sub
        if sub.paused == paused:
            return error(f"`{sub.id}` is already {'paused' if paused else 'running'}.")
        todo = [sub]
    when = f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""
    reason = f"paused by {command.actor.name or command.actor.user}{when}" if paused else None
    for sub in todo:
        await core.store.set_paused(command.tenant, sub.id, paused, reason, until)
    verb = "Paused" if paused else "Resumed"
    if not everything:
        return Reply(text=f"{verb} `{todo[0].id}` ({todo[0].query}){when}.", ephemeral=False)
    ids = ", ".join(f"`{s.id}`" for s in todo)
    return Reply(text=f"{verb} {plural(len(todo), 'subscription')}{when}: {ids}.", ephemeral=False)


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
    return Reply(text=title, lines=tuple(describe(s) for s in subs))


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
    "unsubscribe": unsubscribe,
    "subscriptions": subscriptions,
    "pause": pause,
    "resume": resume,
    "unfollow": unfollow,
    "following": following,
    "digest": digest,
}
