"""Copy one store into another, empty one (`paperbot migrate`: SQLite -> Redis, say).

What moves: papers in ingest order, subscriptions and follows exactly as they are
(ids, schedules, pause state, last post), the delivery ledger, posts still waiting
in the outbox, the sources' and the router's cursors, the sources' last polls and
feedback votes. So the new store posts nothing twice and loses nothing waiting.
Cached LLM summaries and the daily LLM budget stay behind (summaries are made again
when needed). Papers keep their ingest numbers (both backends number papers 1, 2, 3,
... in ingest order, without gaps), so the router's cursor and the search index stay
valid as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.poll_status import POLLED, status_key
from bot.routing import CURSOR as ROUTER
from bot.store import Store, StoreError

BATCH = 1000


class NotEmpty(Exception):
    """The target store already holds data: migrating would mix two stores."""


@dataclass
class MigrateReport:
    """What was copied."""

    papers: int = 0
    subscriptions: int = 0
    ledger: int = 0
    outbox: int = 0
    votes: int = 0

    def line(self) -> str:
        """The summary line `paperbot migrate` prints last."""
        return (
            f"papers={self.papers} subscriptions={self.subscriptions} ledger={self.ledger} "
            f"outbox={self.outbox} votes={self.votes}"
        )


async def check_empty(target: Store) -> None:
    """Raise NotEmpty unless `target` has no papers, subscriptions, claims or votes."""
    held: list[str] = []
    if await target.count_papers():
        held.append("papers")
    async for _ in target.iter_subscriptions():
        held.append("subscriptions")
        break
    async for _ in target.ledger():
        held.append("a delivery ledger")
        break
    async for _ in target.votes():
        held.append("feedback votes")
        break
    if held:
        raise NotEmpty(f"the target store is not empty: it holds {', '.join(held)}")


async def migrate(source: Store, target: Store) -> MigrateReport:
    """Copy everything `source` holds into the empty `target` (NotEmpty otherwise).

    Nothing in `source` changes. Stop the bot while this runs: what it stores or
    posts meanwhile might not be copied.
    """
    await check_empty(target)
    report = MigrateReport()
    seq = 0
    while papers := await source.papers_after(seq, BATCH):
        await target.put_papers(papers)
        copied = await target.papers_after(seq, len(papers))
        if [p.seq for p in copied] != [p.seq for p in papers]:
            raise StoreError("the target store numbered the papers differently; not migrated")
        seq = papers[-1].seq or 0
        report.papers += len(papers)
    async for sub in source.iter_subscriptions():
        await target.restore_subscription(sub)
        report.subscriptions += 1
    async for destination, paper_ids in source.ledger():
        for i in range(0, len(paper_ids), BATCH):
            report.ledger += len(await target.claim(destination, paper_ids[i : i + BATCH]))
    waiting = await source.pending()
    await target.enqueue(waiting)
    report.outbox = len(waiting)
    async for tenant, paper_id, who, value in source.votes():
        await target.record_feedback(tenant, paper_id, who, value)
        report.votes += 1
    for name in (*POLLED, ROUTER):
        if (cursor := await source.get_cursor(name)) is not None:
            await target.set_cursor(name, cursor)
    for name in POLLED:
        if (poll := await source.get_value(status_key(name))) is not None:
            await target.set_value(status_key(name), poll)
    return report
