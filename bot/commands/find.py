"""Finding papers: search, paper, trending, preview."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.cards import card_for
from bot.commands.args import ArgError, Args
from bot.messages import Card, Command, Reply, error, plural
from bot.models import SearchHit
from bot.query import Query, parse

if TYPE_CHECKING:
    from bot.commands.core import Core, Handler

SORTS = ("relevance", "date", "upvotes")


def _query(args: Args, example: str) -> Query:
    if not args.rest.strip():
        raise ArgError(f"Say what to look for, e.g. /papers {args.name} {example}")
    return parse(args.rest)


async def _cards(core: Core, hits: Sequence[SearchHit], query: Query | None) -> tuple[Card, ...]:
    papers = await core.store.get_papers([h.paper_id for h in hits])
    terms = query.highlight_terms() if query is not None else ()
    return tuple(card_for(papers[h.paper_id], terms) for h in hits if h.paper_id in papers)


async def search(core: Core, command: Command, args: Args) -> Reply:
    """Ranked search of the bot's paper index."""
    query = _query(args, '"diffusion policy" --since 7d')
    sort = args.options.get("sort", "relevance").lower()
    if sort not in SORTS:
        raise ArgError(f"--sort takes {', '.join(SORTS)}, not {sort!r}")
    limit = args.int_option("limit", 5, 1, core.max_results)
    now = core.clock()
    hits = await core.search.search(
        query,
        since=args.time_option("since", now),
        until=args.time_option("until", now),
        sort=sort,
        limit=limit,
    )
    cards = await _cards(core, hits, query)
    if not cards:
        return Reply(text=f"No papers match {args.rest}.", ephemeral="share" not in args.flags)
    return Reply(
        text=f"{plural(len(cards), 'paper')} for {args.rest} (by {sort}):",
        cards=cards,
        ephemeral="share" not in args.flags,
    )


def _span(days: int) -> str:
    return "the last day" if days == 1 else f"the last {days} days"


async def preview(core: Core, command: Command, args: Args) -> Reply:
    """What a subscription to QUERY would have posted in the last days."""
    query = _query(args, '"domain generalization" -survey')
    days = args.int_option("days", 7, 1, 90)
    now = core.clock()
    hits = await core.search.search(query, since=now - timedelta(days=days), limit=None)
    if not hits:
        return Reply(
            text=f"A subscription to {args.rest} would have posted nothing in {_span(days)}. "
            "Try fewer or broader words, or OR."
        )
    per_day = len(hits) / days
    top = await _cards(core, hits[:5], query)
    return Reply(
        text=f"A subscription to {args.rest} would have posted {plural(len(hits), 'paper')} "
        f"in {_span(days)} "
        f"(about {per_day:.1f} a day). The top {len(top)}:",
        cards=top,
        ephemeral="share" not in args.flags,
    )


async def trending(core: Core, command: Command, args: Args) -> Reply:
    """The most upvoted papers of the last days."""
    days = args.int_option("days", 1, 1, 30)
    limit = args.int_option("limit", 5, 1, core.max_results)
    since = core.clock() - timedelta(days=days)
    hits = await core.search.search(None, since=since, sort="upvotes", limit=limit)
    cards = await _cards(core, hits, None)
    if not cards:
        return Reply(text=f"No papers from {_span(days)} in the index yet.")
    span = "today" if days == 1 else _span(days)
    return Reply(text=f"Trending {span}:", cards=cards, ephemeral="share" not in args.flags)


async def paper(core: Core, command: Command, args: Args) -> Reply:
    """One paper by id or URL."""
    from bot.ids import parse_paper_ref

    ref = args.rest.strip()
    if not ref:
        return error("Which paper? e.g. /papers paper 2401.12345 or an arxiv.org URL")
    try:
        paper_id, _version = parse_paper_ref(ref)
    except ValueError as exc:
        return error(str(exc))
    found = await core.store.get_paper(paper_id)
    if found is None:
        return error(f"{paper_id} is not in the bot's index (yet).")
    return Reply(text="", cards=(card_for(found),), ephemeral="share" not in args.flags)


HANDLERS: dict[str, Handler] = {
    "search": search,
    "preview": preview,
    "trending": trending,
    "paper": paper,
}
