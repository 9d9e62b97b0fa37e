"""THE analyzer: one tokenizer for papers, queries, search and matching.

Text becomes a list of `Token(term, position, parts)`:

1. Simple LaTeX is reduced to its words: `$`, `{`, `}` vanish, formatting commands
   (`\\textbf`, `\\mathcal`, ...) are dropped, accent commands keep their letter
   (`\\"o` -> `o`) and other commands become their name (`$\\alpha$` -> `alpha`).
2. NFKC, casefold, accent folding (`é` -> `e`, `ø` -> `o`, `ß` -> `ss`), typographic
   hyphens and apostrophes made plain, Greek letters spelled out (`α` -> `alpha`).
3. Apostrophes vanish (`model's` -> `models`, `Finn’s` -> `finns`). Words are runs
   of letters and digits. A hyphenated word gives its parts at adjacent positions
   plus the joined word at the position of its first part, with `parts` = the number
   of parts it covers: `in-context` -> `in`@0, `incontext`@0 (parts=2), `context`@1.
4. A sentence end (`.` `!` `?` `;` not followed by a letter or digit) takes up one
   position, so no phrase matches across it.
5. Every term is plural-folded by `fold_plural` (bot/text_plurals.py: a small
   documented rule set).

`cat:` and `source:` values are not analyzed: they are compared exactly, lowercased
(`exact_value`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import NamedTuple

from bot.models import Paper
from bot.text_plurals import fold_plural

#: Positions skipped between two values of one field (two authors) in `paper_fields`.
#: Phrases need consecutive positions, so any gap keeps them within one value.
VALUE_GAP = 1024

TEXT_FIELDS = ("title", "abstract", "author")
EXACT_FIELDS = ("cat", "source")
FIELDS = (*TEXT_FIELDS, *EXACT_FIELDS)


class Token(NamedTuple):
    """One analyzed term at a position; `parts` > 1 for the joined form of a hyphenated word."""

    term: str
    position: int
    parts: int = 1


# --------------------------------------------------------------------------- normalization

_LATEX_DROP = re.compile(
    r"\\(?:textbf|textit|textrm|textsf|texttt|textsc|textnormal|text|emph|mathrm|mathbf|"
    r"mathit|mathsf|mathtt|mathcal|mathbb|mathfrak|mathscr|operatorname|boldsymbol|bm|"
    r"mbox|hbox|hat|widehat|tilde|widetilde|bar|vec|dot|ddot|underline|overline|"
    r"left|right|big|Big|bigg|Bigg)(?![A-Za-z])"
)
_LATEX_ACCENT = re.compile(r"\\(?:['\"^`~=.]\{?([A-Za-z])\}?|[uvHckr]\{([A-Za-z])\})")
_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+)")
_LATEX_NOISE = re.compile(r"[${}]")

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron "
    "pi rho sigma sigma tau upsilon phi chi psi omega"
).split()
_TRANSLATE = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŀ": "l",
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u2010": "-",
        "\u2011": "-",
        **{chr(0x3B1 + i): name for i, name in enumerate(_GREEK)},
        "ϑ": "theta",
        "ϕ": "phi",
        "ϵ": "epsilon",
        "ϱ": "rho",
        "ϖ": "pi",
    }
)


def reduce_latex(text: str) -> str:
    """Simple LaTeX reduced to its words: `$\\alpha$` -> `alpha`, `\\textbf{x}` -> `x`."""
    return _LATEX_NOISE.sub("", _latex_commands(text))


def _latex_commands(text: str) -> str:
    if "\\" in text:
        text = _LATEX_DROP.sub("", text)
        text = _LATEX_ACCENT.sub(lambda m: m[1] or m[2], text)
        text = _LATEX_COMMAND.sub(r"\1", text)
    return text


def normalize(text: str) -> str:
    """NFKC, casefold and accent folding (no LaTeX handling, no tokenizing)."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _COMBINING.sub("", unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFC", text).translate(_TRANSLATE)


def exact_value(text: str) -> str:
    """A `cat:` or `source:` value as compared: normalized and stripped (`cs.LG` -> `cs.lg`)."""
    return normalize(text.strip())


# --------------------------------------------------------------------------- tokenizing

#: A word (letters and digits, joined by inner hyphens) or a sentence end.
_ITEM = re.compile(r"[^\W_]++(?:-[^\W_]++)*+|[.!?;](?![^\W_])")
#: ASCII fast path: `$ { } '` are deleted, every other byte but letters, digits and
#: `- . ! ? ;` becomes a space, and the text splits into chunks. A chunk boundary
#: never cuts a word, a hyphenated word, or a sentence end's "not followed by a
#: letter or digit", so chunks can be analyzed (and cached) one by one.
_KEEP = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-.!?;")
_CACHE_LIMIT = 300_000
_SPACES = bytes(c if c in _KEEP else 32 for c in range(256))
_DELETE = b"${}'"

#: (term, offset in the chunk, parts covered) of a joined hyphen form
Joined = tuple[str, int, int]
#: chunk -> its terms, one per position ("" for a sentence end)
_FLAT: dict[bytes | str, tuple[str, ...]] = {}
#: chunk -> its joined hyphen forms (only chunks that have some)
_JOINED: dict[bytes | str, tuple[Joined, ...]] = {}


def _chunk(chunk: bytes | str) -> tuple[str, ...]:
    """Analyze one chunk of text into the caches; its terms, one per position."""
    flat: list[str] = []
    joined: list[Joined] = []
    for raw in _ITEM.findall(chunk.decode() if isinstance(chunk, bytes) else chunk):
        if raw in ".!?;":
            flat.append("")
        elif "-" in raw:
            pieces = raw.split("-")
            joined.append((fold_plural("".join(pieces)), len(flat), len(pieces)))
            flat.extend(fold_plural(p) for p in pieces)
        else:
            flat.append(fold_plural(raw))
    if len(_FLAT) >= _CACHE_LIMIT:
        _FLAT.clear()
        _JOINED.clear()
    if joined:
        _JOINED[chunk] = tuple(joined)
    value = _FLAT[chunk] = tuple(flat)
    return value


def prepare(text: str) -> str:
    """`text` with LaTeX commands reduced, then normalized: what gets tokenized.

    ASCII results take the fast path (here, and in the percolator's native kernel,
    bot/_percolate.c, which tokenizes them the same way).
    """
    if "\\" in text:
        text = _latex_commands(text)
    return normalize(text)


def _chunks(text: str) -> Sequence[bytes | str]:
    text = prepare(text)
    if text.isascii():
        return text.encode().translate(_SPACES, _DELETE).split()
    text = _LATEX_NOISE.sub("", text).replace("'", "")
    return _ITEM.findall(text)


def _flats(chunks: Sequence[bytes | str]) -> list[tuple[str, ...]]:
    try:
        return list(map(_FLAT.__getitem__, chunks))
    except KeyError:  # a chunk not seen yet
        return [f if (f := _FLAT.get(c)) is not None else _chunk(c) for c in chunks]


def sequence(text: str) -> tuple[list[str], list[str]]:
    """The fast form of `analyze` used for matching.

    Returns the terms by position ("" at sentence ends; joined hyphen forms left
    out) and, separately, the distinct joined hyphen forms of the text.
    """
    chunks = _chunks(text)
    seq = list(chain.from_iterable(_flats(chunks)))
    if not _JOINED.keys().isdisjoint(chunks):
        hyphenated = _JOINED.keys() & chunks  # type: ignore[operator]
        return seq, list({j[0] for chunk in hyphenated for j in _JOINED[chunk]})
    return seq, []


def analyze(text: str, start: int = 0) -> list[Token]:
    """The tokens of `text`, positions counted from `start`, in position order."""
    tokens: list[Token] = []
    pos = start
    chunks = _chunks(text)
    for chunk, flat in zip(chunks, _flats(chunks), strict=True):
        joined = _JOINED.get(chunk, ())
        for i, term in enumerate(flat):
            if term:
                tokens.append(Token(term, pos + i))
            tokens.extend(Token(j, pos + i, n) for j, offset, n in joined if offset == i)
        pos += len(flat)
    return tokens


def term_positions(text: str, into: dict[str, list[int]], start: int = 0) -> int:
    """Add the terms of `text` to `into` (term -> ascending positions); the next free position."""
    tokens = analyze(text, start)
    for token in tokens:
        into.setdefault(token.term, []).append(token.position)
    return start + sum(map(len, _flats(_chunks(text))))


def analyze_values(values: Iterable[str]) -> list[Token]:
    """Tokens of several values of one field (authors), `VALUE_GAP` positions apart."""
    tokens: list[Token] = []
    pos = 0
    for value in values:
        part = analyze(value, pos)
        if part:
            tokens.extend(part)
            pos = max(t.position for t in part) + VALUE_GAP
    return tokens


def paper_fields(paper: Paper) -> dict[str, list[Token]]:
    """The analyzed fields of a paper: title, abstract, author, cat, source.

    Authors are analyzed one by one, `VALUE_GAP` positions apart, so that
    `author:"Chelsea Finn"` matches one author's name and never spans two.
    Categories and sources are single exact lowercased tokens, one per value.
    """
    return {
        "title": analyze(paper.title),
        "abstract": analyze(paper.abstract),
        "author": analyze_values(paper.authors),
        "cat": [Token(exact_value(c), i * VALUE_GAP) for i, c in enumerate(paper.categories)],
        "source": [Token(exact_value(s), i * VALUE_GAP) for i, s in enumerate(paper.sources)],
    }


def words(text: str) -> list[str]:
    """The terms of `text` in order, one per position (joined hyphen forms left out)."""
    return [t.term for t in analyze(text) if t.parts == 1]
