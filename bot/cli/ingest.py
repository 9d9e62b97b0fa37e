"""`paperbot ingest`: fetch papers now (a day, a backfill, or a file) into the store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress

from bot.cli.context import UsageFailure, cli_context, run_async
from bot.models import Paper
from bot.pipeline import IngestReport, OnPapers, Sources, store_batch
from bot.search import PaperIndex
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


def _progress() -> Progress:
    """A progress bar on stderr, shown only when stderr is a terminal."""
    stderr = click.get_text_stream("stderr")
    return Progress(console=Console(file=stderr), transient=True, disable=not stderr.isatty())


def _days(on_day: date | None, first: date | None, last: date | None) -> list[date]:
    """The days to fetch, oldest first."""
    today = datetime.now(UTC).date()
    if first is None:
        return [on_day or today]
    end = last or today
    if first > end:
        raise UsageFailure("--since is after --until")
    if (end - first).days >= MAX_BACKFILL_DAYS:
        raise UsageFailure(f"a backfill covers at most {MAX_BACKFILL_DAYS} days")
    return [first + timedelta(days=i) for i in range((end - first).days + 1)]


@click.command()
@click.option(
    "--source", type=click.Choice(["huggingface", "arxiv"]), default=None, help="Fetch from here."
)
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSONL of paper records, a Hugging Face daily_papers JSON array, or an arXiv "
    "Atom/RSS feed.",
)
@click.option("--date", "day", default=None, help="One day, YYYY-MM-DD (huggingface).")
@click.option("--since", default=None, help="First day of a backfill, YYYY-MM-DD.")
@click.option("--until", default=None, help="Last day of a backfill (huggingface; default today).")
@run_async
async def ingest(
    source: str | None, file: Path | None, day: str | None, since: str | None, until: str | None
) -> None:
    """Fetch, merge and store papers; the search index follows at once.

    Hugging Face: today, one --date, or every day from --since to --until, oldest
    first. arXiv: today's announcement, or the export API back to --since. The last
    line is a summary: fetched=N new=M updated=K skipped=S. Papers are posted to
    subscriptions by the next `paperbot run` cycle (backfilled papers published more
    than 7 days ago are searchable but not posted).
    """
    if (source is None) == (file is None):
        raise UsageFailure("give exactly one of --source or --file")
    on_day, first, last = _day(day, "--date"), _day(since, "--since"), _day(until, "--until")
    if file is not None and (on_day or first or last):
        raise UsageFailure("--file takes no --date, --since or --until")
    if on_day and (first or last):
        raise UsageFailure("--date excludes --since/--until")
    if last and not first:
        raise UsageFailure("--until needs --since")
    if source == "arxiv" and (on_day or last):
        raise UsageFailure("arxiv takes --since only (the feed is today's announcement)")
    days = _days(on_day, first, last) if source == "huggingface" else []
    batch = None
    if file is not None:
        try:
            batch = load_papers(file)
        except SourceError as exc:
            raise UsageFailure(str(exc)) from None
    ctx = cli_context()
    settings = ctx.settings()
    report = IngestReport()
    async with ctx.store() as store:
        index = await PaperIndex.open(settings.index_dir)

        async def reindex(new: Sequence[Paper], updated: Sequence[Paper]) -> None:
            """Re-index changed papers at once; new ones come with the catch-up."""
            await index.add(updated)

        try:
            if batch is not None:
                report = await store_batch(store, batch, reindex)
            else:
                sources = Sources(settings)
                try:
                    report = await _fetch(sources, source or "", days, first, store, reindex)
                except SourceError as exc:
                    raise click.ClickException(f"{source}: {exc}") from None
                finally:
                    await sources.aclose()
            await index.catch_up(store)
        finally:
            await index.close()
    click.echo(report.line())


async def _fetch(
    sources: Sources,
    source: str,
    days: list[date],
    since: date | None,
    store: Store,
    reindex: OnPapers,
) -> IngestReport:
    report = IngestReport()
    with _progress() as bar:
        if source == "arxiv":
            if since is None:
                batch, _ = await sources.arxiv.poll(None)
            else:
                task = bar.add_task(f"arXiv since {since}", total=None)
                batch = await sources.arxiv.backfill(
                    since, on_page=lambda n: bar.update(task, completed=n)
                )
            report.add(await store_batch(store, batch, reindex))
            return report
        task = bar.add_task("Hugging Face days", total=len(days), visible=len(days) > 1)
        for one in days:
            report.add(await store_batch(store, await sources.huggingface.fetch_day(one), reindex))
            bar.advance(task)
    return report


COMMANDS = [ingest]
