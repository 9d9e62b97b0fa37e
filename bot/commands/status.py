"""`/papers status`: is the bot working? Sources' last polls, papers, this workspace."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.commands.args import Args
from bot.messages import Command, Reply
from bot.poll_status import NAMES, last_polls

if TYPE_CHECKING:
    from bot.commands.core import Core, Handler

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


async def status(core: Core, command: Command, args: Args) -> Reply:
    """Whether papers are coming in and what this workspace has set up."""
    now = core.clock()
    lines: list[str] = []
    polls = await last_polls(core.store)
    for poll in polls:
        outcome = poll.detail if poll.ok else f"failed: {poll.detail} (trying again next poll)"
        late = " — late: is `paperbot run` still running?" if now - poll.at > STALE else ""
        lines.append(f"{NAMES[poll.source]}: last poll {ago(poll.at, now)}, {outcome}{late}")
    if not polls:
        lines.append("Sources: not polled yet (`paperbot run` polls them)")
    count = await core.store.count_papers()
    recent = await core.search.search(None, since=now - timedelta(days=1), limit=None)
    newest = await core.search.search(None, sort="date", limit=1)
    paper = await core.store.get_paper(newest[0].paper_id) if newest else None
    latest = f"; the newest from {paper.published:%Y-%m-%d}" if paper and paper.published else ""
    lines.append(f"Papers: {count:,} stored, {len(recent):,} published in the last day{latest}")
    subs = await core.store.list_subscriptions(command.tenant)
    channel = [s for s in subs if not s.destination.is_user]
    paused = sum(s.paused for s in channel)
    follows = len(subs) - len(channel)
    lines.append(
        f"This workspace: {len(channel)} channel "
        f"{'subscription' if len(channel) == 1 else 'subscriptions'}"
        f"{f' ({paused} paused)' if paused else ''}, {follows} personal "
        f"{'follow' if follows == 1 else 'follows'}"
    )
    waiting = await core.store.pending(command.destination)
    if waiting:
        due = min(e.due_at for e in waiting)
        when = "now" if due <= now else f"{due:%Y-%m-%d %H:%M} UTC"
        noun = "post" if len(waiting) == 1 else "posts"
        lines.append(f"This channel: {len(waiting)} {noun} waiting, the next due {when}")
    return Reply(text="paperbot is running.", lines=tuple(lines))


HANDLERS: dict[str, Handler] = {"status": status}
