"""Pruning the delivery ledger, which would otherwise grow by every paper posted to
every channel, forever.

A claim (destination, paper) keeps a paper from being queued for a destination twice.
The router queues only papers published at most `routing.MAX_AGE` (7 days) before it
routes them, and a stored paper's date only ever moves earlier (`Paper.merged`), so
the claim of a paper published more than `KEEP` (30 days) ago can never matter again
and is dropped. Papers without a date, and ids the store does not know, keep their
claims. `paperbot run` prunes once a day (`prune_daily`, from any process: the time
of the last pruning is kept in the store).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.store import Store

log = logging.getLogger(__name__)

KEEP = timedelta(days=30)
EVERY = timedelta(days=1)
LAST_PRUNED = "ledger:pruned_at"
BATCH = 1000


async def prune_ledger(store: Store, now: datetime, keep: timedelta = KEEP) -> int:
    """Forget the claims of papers published before `now - keep`; how many were dropped."""
    horizon = now - keep
    dropped = 0
    async for destination, paper_ids in store.ledger():
        for i in range(0, len(paper_ids), BATCH):
            papers = await store.get_papers(paper_ids[i : i + BATCH])
            old = [
                p.id for p in papers.values() if p.published is not None and p.published < horizon
            ]
            if old:
                dropped += await store.unclaim(destination, old)
    return dropped


async def prune_daily(store: Store, now: datetime) -> int | None:
    """`prune_ledger` if the last pruning (by any process) is a day old; None if not due."""
    last = await store.get_value(LAST_PRUNED)
    if last is not None and now - datetime.fromisoformat(last) < EVERY:
        return None
    await store.set_value(LAST_PRUNED, now.isoformat())
    dropped = await prune_ledger(store, now)
    # quiet when there was nothing to prune: the console shows INFO lines in the chat
    level = logging.INFO if dropped else logging.DEBUG
    log.log(
        level, "pruned %d delivery ledger claims of papers older than %d days", dropped, KEEP.days
    )
    return dropped
