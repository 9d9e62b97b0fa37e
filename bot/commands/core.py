"""The one neutral entry point: `await core.handle(command) -> Reply`.

Every adapter (console, Slack, Discord) builds a `Command` and renders the `Reply`;
nothing here knows a platform. Errors become replies with a clear message, never
tracebacks: bad options and queries, unknown ids, missing permission, a store that
is down, and (logged) bugs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from difflib import get_close_matches
from typing import Protocol

from bot.commands.args import ArgError, Args, parse_args
from bot.commands.help import help_text
from bot.messages import Command, Reply, error
from bot.models import Destination, ScheduleError, SearchHit, Tenant, utcnow
from bot.query import Query, QueryError
from bot.store import Store, StoreError, StoreUnavailable

log = logging.getLogger(__name__)

Handler = Callable[["Core", Command, Args], Awaitable[Reply]]


class PaperSearch(Protocol):
    """What the commands need of the paper index (bot/search.py)."""

    async def search(
        self,
        query: Query | None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "relevance",
        limit: int | None = 5,
    ) -> Sequence[SearchHit]:
        """Papers matching `query` (all papers for None), best first by `sort`."""
        ...


class RateLimit:
    """A token bucket per user: `burst` commands at once, refilled at `per_minute`."""

    def __init__(self, per_minute: float = 30, burst: int = 10) -> None:
        self.rate = per_minute / 60
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when the user must slow down."""
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True


class Core:
    """Turns commands into replies, using the store and the paper index."""

    def __init__(
        self,
        store: Store,
        search: PaperSearch,
        *,
        timezone: str = "UTC",
        digest_time: str = "09:00",
        max_results: int = 50,
        clock: Callable[[], datetime] = utcnow,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.store = store
        self.search = search
        self.timezone = timezone
        self.digest_time = digest_time
        self.max_results = max_results
        self.clock = clock
        self.rate_limit = rate_limit or RateLimit()

    async def ids(self, tenant: Tenant, destination: Destination) -> list[tuple[str, str]]:
        """(id, query) of one destination's subscriptions (autocomplete of ids)."""
        found = await self.store.list_subscriptions(tenant, destination)
        return [(s.id, s.query) for s in found]

    async def handle(self, command: Command) -> Reply:
        """Answer one `/papers ...` command. Never raises."""
        who = f"{command.tenant}:{command.actor.user}"
        # The console is the operator's own terminal (and scripts piped into it).
        if command.tenant.platform != "console" and not self.rate_limit.allow(who):
            return error("You are sending commands too fast; wait a few seconds and try again.")
        try:
            args = parse_args(command.text)
            handlers = _handlers()
            handler = handlers.get(ALIASES.get(args.name, args.name))
            if handler is None:
                close = get_close_matches(args.name, handlers, n=1)
                hint = f" Did you mean /papers {close[0]}?" if close else ""
                return error(f"unknown command {args.name!r}.{hint} Try /papers help.")
            return await handler(self, command, args)
        except (ArgError, ScheduleError) as exc:
            return error(str(exc))
        except QueryError as exc:
            return error(f"bad query: {exc}")
        except StoreUnavailable:
            log.exception("store unavailable while handling %r", command.text)
            return error("The bot's database is not reachable right now; try again in a minute.")
        except StoreError as exc:
            return error(str(exc))
        except Exception:
            log.exception("command %r failed", command.text)
            return error("Something went wrong on our side; it has been logged.")


async def _help(core: Core, command: Command, args: Args) -> Reply:
    text = help_text(args.rest)
    if text is None:
        return error(f"no help on {args.rest!r}. Try /papers help.")
    return Reply(text=text)


#: Other words people type for a command.
ALIASES = {"list": "subscriptions", "ls": "subscriptions", "unsub": "unsubscribe"}


def _handlers() -> dict[str, Handler]:
    from bot.commands import buttons, find, manage, status, subs

    return {
        "help": _help,
        **find.HANDLERS,
        **subs.HANDLERS,
        **manage.HANDLERS,
        **buttons.HANDLERS,
        **status.HANDLERS,
    }
