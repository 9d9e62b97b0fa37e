"""The specification of matching, written plainly: a brute-force evaluator.

It uses only the analyzer (`analyze`, `exact_value`) and the AST, and nothing of the
matcher or of bot/query_eval.py. Slow on purpose: every leaf re-reads the paper.

A paper has these fields, each a list of values, each value analyzed on its own:
  title    [title]            abstract [abstract]        author  [each author]
  cat      [each category, exact lowercased]             source  [each source, exact]
A leaf without a field looks in title and abstract.

  Term t       some value of the field has a token with term t
  Phrase ts    some value has tokens ts[0], ts[1], ... at positions p, p+1, ...
  Prefix s     some value has a token whose term starts with s
  And/Or/Not   as in boolean logic
"""

from __future__ import annotations

from bot.models import Paper
from bot.query import And, Not, Or, Phrase, Prefix, Query, Term
from bot.text import Token, analyze, exact_value


def field_values(paper: Paper, field: str | None) -> list[list[Token]]:
    """The analyzed values a leaf of `field` looks at."""
    if field is None:
        return [analyze(paper.title), analyze(paper.abstract)]
    if field == "title":
        return [analyze(paper.title)]
    if field == "abstract":
        return [analyze(paper.abstract)]
    if field == "author":
        return [analyze(name) for name in paper.authors]
    if field == "cat":
        return [[Token(exact_value(c), 0)] for c in paper.categories]
    if field == "source":
        return [[Token(exact_value(s), 0)] for s in paper.sources]
    raise ValueError(f"no field {field}")


def has_token(value: list[Token], term: str, position: int) -> bool:
    """Is there a token `term` at `position` in this value?"""
    for token in value:
        if token.term == term and token.position == position:
            return True
    return False


def leaf_matches(leaf: Term | Phrase | Prefix, paper: Paper) -> bool:
    """Does one leaf match the paper?"""
    for value in field_values(paper, leaf.field):
        for token in value:
            if isinstance(leaf, Term) and token.term == leaf.term:
                return True
            if isinstance(leaf, Prefix) and token.term.startswith(leaf.prefix):
                return True
            if isinstance(leaf, Phrase) and token.term == leaf.terms[0]:
                start = token.position
                if all(
                    has_token(value, term, start + offset) for offset, term in enumerate(leaf.terms)
                ):
                    return True
    return False


def reference_match(query: Query, paper: Paper) -> bool:
    """Does `query` match `paper`? (The spec.)"""
    if isinstance(query, And):
        return all(reference_match(child, paper) for child in query.children)
    if isinstance(query, Or):
        return any(reference_match(child, paper) for child in query.children)
    if isinstance(query, Not):
        return not reference_match(query.child, paper)
    assert isinstance(query, Term | Phrase | Prefix)
    return leaf_matches(query, paper)


def reference_terms(query: Query, paper: Paper) -> set[str]:
    """The positive leaves (not under a NOT) that match, as shown: term or phrase text."""
    out: set[str] = set()
    for leaf in query.positive_leaves():
        if leaf_matches(leaf, paper) and not isinstance(leaf, Prefix):
            out.add(leaf.display)
    return out
