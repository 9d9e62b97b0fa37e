"""A paper analyzed once for matching many queries (the percolator, `paperbot match`).

Each text field is kept as its term sequence (one term per position, "" at sentence
ends; the analyzer's `sequence`), that sequence joined by spaces (a sentence end
leaves two spaces) and a set of its terms, joined hyphen forms included. Presence
is a set lookup; a phrase is a substring search (` diffusion policy ` in the
joined text, in C). A phrase that involves a joined hyphen form (which shares the
position of the hyphenated word's first part) is checked against full positions
from `analyze`, computed on first need.
"""

from __future__ import annotations

from bisect import bisect_left

from bot.models import Paper
from bot.text import analyze, exact_value, sequence

#: Authors are analyzed as one text, a sentence end between two names: a phrase
#: never spans two authors.
AUTHOR_SEPARATOR = " ; "


class Doc:
    """The analyzed fields of one paper and per-paper caches."""

    __slots__ = (
        "_abstract_joined",
        "_abstract_keys",
        "_positions",
        "_sorted",
        "abstract",
        "abstract_text",
        "all_keys",
        "author",
        "author_joined",
        "author_keys",
        "author_text",
        "cat",
        "keys",
        "paper",
        "paper_id",
        "source",
        "text_joined",
        "title",
        "title_keys",
        "title_text",
    )

    def __init__(self, paper: Paper) -> None:
        """Analyze every field of `paper` once."""
        self.paper = paper
        self.paper_id = paper.id
        self.title, title_joined = sequence(paper.title)
        self.abstract, self._abstract_joined = sequence(paper.abstract)
        self.title_text = f" {' '.join(self.title)} "
        self.abstract_text = f" {' '.join(self.abstract)} "
        self.title_keys = set(self.title)
        self.title_keys.update(title_joined)
        self.title_keys.discard("")
        self.keys = set(self.abstract)  # title or abstract
        self.keys.update(self.title_keys, self._abstract_joined)
        self.keys.discard("")
        self.text_joined = {*title_joined, *self._abstract_joined}
        self.author, author_joined = sequence(AUTHOR_SEPARATOR.join(paper.authors))
        self.author_joined = set(author_joined)
        self.author_text = f" {' '.join(self.author)} "
        self.author_keys = set(self.author) | self.author_joined
        self.author_keys.discard("")
        self.cat = frozenset(map(exact_value, paper.categories))
        self.source = frozenset(map(exact_value, paper.sources))
        #: Every term key: `robot` (title or abstract), `title:robot`, `author:finn`,
        #: `cat:cs.lg`, `source:arxiv` (the keys of bot/matcher_anchors.py).
        self.all_keys = self.keys.union(
            map("title:".__add__, self.title_keys),
            map("author:".__add__, self.author_keys),
            map("cat:".__add__, self.cat),
            map("source:".__add__, self.source),
        )
        self._abstract_keys: set[str] | None = None
        self._sorted: list[str] | None = None
        self._positions: dict[str, dict[str, list[int]]] = {}

    @property
    def abstract_keys(self) -> set[str]:
        """The abstract's distinct terms (computed on first use: rarely needed)."""
        if self._abstract_keys is None:
            found = set(self.abstract)
            found.update(self._abstract_joined)
            found.discard("")
            self._abstract_keys = found
        return self._abstract_keys

    # -- prefixes ------------------------------------------------------------------

    def sorted_terms(self) -> list[str]:
        """The title and abstract terms in sorted order (cached)."""
        if self._sorted is None:
            self._sorted = sorted(self.keys)
        return self._sorted

    def prefixed(self, prefix: str) -> list[str]:
        """The title and abstract terms starting with `prefix`, sorted."""
        terms = self._sorted or self.sorted_terms()  # (inline: called for many queries)
        i = bisect_left(terms, prefix)
        out = []
        while i < len(terms) and terms[i].startswith(prefix):
            out.append(terms[i])
            i += 1
        return out

    def has_prefix(self, prefix: str) -> bool:
        """Does a title or abstract term start with `prefix`?"""
        terms = self._sorted or self.sorted_terms()
        i = bisect_left(terms, prefix)
        return i < len(terms) and terms[i].startswith(prefix)

    def field_terms(self, field: str | None) -> set[str] | frozenset[str]:
        """The distinct terms (or values) of a field; None means title and abstract."""
        if field is None:
            return self.keys
        if field == "title":
            return self.title_keys
        if field == "abstract":
            return self.abstract_keys
        if field == "author":
            return self.author_keys
        return self.cat if field == "cat" else self.source

    # -- phrases -------------------------------------------------------------------

    def has_phrase(
        self, field: str | None, terms: tuple[str, ...], needle: str | None = None
    ) -> bool:
        """Are `terms` at consecutive positions of the field (title or abstract for None)?

        `needle` is `phrase_needle(terms)`, given by callers that check it often.
        """
        if needle is None:
            needle = phrase_needle(terms)
        if field == "author":
            if not self.author_keys.issuperset(terms):
                return False
            if self.author_joined and not self.author_joined.isdisjoint(terms):
                return self._positional("author", terms)
            return needle in self.author_text
        if not (self.keys if field is None else self.field_terms(field)).issuperset(terms):
            return False
        if self.text_joined and not self.text_joined.isdisjoint(terms):
            names = ("title", "abstract") if field is None else (field,)
            return any(self._positional(name, terms) for name in names)
        if field != "abstract" and needle in self.title_text:
            return True
        return field != "title" and needle in self.abstract_text

    def _positional(self, field: str, terms: tuple[str, ...]) -> bool:
        positions = self._positions.get(field)
        if positions is None:
            text = (
                self.paper.title
                if field == "title"
                else self.paper.abstract
                if field == "abstract"
                else AUTHOR_SEPARATOR.join(self.paper.authors)
            )
            positions = self._positions[field] = {}
            for token in analyze(text):
                positions.setdefault(token.term, []).append(token.position)
        rest = [set(positions.get(t, ())) for t in terms[1:]]
        return any(
            all(p + i in ps for i, ps in enumerate(rest, 1)) for p in positions.get(terms[0], ())
        )


def phrase_needle(terms: tuple[str, ...]) -> str:
    """What `Doc.has_phrase` looks for in a joined text: the terms between spaces."""
    return f" {' '.join(terms)} "
