"""Presearch planning for the percolator (Lucene Monitor / SIFT key method), in two stages.

Atoms are the leaves of queries. A term with no field or a `title:`, `author:`,
`cat:` or `source:` term is true exactly when the paper holds its key (`diffusion`,
`title:robot`, `author:finn`, `cat:cs.lg`), so its key is its atom. Other atoms
(phrases, `abstract:` terms, prefixes) are verified once per paper, and only when
their anchor is in the paper: the two rarest term keys of a phrase, the term key of
an `abstract:` term, the first (at most `PREFIX_ANCHOR`) letters of a prefix.

A query is registered under conjunctions of one or two atoms; it is checked against
a paper only when every atom of one conjunction is true. A leaf is its own atom; an
AND keeps the rarest child, or the pairs of its two rarest children; an OR needs
the conjunctions of every branch; a NOT never anchors. Queries without anchors
(`-survey`) are checked on every paper.

Rarity comes from document frequencies (`TermStats`, e.g. over recent papers), with
adjacent-term counts for phrases, or, without statistics, from a heuristic: long
words are rarer than short ones, and a list of words found in nearly every abstract
is avoided.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate, pairwise
from operator import itemgetter

from bot.models import Paper
from bot.query import And, Leaf, Not, Or, Phrase, Prefix, Query, Term
from bot.query_eval import Doc

PREFIX_ANCHOR = 6
MAX_PAIRS = 16
#: Frequent words of abstracts: poor anchors when no statistics are available.
COMMON = frozenset(
    "a an the of and or in on for to with by from as at is are be we our this that "
    "which it its can not show model learning method data result approach network "
    "neural task performance training propose based using new paper".split()
)


def key_of(field: str | None, term: str) -> str:
    """The anchor key of a term in a field: title and abstract share plain keys."""
    return term if field in (None, "title", "abstract") else f"{field}:{term}"


def atom_key(field: str | None, term: str) -> str:
    """The key of a term atom (`robot`, `title:robot`, `author:finn`); not for abstract:."""
    return term if field is None else f"{field}:{term}"


def tag_of(field: str | None) -> str:
    """The presearch field tag of a prefix: "" for title and abstract."""
    return "" if field in (None, "title", "abstract") else field or ""


def doc_keys(doc: Doc) -> set[str]:
    """Every presearch key of an analyzed paper."""
    return doc.all_keys


def doc_prefixes(doc: Doc, tag: str, length: int) -> Iterator[str]:
    """The first `length` characters of the terms (or values) of a field tag.

    An iterator, not a set: `dict.keys() & iterator` probes the dict with each one
    without building a set first. Shorter terms come whole and never match a stem.
    """
    values: Iterable[str] = doc.field_terms(tag or None)
    return map(itemgetter(slice(0, length)), values)


def _bigrams(seq: list[str], tag: str) -> set[str]:
    return {f"{tag}{a} {b}" for a, b in pairwise(seq) if a and b}


@dataclass
class TermStats:
    """Document frequencies of presearch keys and adjacent term pairs over sample papers."""

    docs: int = 0
    freq: dict[str, int] = field(default_factory=dict)
    _sorted: list[str] = field(default_factory=list, repr=False)
    _cumulative: list[int] = field(default_factory=list, repr=False)

    @classmethod
    def from_papers(cls, papers: Iterable[Paper]) -> TermStats:
        """Count in how many of `papers` each key (and each `a b` term pair) occurs."""
        stats = cls()
        for paper in papers:
            doc = Doc(paper)
            stats.docs += 1
            keys = doc_keys(doc) | _bigrams(doc.title, "") | _bigrams(doc.abstract, "")
            keys |= _bigrams(doc.author, "author:")
            for key in keys:
                stats.freq[key] = stats.freq.get(key, 0) + 1
        stats._sorted = sorted(k for k in stats.freq if " " not in k)
        stats._cumulative = [0, *accumulate(stats.freq[k] for k in stats._sorted)]
        return stats

    def cost(self, key: str) -> float:
        """Estimated share of papers containing `key` (or the pair `a b`)."""
        return (self.freq.get(key, 0) + 0.5) / (self.docs + 1)

    def prefix_cost(self, key_prefix: str) -> float:
        """Estimated share of papers with a key starting with `key_prefix` (an upper bound)."""
        lo = bisect_left(self._sorted, key_prefix)
        hi = bisect_left(self._sorted, key_prefix + "\U0010ffff")
        return min(1.0, (self._cumulative[hi] - self._cumulative[lo] + 0.5) / (self.docs + 1))


def heuristic_cost(key: str) -> float:
    """Rarity guess without statistics: common words and short words are frequent."""
    tag, _, term = key.rpartition(":")
    if tag == "title":
        return 0.2 * heuristic_cost(term)
    if tag == "source":
        return 0.7
    if tag == "cat":
        return 0.3
    if tag == "author":
        return 0.001
    if term in COMMON:
        return 0.6
    return min(0.5, 1.0 / (len(term) ** 2))


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where stage one looks for a verified atom: 1-2 term keys, or a prefix slot."""

    keys: tuple[str, ...] = ()
    prefix_tag: str = ""
    prefix: str = ""
    verify: bool = True


@dataclass(frozen=True, slots=True)
class Plan:
    """A query can only match when all atoms of one of `conjunctions` are true;
    `exact` when that alone proves a match."""

    cost: float
    conjunctions: tuple[tuple[Leaf, ...], ...]
    exact: bool


class Planner:
    """Chooses atoms and anchors, with statistics or the heuristic."""

    def __init__(self, stats: TermStats | None = None) -> None:
        """Use `stats` for rarity when they count any paper, else the heuristic."""
        self.stats = stats if stats is not None and stats.docs else None

    def key_cost(self, key: str) -> float:
        """Estimated share of papers containing `key`."""
        return self.stats.cost(key) if self.stats else heuristic_cost(key)

    def leaf_cost(self, leaf: Leaf) -> float:
        """Estimated share of papers a leaf matches."""
        if isinstance(leaf, Term):
            return self.key_cost(atom_key(leaf.field, leaf.term))
        if isinstance(leaf, Phrase):
            keys = [key_of(leaf.field, t) for t in leaf.terms]
            if self.stats:
                tag = "author:" if leaf.field == "author" else ""
                pairs = zip(leaf.terms, leaf.terms[1:], strict=False)
                return min(self.stats.cost(f"{tag}{a} {b}") for a, b in pairs)
            costs = sorted(self.key_cost(k) for k in keys)
            return costs[0] * costs[1]
        tag = tag_of(leaf.field)
        if self.stats:
            return self.stats.prefix_cost(f"{tag}:{leaf.prefix}" if tag else leaf.prefix)
        return min(0.9, 4.0 / (len(leaf.prefix) ** 2))

    def anchor(self, leaf: Leaf) -> Anchor | None:
        """Where to find a leaf that is not a plain term; None for a plain term (its key)."""
        if isinstance(leaf, Term):
            return Anchor(keys=(leaf.term,)) if leaf.field == "abstract" else None
        if isinstance(leaf, Phrase):
            keys = dict.fromkeys(key_of(leaf.field, t) for t in leaf.terms)
            return Anchor(keys=tuple(sorted(keys, key=self.key_cost)[:2]))
        stem = leaf.prefix[:PREFIX_ANCHOR]
        verify = stem != leaf.prefix or leaf.field in ("title", "abstract")
        return Anchor(prefix_tag=tag_of(leaf.field), prefix=stem, verify=verify)

    def plan(self, node: Query) -> Plan | None:
        """The conjunctions of atoms a query is registered under; None if it has none."""
        if isinstance(node, Term | Phrase | Prefix):
            return Plan(self.leaf_cost(node), ((node,),), True)
        if isinstance(node, Not):
            return None
        assert isinstance(node, And | Or)
        plans = [self.plan(child) for child in node.children]
        if isinstance(node, Or):
            if any(p is None for p in plans):
                return None
            usable = [p for p in plans if p is not None]
            conjunctions = tuple(dict.fromkeys(c for p in usable for c in p.conjunctions))
            cost = min(1.0, sum(p.cost for p in usable))
            return Plan(cost, conjunctions, all(p.exact for p in usable))
        usable = sorted((p for p in plans if p is not None), key=lambda p: p.cost)
        if not usable:
            return None
        best = usable[0]
        if len(usable) > 1 and _singles(best) and _singles(usable[1]):
            second = usable[1]
            pairs = tuple(
                dict.fromkeys(
                    (a[0],) if a == b else (a[0], b[0])
                    for a in best.conjunctions
                    for b in second.conjunctions
                )
            )
            if len(pairs) <= MAX_PAIRS:
                exact = len(plans) == 2 and best.exact and second.exact
                return Plan(best.cost * second.cost, pairs, exact)
        return Plan(best.cost, best.conjunctions, False)


def _singles(plan: Plan) -> bool:
    return all(len(c) == 1 for c in plan.conjunctions)
