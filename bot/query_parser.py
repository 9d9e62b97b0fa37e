"""Lexer and recursive-descent parser of the query language (grammar in bot/query.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.query import (
    MAX_DEPTH,
    MAX_TERMS,
    And,
    Not,
    Or,
    Query,
    QueryError,
    field_name,
    prefix_node,
    word_node,
)

_FIELD = re.compile(r"[A-Za-z]+:")
_OPERANDS = ("(", "PHRASE", "WORD", "PREFIX")


@dataclass(frozen=True, slots=True)
class Lexeme:
    """One token of a query: kind is ( ) PHRASE WORD PREFIX FIELD OR AND NOT."""

    kind: str
    text: str
    column: int


def lex(text: str) -> list[Lexeme]:
    """Split a query into lexemes with their 1-based columns."""
    out: list[Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        ch, col = text[i], i + 1
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(Lexeme(ch, ch, col))
            i += 1
        elif ch == "|":
            out.append(Lexeme("OR", ch, col))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError("unbalanced quote", col)
            out.append(Lexeme("PHRASE", text[i + 1 : end], col))
            i = end + 1
        elif ch == "-":
            if i + 1 >= n or text[i + 1].isspace() or text[i + 1] in ")|":
                raise QueryError("'-' must be followed directly by the term to exclude", col)
            out.append(Lexeme("NOT", ch, col))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"|':
                j += 1
            _word(text[i:j], col, text[j : j + 1], out)
            i = j
    return out


def _word(word: str, col: int, after: str, out: list[Lexeme]) -> None:
    """One run of word characters: a keyword, `field:`, a prefix or a word."""
    if word in ("OR", "AND", "NOT"):
        out.append(Lexeme(word, word, col))
        return
    field = _FIELD.match(word)
    if field is not None:
        name = word[: field.end() - 1]
        out.append(Lexeme("FIELD", name, col))
        word, col = word[field.end() :], col + field.end()
        if not word and after not in ('"', "("):
            field_name(name, out[-1].column)  # an unknown field is the better message
            raise QueryError(f"field '{name}:' needs a term right after it", out[-1].column)
        if not word:
            return
        if word.startswith("-"):
            raise QueryError(f"put '-' before the field: -{name}:{word[1:]}", col)
    star = word.find("*")
    if star >= 0:
        if star != len(word) - 1:
            raise QueryError("'*' can only end a word (a prefix such as diffus*)", col + star)
        out.append(Lexeme("PREFIX", word[:-1], col))
    else:
        out.append(Lexeme("WORD", word, col))


class Parser:
    """Parses one query string; `parse()` returns the AST or raises QueryError."""

    def __init__(self, text: str) -> None:
        """Lex `text` at once; a lexical error raises QueryError here."""
        self.text = text
        self.tokens = lex(text)
        self.pos = 0
        self.nesting = 0
        self.terms = 0

    def peek(self) -> Lexeme | None:
        """The next lexeme, not consumed."""
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Lexeme:
        """Consume the next lexeme."""
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Query:
        """The whole query."""
        if not self.tokens:
            raise QueryError("the query is empty", 1)
        node = self.or_expr(None)
        extra = self.peek()
        if extra is not None:  # only a ')' can stop or_expr early
            raise QueryError("unbalanced parenthesis: ')' without '('", extra.column)
        if node.depth() > MAX_DEPTH:
            raise QueryError(f"too deeply nested (at most {MAX_DEPTH} levels)", 1)
        return node

    def _need_operand(self, token: Lexeme) -> None:
        nxt = self.peek()
        if nxt is not None and nxt.kind not in (")", "OR", "AND"):
            return
        if token.kind in ("OR", "AND"):
            raise QueryError(f"{token.text} needs a term on both sides", token.column)
        what = "'-'" if token.text == "-" else token.text
        raise QueryError(f"{what} must be followed by a term", token.column)

    def or_expr(self, field: str | None) -> Query:
        """Terms joined by OR."""
        start = self.peek()
        children = [self.and_expr(field)]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            self._need_operand(tok)
            children.append(self.and_expr(field))
        return self._combine(Or, children, start)

    def and_expr(self, field: str | None) -> Query:
        """Terms side by side (or joined by AND)."""
        start = self.peek()
        if start is not None and start.kind in ("OR", "AND"):
            raise QueryError(f"{start.text} needs a term on both sides", start.column)
        children = [self.unary(field)]
        while (tok := self.peek()) is not None and tok.kind not in (")", "OR"):
            if tok.kind == "AND":
                self.take()
                self._need_operand(tok)
            children.append(self.unary(field))
        return self._combine(And, children, start)

    def unary(self, field: str | None) -> Query:
        """Any number of NOTs (pairs cancel), then a primary."""
        negated = False
        while (tok := self.peek()) is not None and tok.kind == "NOT":
            self.take()
            self._need_operand(tok)
            negated = not negated
        node = self.primary(field)
        if not negated:
            return node
        return node.child if isinstance(node, Not) else Not(node)

    def primary(self, field: str | None) -> Query:
        """A word, prefix, phrase or group, possibly with a field."""
        tok = self.take()
        if tok.kind == "FIELD":
            if field is not None:
                raise QueryError(f"field '{tok.text}:' inside another field", tok.column)
            name = field_name(tok.text, tok.column)
            nxt = self.peek()
            if nxt is None or nxt.kind not in _OPERANDS:
                raise QueryError(f"field '{tok.text}:' needs a term right after it", tok.column)
            return self.primary(name)
        if tok.kind == "(":
            return self.group(tok, field)
        if tok.kind in ("PHRASE", "WORD", "PREFIX"):
            if tok.kind == "PHRASE" and not tok.text.strip():
                raise QueryError("empty phrase", tok.column)
            if tok.kind == "PREFIX":
                node: Query = prefix_node(tok.text, field, tok.column)
            else:
                node = word_node(tok.text, field, tok.column)
            self.terms += sum(1 for _ in node.leaves())
            if self.terms > MAX_TERMS:
                raise QueryError(f"too many terms (at most {MAX_TERMS})", tok.column)
            return node
        raise QueryError("unbalanced parenthesis: ')' without '('", tok.column)

    def group(self, tok: Lexeme, field: str | None) -> Query:
        """`( ... )`."""
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise QueryError(f"too deeply nested (at most {MAX_DEPTH} levels)", tok.column)
        nxt = self.peek()
        if nxt is None:
            raise QueryError("unbalanced parenthesis: '(' never closed", tok.column)
        if nxt.kind == ")":
            raise QueryError("empty parentheses", tok.column)
        node = self.or_expr(field)
        close = self.peek()
        if close is None:
            raise QueryError("unbalanced parenthesis: '(' never closed", tok.column)
        self.take()
        self.nesting -= 1
        return node

    def _combine(
        self, kind: type[And] | type[Or], children: list[Query], start: Lexeme | None
    ) -> Query:
        flat: list[Query] = []
        for child in children:
            flat.extend(child.children if isinstance(child, kind) else (child,))
        node = flat[0] if len(flat) == 1 else kind(tuple(flat))
        if node.depth() > MAX_DEPTH:
            column = start.column if start is not None else 1
            raise QueryError(f"too deeply nested (at most {MAX_DEPTH} levels)", column)
        return node
