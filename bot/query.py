"""The query language -> AST. One language for subscribe, follow, search and match.

    query   := or
    or      := and (("OR" | "|") and)*
    and     := unary ("AND"? unary)*          space means AND
    unary   := ("-" | "NOT")* primary         NOT binds tightest
    primary := [field ":"] ("(" or ")" | "\"phrase\"" | word | prefix*)

Words go through the analyzer (bot/text.py), so the leaves hold exactly the terms
the paper index holds (`Transformers` -> `transformer`), and the AST prints
canonically: `str(parse(q))` parses back to the same AST. A word the analyzer
splits becomes a phrase (`3.5` -> `"3 5"`); a hyphenated word becomes
`("in context" OR incontext)`, because the analyzer also indexes the joined form.
Fields are pushed down to the leaves; `field=None` means title or abstract.
`cat:` and `source:` values are exact lowercased values. Double negation cancels.

Malformed input raises QueryError (message, 1-based column), and nothing else.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.models import SOURCES
from bot.text import exact_value, normalize, words

MAX_LENGTH = 512
MAX_TERMS = 64
MAX_DEPTH = 8
MIN_PREFIX = 3
#: Field names people may type -> the canonical field (aliases as on arXiv).
FIELD_NAMES = {
    "title": "title",
    "ti": "title",
    "abstract": "abstract",
    "abs": "abstract",
    "author": "author",
    "au": "author",
    "cat": "cat",
    "source": "source",
}


class QueryError(ValueError):
    """A malformed query: `message` for people, `column` counted from 1.

    `str(error)` is `"<message> at column <column>"`.
    """

    def __init__(self, message: str, column: int) -> None:
        """Keep the message and the 1-based column apart for callers that show them."""
        super().__init__(f"{message} at column {column}")
        self.message = message
        self.column = column


class Query:
    """Base class of the AST nodes (frozen dataclasses below)."""

    __slots__ = ()

    def leaves(self) -> Iterator[Leaf]:
        """Every leaf, left to right, negated ones included."""
        if isinstance(self, And | Or):
            for child in self.children:
                yield from child.leaves()
        elif isinstance(self, Not):
            yield from self.child.leaves()
        elif isinstance(self, Term | Phrase | Prefix):
            yield self

    def positive_leaves(self) -> Iterator[Leaf]:
        """The leaves not under a NOT: those whose match explains a hit."""
        if isinstance(self, And | Or):
            for child in self.children:
                yield from child.positive_leaves()
        elif isinstance(self, Term | Phrase | Prefix):
            yield self

    def highlight_terms(self) -> tuple[str, ...]:
        """Words to highlight on a card: terms and phrases of positive leaves, prefix stems."""
        return tuple(dict.fromkeys(leaf.display for leaf in self.positive_leaves()))

    def depth(self) -> int:
        """Nesting of AND/OR/NOT nodes: 0 for a leaf, 1 for `a b`, 2 for `a -b`."""
        if isinstance(self, And | Or):
            return 1 + max(child.depth() for child in self.children)
        if isinstance(self, Not):
            return 1 + self.child.depth()
        return 0


@dataclass(frozen=True, slots=True)
class Term(Query):
    """One analyzed term in a field (None: title or abstract; cat/source: exact value)."""

    term: str
    field: str | None = None

    def __str__(self) -> str:
        """The canonical query text: it parses back to this same node."""
        return _fielded(self.field, self.term)

    @property
    def display(self) -> str:
        """The term as shown to people."""
        return self.term


@dataclass(frozen=True, slots=True)
class Phrase(Query):
    """Analyzed terms at consecutive positions of one field value (2 or more)."""

    terms: tuple[str, ...]
    field: str | None = None

    def __str__(self) -> str:
        """The canonical query text: it parses back to this same node."""
        return _fielded(self.field, '"' + " ".join(self.terms) + '"')

    @property
    def display(self) -> str:
        """The phrase as shown to people."""
        return " ".join(self.terms)


@dataclass(frozen=True, slots=True)
class Prefix(Query):
    """Any term (or cat value) starting with `prefix` (normalized, 3+ characters)."""

    prefix: str
    field: str | None = None

    def __str__(self) -> str:
        """The canonical query text: it parses back to this same node."""
        return _fielded(self.field, self.prefix + "*")

    @property
    def display(self) -> str:
        """The stem as shown to people."""
        return self.prefix


@dataclass(frozen=True, slots=True)
class And(Query):
    """Every child matches (2 or more children, none of them an And)."""

    children: tuple[Query, ...]

    def __str__(self) -> str:
        """The canonical query text: it parses back to this same node."""
        return " ".join(_wrap(c, (Or,)) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or(Query):
    """At least one child matches (2 or more children, none of them an Or)."""

    children: tuple[Query, ...]

    def __str__(self) -> str:
        """The canonical query text: it parses back to this same node."""
        return " OR ".join(str(c) for c in self.children)


@dataclass(frozen=True, slots=True)
class Not(Query):
    """The child does not match (never itself a Not)."""

    child: Query

    def __str__(self) -> str:
        """The canonical query text: it parses back to this same node."""
        return "-" + _wrap(self.child, (And, Or))


Leaf = Term | Phrase | Prefix


def _fielded(field: str | None, text: str) -> str:
    return f"{field}:{text}" if field else text


def _wrap(node: Query, kinds: tuple[type, ...]) -> str:
    return f"({node})" if isinstance(node, kinds) else str(node)


# --------------------------------------------------------------------------- entry points


def parse(text: str) -> Query:
    """Parse a query; raises QueryError (and nothing else) when it is malformed."""
    from bot.query_parser import Parser

    if not isinstance(text, str):
        raise QueryError("a query must be text", 1)
    if len(text) > MAX_LENGTH:
        raise QueryError(
            f"query is too long ({len(text)} characters, at most {MAX_LENGTH})", MAX_LENGTH + 1
        )
    return Parser(text).parse()


def validate_query(text: str) -> str:
    """The query to store for a subscription or follow of `text` (stripped, as typed),
    or QueryError.

    Besides being well formed, a subscription must name something a paper has to
    contain: `-survey` alone (or `robot OR -survey`) would post nearly every new
    paper. `paperbot subscribe` and `/papers subscribe`/`follow` call this before
    anything reaches the store.
    """
    if not _needs_a_term(parse(text)):
        raise QueryError(
            "a subscription needs a word, phrase or field to look for "
            f"({text.strip()} alone would post nearly every new paper)",
            1,
        )
    return text.strip()


def _needs_a_term(node: Query) -> bool:
    """Does every paper `node` matches contain one of its (positive) leaves?"""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_needs_a_term(c) for c in node.children)
    if isinstance(node, Or):
        return all(_needs_a_term(c) for c in node.children)
    return True


# --------------------------------------------------------------------------- leaves


def field_name(name: str, column: int) -> str:
    """The canonical field of `name:`, or QueryError with a suggestion."""
    key = name.casefold()
    if key in FIELD_NAMES:
        return FIELD_NAMES[key]
    close = difflib.get_close_matches(key, list(FIELD_NAMES), n=1, cutoff=0.6)
    if close:
        hint = f"did you mean {FIELD_NAMES[close[0]]}:?"
    else:
        hint = "fields are title:, abstract:, author:, cat:, source:"
    raise QueryError(f"unknown field '{name}:' ({hint})", column)


_CAT = re.compile(r"^[a-z][a-z\-]*(?:\.[a-z\-]+)?$")


def word_node(raw: str, field: str | None, column: int) -> Query:
    """A typed word (or the inside of a phrase) -> Term, Phrase, or hyphen alternatives."""
    if field == "cat":
        value = exact_value(raw)
        if not _CAT.match(value):
            raise QueryError(f"'{raw}' is not an arXiv category like cs.LG", column)
        return Term(value, "cat")
    if field == "source":
        value = exact_value(raw)
        if value not in SOURCES:
            raise QueryError(f"unknown source '{raw}' (use {', '.join(SOURCES)})", column)
        return Term(value, "source")
    terms = words(raw)
    if not terms:
        raise QueryError(f"'{raw}' has no letters or digits to search for", column)
    if len(terms) == 1:
        return Term(terms[0], field)
    phrase = Phrase(tuple(terms), field)
    joined = words(normalize(raw).replace("-", "")) if "-" in raw else []
    if len(joined) == 1:
        # The analyzer also indexes a hyphenated word joined: in-context -> incontext.
        return Or((phrase, Term(joined[0], field)))
    return phrase


def prefix_node(raw: str, field: str | None, column: int) -> Prefix:
    """`stem*` -> Prefix, checking the stem: one word of 3+ letters or digits."""
    shown = raw + "*"
    if field == "source":
        raise QueryError("source: takes huggingface, arxiv or file, not a prefix", column)
    stem = exact_value(raw) if field == "cat" else normalize(raw)
    if field != "cat" and not (stem.isalnum() and len(words(stem)) == 1):
        raise QueryError(f"prefix '{shown}' must be a single word of letters or digits", column)
    if len(stem) < MIN_PREFIX:
        raise QueryError(f"prefix '{shown}' needs at least {MIN_PREFIX} letters", column)
    return Prefix(stem, field)
