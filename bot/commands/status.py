"""`/papers status` and `paperbot status`: is the bot working? Sources' last polls,
papers, subscriptions and waiting posts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.commands.args import Args
from bot.messages import Command, Reply, plural
from bot.models import Destination, Subscription, Tenant
from bot.poll_status import NAMES, PollStatus, last_polls
from bot.store import Store

if TYPE_CHECKING:
    from bot.commands.core import Core, Handler, PaperSearch

#: A source whose last poll is older than this is flagged: is the poller running?
STALE = timedelta(hours=6)


def ago(then: datetime, now: datetime) -> str:
    """`just now`, `5 min ago`, `3 h ago`, `2 days ago`."""
    seconds = max(0.0, (now - then).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


async def status_lines(
    store: Store,
    now: datetime,
    polls: list[PollStatus],
    *,
    search: PaperSearch | None = None,
    tenant: Tenant | None = None,
    destination: Destination | None = None,
) -> list[str]:
    """The status report, given the sources' last `polls`: of one workspace (and its
    channel `destination`) when `tenant` is given, else of every workspace; papers by
    date need `search`."""
    lines: list[str] = []
    for poll in polls:
        outcome = poll.detail if poll.ok else f"failed: {poll.detail} (trying again next poll)"
        late = " — late: is `paperbot run` still running?" if now - poll.at > STALE else ""
        lines.append(f"{NAMES[poll.source]}: last poll {ago(poll.at, now)}, {outcome}{late}")
    if not polls:
        lines.append("Sources: not polled yet (`paperbot run` polls them)")
    papers = f"Papers: {await store.count_papers():,} stored"
    if search is not None:
        recent = await search.search(None, since=now - timedelta(days=1), limit=None)
        newest = await search.search(None, sort="date", limit=1)
        paper = await store.get_paper(newest[0].paper_id) if newest else None
        papers += f", {len(recent):,} published in the last day"
        if paper is not None and paper.published is not None:
            papers += f"; the newest from {paper.published:%Y-%m-%d}"
    lines.append(papers)
    if tenant is not None:
        subs = await store.list_subscriptions(tenant)
        lines.append(f"This workspace: {_subscriptions(subs)}")
    else:
        subs = [s async for s in store.iter_subscriptions()]
        workspaces = len({s.destination.tenant for s in subs})
        lines.append(f"{plural(workspaces, 'workspace')}: {_subscriptions(subs)}")
    waiting = await store.pending(destination)
    if waiting:
        due = min(e.due_at for e in waiting)
        when = "now" if due <= now else f"{due:%Y-%m-%d %H:%M} UTC"
        where = "This channel" if destination is not None else "Outbox"
        line = f"{where}: {plural(len(waiting), 'post')} waiting, the next due {when}"
        failed = max(waiting, key=lambda e: e.attempts)
        if failed.attempts and failed.last_error:
            line += f" (last attempt failed: {failed.last_error})"
        lines.append(line)
    return lines


def _subscriptions(subs: list[Subscription]) -> str:
    channel = [s for s in subs if not s.destination.is_user]
    paused = sum(s.paused for s in channel)
    return (
        f"{plural(len(channel), 'channel subscription')}"
        f"{f' ({paused} paused)' if paused else ''}, "
        f"{plural(len(subs) - len(channel), 'personal follow')}"
    )


async def status(core: Core, command: Command, args: Args) -> Reply:
    """Whether papers are coming in and what this workspace has set up."""
    lines = await status_lines(
        core.store,
        core.clock(),
        await last_polls(core.store),
        search=core.search,
        tenant=command.tenant,
        destination=command.destination,
    )
    return Reply(text="paperbot is running.", lines=tuple(lines))


HANDLERS: dict[str, Handler] = {"status": status}
