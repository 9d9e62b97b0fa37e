"""What the buttons under a card do: feedback, similar, follow-authors.

Adapters turn a click into one of these command texts, so buttons follow the same
path (permissions, rate limits, tenant scoping) as typed commands.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

from bot.cards import card_for
from bot.commands.args import ArgError, Args
from bot.commands.subs import follow
from bot.messages import Command, Reply, error
from bot.models import Paper
from bot.query import parse

if TYPE_CHECKING:
    from bot.commands.core import Core, Handler

VOTES = {"up": 1, "down": -1, "clear": 0}
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{3,}")
_STOP = frozenset(
    "with from that this their using based towards toward into over under via for and the "
    "are our can more than when which what these those such large models model learning "
    "method methods approach paper study analysis data".split()
)
SIMILAR_TERMS = 6


async def _paper(core: Core, args: Args, usage: str) -> Paper | Reply:
    words = args.rest.split()
    if not words:
        return error(f"usage: /papers {args.name} {usage}")
    found = await core.store.get_paper(words[0])
    if found is None:
        return error(f"{words[0]} is not in the bot's index.")
    return found


async def feedback(core: Core, command: Command, args: Args) -> Reply:
    """Record a 👍 or 👎 of the actor for a paper."""
    words = args.rest.split()
    if len(words) != 2 or words[1] not in VOTES:
        raise ArgError("usage: /papers feedback PAPER_ID up|down|clear")
    paper = await _paper(core, args, "PAPER_ID up|down|clear")
    if isinstance(paper, Reply):
        return paper
    await core.store.record_feedback(command.tenant, paper.id, command.actor.user, VOTES[words[1]])
    up, down = await core.store.feedback(command.tenant, paper.id)
    return Reply(text=f"Thanks, noted. {paper.title}: 👍 {up} · 👎 {down}")


def key_terms(paper: Paper, limit: int = SIMILAR_TERMS) -> list[str]:
    """A few distinctive words of a paper (HF keywords first, then title words)."""
    terms = [k for k in paper.ai_keywords if _WORD.fullmatch(k.replace(" ", ""))]
    counts = Counter(
        w.lower() for w in _WORD.findall(f"{paper.title} {paper.title} {paper.abstract}")
    )
    title_words = [w.lower() for w in _WORD.findall(paper.title)]
    ranked = sorted(
        (w for w in counts if w not in _STOP),
        key=lambda w: (w not in title_words, -counts[w]),
    )
    for word in ranked:
        if len(terms) >= limit:
            break
        if word not in terms:
            terms.append(word)
    return terms[:limit]


async def similar(core: Core, command: Command, args: Args) -> Reply:
    """Papers sharing the key terms of a paper."""
    paper = await _paper(core, args, "PAPER_ID")
    if isinstance(paper, Reply):
        return paper
    terms = key_terms(paper)
    if not terms:
        return error("That paper has too little text to find similar ones.")
    query = parse(" OR ".join(f'"{t}"' if " " in t else t for t in terms))
    hits = await core.search.search(query, limit=6)
    ids = [h.paper_id for h in hits if h.paper_id != paper.id][:5]
    papers = await core.store.get_papers(ids)
    cards = tuple(card_for(papers[i], terms) for i in ids if i in papers)
    if not cards:
        return Reply(text=f"No similar papers in the index for {paper.title}.")
    return Reply(text=f"Similar to {paper.title} ({', '.join(terms)}):", cards=cards)


async def follow_authors(core: Core, command: Command, args: Args) -> Reply:
    """Follow the first authors of a paper by DM."""
    paper = await _paper(core, args, "PAPER_ID")
    if isinstance(paper, Reply):
        return paper
    names = [a.replace('"', "").strip() for a in paper.authors[:3] if a.strip()]
    if not names:
        return error("That paper lists no authors.")
    text = " OR ".join(f'author:"{name}"' for name in names)
    return await follow(core, command, Args(name="follow", rest=text))


HANDLERS: dict[str, Handler] = {
    "feedback": feedback,
    "similar": similar,
    "follow-authors": follow_authors,
}
