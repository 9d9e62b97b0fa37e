"""`paperbot subscribe | subscriptions | unsubscribe`: manage subscriptions from a shell."""

from __future__ import annotations

import click

from bot.cli.context import UsageFailure, cli_context, echo_json, run_async
from bot.commands.subs import change_schedule
from bot.models import (
    CLI_CREATOR,
    AddressError,
    Destination,
    Schedule,
    ScheduleError,
    Tenant,
    utcnow,
)
from bot.query import QueryError, validate_query
from bot.store import DuplicateSubscription


def _destination(text: str) -> Destination:
    try:
        return Destination.parse(text)
    except AddressError as exc:
        raise UsageFailure(str(exc)) from None


@click.command()
@click.option("--channel", "channel", required=True, help="Destination, e.g. slack:T1:C2.")
@click.option("--digest", default=None, help="daily@HH:MM or weekly@mon@HH:MM (default: instant).")
@click.option("--instant", is_flag=True, help="Post each match on the next delivery cycle.")
@click.option(
    "--tz", default=None, help="IANA time zone of the digest (default: delivery.timezone)."
)
@click.argument("query")
@run_async
async def subscribe(
    channel: str, digest: str | None, instant: bool, tz: str | None, query: str
) -> None:
    """Subscribe a channel (or a user, platform:ws:@user) to QUERY.

    The new subscription id is printed alone on the last line. Subscribing the
    same destination to the same QUERY again with --digest, --instant or --tz
    changes its schedule. A QUERY that starts with "-" goes after "--":

    \b
      paperbot subscribe --channel slack:T1:C2 -- "-survey robots"
    """
    ctx = cli_context()
    settings = ctx.settings()
    destination = _destination(channel)
    if instant and digest:
        raise UsageFailure("--instant and --digest exclude each other")
    try:
        schedule = Schedule.parse(digest or "instant", tz or settings.delivery.timezone)
    except ScheduleError as exc:
        raise UsageFailure(str(exc)) from None
    try:
        query = validate_query(query)
    except QueryError as exc:
        raise UsageFailure(f"bad query: {exc}") from None
    async with ctx.store() as store:
        try:
            sub = await store.add_subscription(destination, query, schedule, created_by=CLI_CREATOR)
            said = "subscribed"
        except DuplicateSubscription as exc:
            old = exc.existing
            if not (digest or instant or tz):
                raise UsageFailure(str(exc)) from None
            spec = "instant" if instant else digest or str(old.schedule)
            schedule = Schedule.parse(spec, tz or old.schedule.tz)  # the rest stays
            if _mode(old.schedule) == _mode(schedule):
                raise UsageFailure(str(exc)) from None
            changed = await change_schedule(store, old, schedule, utcnow())
            if changed is None:
                raise UsageFailure(f"{old.id} was just removed") from None
            sub, said = changed, f"changed {old.id} (was {_mode(old.schedule)}):"
    click.echo(f"{said} {sub.destination} to {sub.query!r} ({_mode(sub.schedule)})", err=True)
    click.echo(sub.id)


def _mode(schedule: Schedule) -> str:
    return f"{schedule}, {schedule.tz}" if schedule.kind != "instant" else "instant"


@click.command()
@click.option("--channel", "channel", default=None, help="Only this destination.")
@click.option("--workspace", default=None, help="Only this workspace, e.g. slack:T1.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@run_async
async def subscriptions(channel: str | None, workspace: str | None, as_json: bool) -> None:
    """List subscriptions (all workspaces unless --channel or --workspace)."""
    ctx = cli_context()
    destination = _destination(channel) if channel else None
    try:
        tenant = Tenant.parse(workspace) if workspace else None
    except AddressError as exc:
        raise UsageFailure(str(exc)) from None
    async with ctx.store() as store:
        if destination is not None:
            subs = await store.list_subscriptions(destination.tenant, destination)
        elif tenant is not None:
            subs = await store.list_subscriptions(tenant)
        else:
            subs = sorted(
                [s async for s in store.iter_subscriptions()],
                key=lambda s: (str(s.destination), s.created_at),
            )
    for sub in subs:
        if as_json:
            echo_json(sub.to_dict())
        else:
            state = f"  [paused: {sub.paused_reason or 'by request'}]" if sub.paused else ""
            click.echo(f"{sub.id}  {sub.destination}  {sub.schedule}  {sub.query}{state}")
    if not subs and not as_json:
        click.echo("no subscriptions", err=True)


@click.command()
@click.argument("sub_id")
@run_async
async def unsubscribe(sub_id: str) -> None:
    """Remove the subscription SUB_ID (an operator command: any workspace)."""
    ctx = cli_context()
    async with ctx.store() as store:
        found = None
        async for sub in store.iter_subscriptions():
            if sub.id == sub_id:
                found = sub
                break
        if found is None or not await store.remove_subscription(found.tenant, sub_id):
            raise UsageFailure(f"no subscription with id {sub_id!r}")
    click.echo(f"removed {sub_id} ({found.destination}: {found.query!r})")


COMMANDS = [subscribe, subscriptions, unsubscribe]
