"""`paperbot match QUERY --file PAPERS`: which papers of a file a query matches.

It uses the percolator's own evaluation (bot/query_eval.py), so it answers exactly
what a subscription to QUERY would post for those papers.
"""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.context import UsageFailure, echo_json
from bot.query import Query, QueryError, parse
from bot.query_eval import Doc, compile_query, matched_terms
from bot.sources.files import load_papers
from bot.sources.http import SourceError


def query_error_message(text: str, error: QueryError) -> str:
    """The error with the query underneath and a caret under the column."""
    line = text.replace("\n", " ").replace("\t", " ")
    return f"{error}\n  {line}\n  {' ' * (error.column - 1)}^"


def parse_or_fail(text: str) -> Query:
    """Parse a query typed on the command line; a bad one is a UsageFailure (exit 2)."""
    try:
        return parse(text)
    except QueryError as exc:
        raise UsageFailure(query_error_message(text, exc)) from None


@click.command()
@click.argument("query")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL of paper records, a Hugging Face daily_papers JSON array, or an arXiv "
    "Atom/RSS feed.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line: id, title, terms.")
def match(query: str, path: Path, as_json: bool) -> None:
    """Print the ids of the papers in a file that QUERY matches, one per line."""
    parsed = parse_or_fail(query)
    try:
        batch = load_papers(path)
    except SourceError as exc:
        raise UsageFailure(str(exc)) from None
    predicate = compile_query(parsed)  # (skipped records were logged by load_papers)
    found = 0
    papers = [*batch.papers, *batch.revisions]
    for paper in papers:
        doc = Doc(paper)
        if not predicate(doc):
            continue
        found += 1
        if as_json:
            terms = list(matched_terms(parsed, doc))
            echo_json({"id": paper.id, "title": paper.title, "terms": terms})
        else:
            click.echo(paper.id)
    if not as_json:
        click.echo(f"{found} of {len(papers)} papers match", err=True)


COMMANDS = [match]
