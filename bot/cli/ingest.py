"""`paperbot ingest`: fetch papers now (a day, a backfill, or a file) into the store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from rich.progress import Progress

from bot.cli.context import UsageFailure, cli_context, run_async
from bot.models import Paper
from bot.pipeline import IngestReport, OnPapers, Sources, store_batch
from bot.search import PaperIndex
from bot.sources.base import Batch
from bot.sources.files import load_papers
from bot.sources.http import SourceError
from bot.store import Store

MAX_BACKFILL_DAYS = 366


def _day(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageFailure(f"{what} takes a date like 2026-01-31, not {value!r}") from None


@click.command()
@click.option(
    "--source", type=click.Choice(["huggingface", "arxiv"]), default=None, help="Fetch from here."
)
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSONL of paper records or a Hugging Face daily_papers JSON array.",
)
@click.option("--date", "day", default=None, help="One day (huggingface).")
@click.option("--since", default=None, help="First day of a backfill.")
@click.option("--until", default=None, help="Last day of a backfill (default: today).")
@run_async
async def ingest(
    source: str | None, file: Path | None, day: str | None, since: str | None, until: str | None
) -> None:
    """Fetch, merge and store papers; the search index follows at once.

    The last line is a summary: fetched=N new=M updated=K skipped=S. Papers are posted
    to subscriptions by the next `paperbot run` cycle (backfilled papers published
    more than 7 days ago are searchable but not posted).
    """
    if (source is None) == (file is None):
        raise UsageFailure("give exactly one of --source or --file")
    on_day, first, last = _day(day, "--date"), _day(since, "--since"), _day(until, "--until")
    if on_day and (first or last):
        raise UsageFailure("--date excludes --since/--until")
    if source == "arxiv" and (on_day or last):
        raise UsageFailure("arxiv takes --since only (the feed is today's announcement)")
    ctx = cli_context()
    settings = ctx.settings()
    report = IngestReport()
    async with ctx.store() as store:
        index = await PaperIndex.open(settings.index_dir)

        async def reindex(new: Sequence[Paper], updated: Sequence[Paper]) -> None:
            await index.add(updated)  # new papers come with the catch-up below

        try:
            if file is not None:
                try:
                    batch = load_papers(file)
                except SourceError as exc:
                    raise UsageFailure(str(exc)) from None
                report.add(await store_batch(store, batch, reindex))
            else:
                sources = Sources(settings)
                try:
                    report = await _fetch(
                        sources, source or "", on_day, first, last, store, reindex
                    )
                finally:
                    await sources.aclose()
            await index.catch_up(store)
        finally:
            await index.close()
    click.echo(report.line())


async def _fetch(
    sources: Sources,
    source: str,
    on_day: date | None,
    first: date | None,
    last: date | None,
    store: Store,
    reindex: OnPapers,
) -> IngestReport:
    report = IngestReport()
    try:
        if source == "arxiv":
            batch = await (sources.arxiv.backfill(first) if first else _arxiv_today(sources))
            report.add(await store_batch(store, batch, reindex))
            return report
        today = datetime.now(UTC).date()
        days = [on_day or today] if not first else []
        if first:
            end = last or today
            if first > end:
                raise UsageFailure("--since is after --until")
            if (end - first).days > MAX_BACKFILL_DAYS:
                raise UsageFailure(f"a backfill covers at most {MAX_BACKFILL_DAYS} days")
            days = [first + timedelta(days=i) for i in range((end - first).days + 1)]
        show = len(days) > 1 and click.get_text_stream("stderr").isatty()
        with Progress(transient=True, disable=not show) as bar:
            task = bar.add_task("fetching days", total=len(days))
            for one in days:
                report.add(
                    await store_batch(store, await sources.huggingface.fetch_day(one), reindex)
                )
                bar.advance(task)
    except SourceError as exc:
        raise click.ClickException(f"{source}: {exc}") from None
    return report


async def _arxiv_today(sources: Sources) -> Batch:
    batch, _ = await sources.arxiv.poll(None)
    return batch


COMMANDS = [ingest]
