"""`paperbot search` and `paperbot reindex`: the paper index from a shell."""

from __future__ import annotations

import click

from bot.cli.context import UsageFailure, cli_context, echo_json, run_async
from bot.commands.args import ArgError, parse_when
from bot.models import utcnow
from bot.query import QueryError, parse
from bot.search import SORTS, PaperIndex


@click.command()
@click.argument("query")
@click.option("--since", default=None, help="7d, 12h, 2w or a date (2026-01-01).")
@click.option("--until", default=None, help="7d, 12h, 2w or a date.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@run_async
async def search(
    query: str, since: str | None, until: str | None, sort: str, limit: int, as_json: bool
) -> None:
    """Search the paper index: ranked results with id, title, score, date and url."""
    ctx = cli_context()
    settings = ctx.settings()
    now = utcnow()
    try:
        parsed = parse(query)
        since_at = parse_when(since, now, "--since") if since else None
        until_at = parse_when(until, now, "--until") if until else None
    except (QueryError, ArgError) as exc:
        raise UsageFailure(str(exc)) from None
    async with ctx.store() as store:
        index = await PaperIndex.open(settings.index_dir)
        try:
            await index.catch_up(store)
            hits = await index.search(
                parsed, since=since_at, until=until_at, sort=sort, limit=limit
            )
        finally:
            await index.close()
        papers = await store.get_papers([h.paper_id for h in hits])
    for hit in hits:
        paper = papers.get(hit.paper_id)
        if paper is None:
            continue
        date = paper.published.date().isoformat() if paper.published else None
        if as_json:
            echo_json(
                {
                    "id": paper.id,
                    "title": paper.title,
                    "score": round(hit.score, 4),
                    "date": date,
                    "url": paper.url,
                }
            )
        else:
            click.echo(f"{hit.score:7.2f}  {paper.id}  {date or '----------'}  {paper.title}")
            click.echo(f"         {paper.url}")
    if not hits and not as_json:
        click.echo("no papers match", err=True)


@click.command()
@run_async
async def reindex() -> None:
    """Rebuild the search index from the store (with a progress bar)."""
    from rich.progress import Progress

    ctx = cli_context()
    settings = ctx.settings()
    async with ctx.store() as store:
        total = await store.count_papers()
        index = await PaperIndex.open(settings.index_dir)
        try:
            with Progress(
                transient=True, disable=not click.get_text_stream("stderr").isatty()
            ) as bar:
                task = bar.add_task("indexing", total=total)
                done = await index.rebuild(store, progress=lambda n: bar.advance(task, n))
        finally:
            await index.close()
    click.echo(f"indexed={done}")


COMMANDS = [search, reindex]
