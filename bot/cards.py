"""Paper -> Card: the facts a post shows, in plain text, for every adapter alike."""

from __future__ import annotations

from collections.abc import Iterable

from bot.messages import Card
from bot.models import Paper
from bot.summarize import tldr

MAX_AUTHORS = 3


def author_line(authors: tuple[str, ...], limit: int = MAX_AUTHORS) -> str:
    """First authors and "et al." (`A, B, C et al.`)."""
    if len(authors) <= limit:
        return ", ".join(authors)
    return ", ".join(authors[:limit]) + " et al."


def card_for(
    paper: Paper,
    matched: Iterable[str] = (),
    subscription_ids: Iterable[str] = (),
    summary: str | None = None,
) -> Card:
    """The card of `paper`, with the terms that matched and the subscriptions behind it."""
    matched = tuple(dict.fromkeys(matched))
    hf_url = (
        f"https://huggingface.co/papers/{paper.arxiv_id}"
        if paper.arxiv_id and "huggingface" in paper.sources
        else None
    )
    return Card(
        paper_id=paper.id,
        title=" ".join(paper.title.split()),
        url=paper.url,
        authors=author_line(paper.authors),
        date=paper.published.date().isoformat() if paper.published else None,
        categories=paper.categories,
        upvotes=paper.upvotes,
        hf_url=hf_url,
        github=paper.github_repo,
        tldr=summary if summary is not None else tldr(paper, matched),
        matched=matched,
        subscription_ids=tuple(dict.fromkeys(subscription_ids)),
    )
