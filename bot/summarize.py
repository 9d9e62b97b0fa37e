"""TL;DR of a paper for its card: HF's ai_summary, else one well-chosen sentence.

The extractive choice needs no model: it scores the abstract's sentences by
contribution cues ("we propose", "we introduce", "we show", ...), by overlap with the
terms that matched the reader's query, and a little by position, and keeps the best
one, cut at a word boundary to at most `MAX_TLDR` characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.models import Paper

MAX_TLDR = 300

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")
_CUES = (
    (re.compile(r"\bwe (propose|introduce|present)\b", re.I), 3.0),
    (re.compile(r"\b(this|our) (paper|work)\b", re.I), 1.5),
    (re.compile(r"\bwe (show|demonstrate|find|prove)\b", re.I), 2.0),
    (re.compile(r"\b(outperform|state-of-the-art|improv\w*)\b", re.I), 1.0),
    (re.compile(r"\b(novel|new) (method|approach|framework|model|benchmark|dataset)\b", re.I), 1.5),
)
_WORD = re.compile(r"\w+")


def sentences(text: str) -> list[str]:
    """The sentences of an abstract, whitespace-normalised."""
    text = " ".join(text.split())
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def shorten(text: str, limit: int = MAX_TLDR) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def extractive_tldr(paper: Paper, matched: Iterable[str] = ()) -> str:
    """The best sentence of the abstract for this reader (no model involved); "" without one."""
    candidates = sentences(paper.abstract)
    if not candidates:
        return ""  # no abstract: the title says it all
    wanted = {w.lower() for term in matched for w in _WORD.findall(term)}
    best, best_score = candidates[0], float("-inf")
    for index, sentence in enumerate(candidates):
        score = sum(weight for cue, weight in _CUES if cue.search(sentence))
        words = {w.lower() for w in _WORD.findall(sentence)}
        score += 0.75 * len(wanted & words)
        score -= 0.2 * index
        if len(sentence) < 40:
            score -= 1.0
        if score > best_score:
            best, best_score = sentence, score
    return shorten(best)


def tldr(paper: Paper, matched: Iterable[str] = ()) -> str:
    """The card's TL;DR: Hugging Face's ai_summary when present, else extractive."""
    if paper.ai_summary and paper.ai_summary.strip():
        return shorten(paper.ai_summary)
    return extractive_tldr(paper, matched)
