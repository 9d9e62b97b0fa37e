"""The Store contract: one domain-level async protocol, two backends (SQLite, Redis).

Rules every backend follows (tests/store/test_contract.py holds them to it):
- Tenant isolation: an operation given a Tenant only ever reads or changes records
  of that tenant; an id of another tenant behaves exactly like an unknown id.
- Atomicity: `claim` and `lease` are atomic across concurrent callers and processes.
- Errors are raised, never turned into defaults: a lost connection raises
  `StoreUnavailable`; stored falsy values come back as stored.
- Times are timezone-aware datetimes (a naive one is a ValueError); backends keep
  them in UTC and return them in UTC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from bot.models import (
    Destination,
    OutboxEntry,
    Paper,
    PutResult,
    Schedule,
    Subscription,
    Tenant,
)


class StoreError(Exception):
    """Base class of store errors."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached (server down, file unreadable). Try again later."""


class DuplicateSubscription(StoreError):
    """The destination already has a subscription with exactly this query."""

    def __init__(self, existing: Subscription) -> None:
        super().__init__(
            f"{existing.destination} already has subscription {existing.id} for {existing.query!r}"
        )
        self.existing = existing


class Store(Protocol):
    """Everything paperbot persists."""

    # -- lifecycle -------------------------------------------------------------------

    async def close(self) -> None:
        """Release connections and files. The store is unusable afterwards."""

    # -- papers ----------------------------------------------------------------------

    async def put_papers(self, papers: Sequence[Paper]) -> PutResult:
        """Insert or merge papers (with `Paper.merged`), atomically per paper.

        A paper not seen before gets the next ingest sequence number (`seq`) and is
        reported in `new`; a known paper whose merged record differs is stored and
        reported in `updated` (its `seq` stays); otherwise it is `unchanged`. The
        same id twice in one batch is merged in order and reported once.
        """

    async def get_paper(self, paper_id: str) -> Paper | None:
        """The paper with this canonical id (with its `seq`), or None."""

    async def get_papers(self, paper_ids: Sequence[str]) -> dict[str, Paper]:
        """The known papers among `paper_ids`, keyed by id; unknown ids are left out."""

    async def papers_after(self, seq: int, limit: int = 1000) -> list[Paper]:
        """Up to `limit` papers with ingest sequence > `seq`, in sequence order.

        Used to catch an index up with the store: start at 0, continue from the
        last paper's `seq`. A merge never moves a paper to a later sequence.
        """

    async def count_papers(self) -> int:
        """How many papers are stored."""

    # -- subscriptions (and follows: subscriptions to a user destination) -------------

    async def add_subscription(
        self,
        destination: Destination,
        query: str,
        schedule: Schedule = Schedule(),
        created_by: str | None = None,
    ) -> Subscription:
        """Create a subscription with a new short id unique in this store.

        Raises DuplicateSubscription if the destination already has this exact query.
        """

    async def restore_subscription(self, sub: Subscription) -> None:
        """Store `sub` exactly as given: id, times, schedule, pause state (`paperbot migrate`).

        Raises DuplicateSubscription if its id, or its destination and query, are taken.
        """

    async def get_subscription(self, tenant: Tenant, sub_id: str) -> Subscription | None:
        """The subscription `sub_id` if it belongs to `tenant`, else None."""

    async def list_subscriptions(
        self, tenant: Tenant, destination: Destination | None = None
    ) -> list[Subscription]:
        """The tenant's subscriptions (only those of `destination` if given), oldest first.

        `destination` must belong to `tenant`; otherwise the result is empty.
        """

    def iter_subscriptions(self) -> AsyncIterator[Subscription]:
        """Every subscription of every tenant, in no particular order (matcher start-up)."""

    async def remove_subscription(self, tenant: Tenant, sub_id: str) -> bool:
        """Delete `sub_id` if it belongs to `tenant`; True if something was deleted."""

    async def subscriptions_version(self) -> int:
        """A count that grows with every change to any subscription, by any process.

        Every subscription added, removed, paused or resumed moves it; `mark_posted`
        does not. The router re-reads the subscriptions only when it moved.
        """

    async def set_paused(
        self,
        tenant: Tenant,
        sub_id: str,
        paused: bool,
        reason: str | None = None,
        resume_at: datetime | None = None,
    ) -> Subscription | None:
        """Pause (with a reason people can read, and for a while if `resume_at` is
        given) or resume; the updated record or None. Resuming clears both."""

    async def set_schedule(
        self, tenant: Tenant, sub_id: str, schedule: Schedule
    ) -> Subscription | None:
        """Change how often a subscription of `tenant` posts; the updated record or None."""

    async def pause_destination(self, destination: Destination, reason: str) -> int:
        """Pause every subscription of a destination (channel gone, bot removed).

        Returns how many were paused.
        """

    async def mark_posted(self, tenant: Tenant, sub_ids: Sequence[str], at: datetime) -> None:
        """Record that these subscriptions of `tenant` just had a post (`last_post_at`).

        Ids of other tenants and unknown ids are ignored.
        """

    # -- delivery ledger --------------------------------------------------------------

    async def claim(self, destination: Destination, paper_ids: Sequence[str]) -> list[str]:
        """Atomically mark (destination, paper) pairs as delivered-or-queued.

        Returns, in input order, only the ids that were not claimed before, so that
        among concurrent callers exactly one wins each pair (an id repeated in one
        call is won once). A claim stays until `unclaim` (bot/ledger.py prunes old ones).
        """

    def ledger(self) -> AsyncIterator[tuple[Destination, list[str]]]:
        """Every destination with the paper ids claimed for it (`paperbot migrate`)."""

    async def unclaim(self, destination: Destination, paper_ids: Sequence[str]) -> int:
        """Forget claims of (destination, paper) pairs (pruning old ones); how many were."""

    # -- outbox -----------------------------------------------------------------------

    async def enqueue(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """Add entries to the outbox; returns them with their store-assigned ids."""

    async def lease(
        self, now: datetime, lease_seconds: float, limit: int = 100
    ) -> list[OutboxEntry]:
        """Take up to `limit` entries due by `now` that nobody holds.

        An entry is available when `due_at <= now` and it has no lease or its lease
        expired before `now` (a crashed worker's entries come back this way). Leased
        entries get `lease_until = now + lease_seconds` and `attempts + 1`. Oldest
        due first. Atomic: concurrent callers never receive the same entry.
        """

    async def claim_and_enqueue(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        """`claim` each entry's (destination, paper) and enqueue only the winners, atomically.

        One step, so a crash can neither lose a claimed pair nor queue it twice.
        Returns the enqueued entries with their ids, in input order.
        """

    async def ack(self, entry_ids: Sequence[int]) -> None:
        """Delivery confirmed: delete these entries. Unknown ids are ignored."""

    async def retry(self, entry_id: int, due_at: datetime, error: str) -> None:
        """Delivery failed transiently: release the lease and make it due at `due_at`.

        An unknown id is ignored (the entry was acked meanwhile).
        """

    async def pending(self, destination: Destination | None = None) -> list[OutboxEntry]:
        """Entries not yet acked (of one destination if given), oldest due first."""

    async def reschedule(self, destination: Destination, due_at: datetime) -> int:
        """Make every pending entry of `destination` due at `due_at` (send digest now)."""

    # -- source cursors ---------------------------------------------------------------

    async def get_cursor(self, source: str) -> str | None:
        """The stored polling cursor of a source (e.g. last date or ETag), or None."""

    async def set_cursor(self, source: str, value: str) -> None:
        """Store a source's polling cursor."""

    # -- small values (caches, counters) ---------------------------------------------

    async def get_value(self, key: str) -> str | None:
        """A stored small value (e.g. a cached LLM summary), or None."""

    async def set_value(self, key: str, value: str) -> None:
        """Store a small value under `key`."""

    async def incr(self, key: str, by: int = 1) -> int:
        """Atomically add `by` to the counter `key` (0 when new); the new count."""

    # -- feedback ---------------------------------------------------------------------

    async def record_feedback(self, tenant: Tenant, paper_id: str, who: str, value: int) -> None:
        """Record +1 or -1 of a user or channel (`who`) for a paper; last vote wins.

        `value` 0 withdraws the vote. Raises ValueError for anything else.
        """

    def votes(self) -> AsyncIterator[tuple[Tenant, str, str, int]]:
        """Every standing vote: (tenant, paper id, who, +1 or -1) (`paperbot migrate`)."""

    async def feedback(self, tenant: Tenant, paper_id: str) -> tuple[int, int]:
        """(up, down) vote counts of a paper within a tenant."""


ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no i, l, o, 0, 1: easy to type and read


def new_short_id(length: int = 5) -> str:
    """A random short id such as `s7k2p` (callers retry on the rare collision)."""
    import secrets

    return "".join(secrets.choice(ID_ALPHABET) for _ in range(length))
