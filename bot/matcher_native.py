"""The percolator's native kernel (bot/_percolate.c), fed from Python.

`SubscriptionIndex` (bot/matcher.py) uses a `NativeMatcher` when the extension was
built (`pip install` compiles it where a C compiler is found, and falls back to
pure Python where none is); both give the same hits, held to the same reference
evaluator by tests/test_matcher.py.

The kernel knows strings only as symbols ("syms", small ints) handed out here: the
terms, cat/source values and prefixes of the indexed queries, and the paper words
that start with one of those prefixes (the only paper words whose text matters, for
explaining prefix hits). Every other paper word is `UNKNOWN`. A query becomes a
program (a flat int32 tree: `OP_*` codes, field codes, syms) and is anchored under
presence keys (a sym in a field) chosen by the planner (bot/matcher_anchors.py).
"""

from __future__ import annotations

import importlib
from array import array
from collections.abc import Callable, Iterable
from typing import Any

from bot.models import Hit, Paper
from bot.query import And, Leaf, Not, Or, Phrase, Prefix, Query, Term
from bot.query_doc import AUTHOR_SEPARATOR
from bot.text import analyze, exact_value, prepare
from bot.text_plurals import IRREGULAR, fold_plural

_percolate: Any
try:
    _percolate = importlib.import_module("bot._percolate")
except ImportError:  # built without a C compiler: the Python matcher does the work
    _percolate = None

#: Is the native kernel built?
AVAILABLE = _percolate is not None
#: The percolator this installation runs, for `paperbot status` and the log.
INSTALLED = (
    "native (C kernel)"
    if AVAILABLE
    else "pure Python, slower (the C kernel bot._percolate was not built: reinstall "
    "paperbot where a C compiler is available)"
)

VALUE_CACHE_LIMIT = 10_000
FIELD = {None: 0, "title": 1, "abstract": 2, "author": 3, "cat": 4, "source": 5}
OP_TERM, OP_PREFIX, OP_PHRASE, OP_AND, OP_OR, OP_NOT = range(1, 7)
SENTENCE_END, UNKNOWN = 0, 1
#: Namespaces of sym keys (a text term is its own key): these never start a term.
TEXT_PREFIX, CAT_VALUE, CAT_PREFIX, SOURCE_VALUE = "\x01", "\x02", "\x03", "\x04"

#: A text field as the kernel takes it: ASCII text without backslashes, or
#: (syms by position, flattened (sym, position) pairs of joined hyphen forms).
FieldInput = str | tuple[list[int], list[int]]


class NativeMatcher:
    """Query programs in the native kernel; `match` gives the hits of a paper."""

    def __init__(self, cost: Callable[[str], float]) -> None:
        """`cost(key)` estimates how common a term key is (the planner's `key_cost`):
        a phrase is anchored on its rarest term."""
        if _percolate is None:
            raise RuntimeError("the native percolator kernel (bot._percolate) is not built")
        self._cost = cost
        self._syms: dict[str, int] = {}
        self._keys: list[str] = ["", ""]  # sym -> key; 0 and 1 are SENTENCE_END, UNKNOWN
        self._names: list[str] = ["", ""]  # sym -> what a person sees
        self._text_lengths: set[int] = set()  # lengths of registered text prefixes
        self._cat_lengths: set[int] = set()
        self._stale = False  # new query syms since the kernel last cached words
        #: (namespace, a paper's categories or sources) -> their syms
        self._values: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = {}
        self._kernel = _percolate.Kernel(
            fold_plural,
            IRREGULAR,  # with words ending in -s, the only ones fold_plural may change
            self._term_sym,
            self._prefixes,
            self._syms,
            self._keys,
            self._names,
            Hit,
        )

    # -- symbols -------------------------------------------------------------------

    def _new_sym(self, key: str, name: str) -> int:
        sym = self._syms[key] = len(self._keys)
        self._keys.append(key)
        self._names.append(name)
        return sym

    def _intern(self, key: str, name: str) -> int:
        """The sym of a query's key, new if need be."""
        sym = self._syms.get(key)
        if sym is None:
            sym = self._new_sym(key, name)
            self._stale = True  # a cached paper word may have been UNKNOWN
        return sym

    def _starts(self, namespace: str, value: str) -> tuple[int, ...]:
        """The syms of the registered prefixes (text: TEXT_PREFIX, or cat: CAT_PREFIX)
        that `value` starts with."""
        lengths = self._text_lengths if namespace == TEXT_PREFIX else self._cat_lengths
        found = (self._syms.get(namespace + value[:n]) for n in lengths if len(value) >= n)
        return tuple(s for s in found if s is not None)

    def _term_sym(self, term: str) -> int:
        """The sym of a paper's (analyzed) term: UNKNOWN unless a query can see it.

        The kernel's callback for a new word whose term is no query term but may
        start with a registered prefix."""
        sym = self._syms.get(term)
        if sym is not None:
            return sym
        return self._new_sym(term, term) if self._starts(TEXT_PREFIX, term) else UNKNOWN

    def _value_sym(self, namespace: str, value: str) -> int:
        """The sym of a paper's cat or source value: UNKNOWN unless a query can see it."""
        key = namespace + value
        sym = self._syms.get(key)
        if sym is not None:
            return sym
        if namespace == CAT_VALUE and self._starts(CAT_PREFIX, value):
            return self._new_sym(key, value)
        return UNKNOWN

    def _prefixes(self, sym: int) -> tuple[int, ...]:
        """The syms of the registered prefixes a term or cat value starts with (the
        kernel's callback for non-ASCII keys; it does ASCII ones itself)."""
        key = self._keys[sym]
        if key[:1] == CAT_VALUE:
            return self._starts(CAT_PREFIX, key[1:])
        if key[:1] in (TEXT_PREFIX, CAT_PREFIX, SOURCE_VALUE):
            return ()
        return self._starts(TEXT_PREFIX, key)

    # -- queries -------------------------------------------------------------------

    def _leaf_key(self, leaf: Term) -> int:
        if leaf.field == "cat":
            return self._intern(CAT_VALUE + leaf.term, leaf.term)
        if leaf.field == "source":
            return self._intern(SOURCE_VALUE + leaf.term, leaf.term)
        return self._intern(leaf.term, leaf.term)

    def _prefix_sym(self, leaf: Prefix) -> int:
        if leaf.field == "cat":
            self._cat_lengths.add(len(leaf.prefix))
            key = CAT_PREFIX + leaf.prefix
        else:
            self._text_lengths.add(len(leaf.prefix))
            key = TEXT_PREFIX + leaf.prefix
        known = key in self._syms
        sym = self._intern(key, leaf.prefix)
        if not known and key.isascii():  # the kernel finds ASCII prefixes itself
            self._kernel.add_prefix(key, sym)
        return sym

    def _program(self, node: Query, out: array[int]) -> None:
        """Append the program of `node` to `out`."""
        if isinstance(node, Term):
            out.extend((OP_TERM, FIELD[node.field], self._leaf_key(node)))
        elif isinstance(node, Phrase):
            syms = [self._intern(t, t) for t in node.terms]
            out.extend((OP_PHRASE, FIELD[node.field], len(syms), *syms))
        elif isinstance(node, Prefix):
            out.extend((OP_PREFIX, FIELD[node.field], self._prefix_sym(node)))
        elif isinstance(node, Not):
            out.append(OP_NOT)
            self._program(node.child, out)
        else:
            assert isinstance(node, And | Or)
            start = len(out)
            out.extend((OP_AND if isinstance(node, And) else OP_OR, len(node.children), 0))
            for child in node.children:
                self._program(child, out)
            out[start + 2] = len(out) - start  # where the node ends: a false AND skips there

    def _presence(self, leaf: Leaf) -> int:
        """A presence key (sym << 3 | field) that a paper holds whenever `leaf` matches."""
        field = FIELD[leaf.field]
        if isinstance(leaf, Term):
            sym = self._leaf_key(leaf)
        elif isinstance(leaf, Prefix):
            sym = self._prefix_sym(leaf)
        else:
            tag = "author:" if leaf.field == "author" else ""
            sym = self._intern(rarest := min(leaf.terms, key=lambda t: self._cost(tag + t)), rarest)
        return sym << 3 | field

    def add(
        self,
        entry: int,
        subs: tuple[str, ...],
        query: Query,
        conjunctions: Iterable[tuple[Leaf, ...]],
        explain: tuple[str, ...] | None,
    ) -> None:
        """Index `query` as `entry`, shared by the subscriptions `subs`, checked on
        papers holding every leaf of one of the planner's `conjunctions` (none: on
        every paper). `explain`: its matched terms when they never vary
        (bot.query_eval.explainer), else None."""
        code: array[int] = array("i")
        self._program(query, code)
        anchors: array[int] = array("i")
        for conjunction in conjunctions:
            anchors.append(self._presence(conjunction[0]))
            anchors.append(self._presence(conjunction[1]) if len(conjunction) > 1 else -1)
        if explain is not None:
            self._kernel.add(entry, subs, code, anchors, explain, None)
            return
        leaves = list(dict.fromkeys(query.positive_leaves()))
        xcode: array[int] = array("i")
        for leaf in leaves:
            self._program(leaf, xcode)
        displays = tuple(None if isinstance(leaf, Prefix) else leaf.display for leaf in leaves)
        self._kernel.add(entry, subs, code, anchors, displays, xcode)

    def set_subs(self, entry: int, subs: tuple[str, ...]) -> None:
        """The subscriptions that share the query indexed as `entry`."""
        self._kernel.set_subs(entry, subs)

    def remove(self, entry: int) -> None:
        """Forget the query indexed as `entry`."""
        self._kernel.remove(entry)

    # -- papers --------------------------------------------------------------------

    def _text(self, text: str) -> FieldInput:
        if text.isascii() and "\\" not in text:
            return text  # lowercased and tokenized in the kernel
        prepared = prepare(text)
        if prepared.isascii():
            return prepared  # tokenized in the kernel
        seq: list[int] = []
        joined: list[int] = []
        for token in analyze(text):
            sym = self._term_sym(token.term)
            if token.parts > 1:
                if sym != UNKNOWN:
                    joined += (sym, token.position)
                continue
            seq.extend([SENTENCE_END] * (token.position - len(seq)))
            seq.append(sym)
        return seq, joined

    def _value_syms(self, namespace: str, values: tuple[str, ...]) -> tuple[int, ...]:
        """The syms of a paper's categories or sources (cached: the same few recur)."""
        if len(self._values) >= VALUE_CACHE_LIMIT:
            self._values.clear()
        syms = self._values[namespace, values] = tuple(
            self._value_sym(namespace, exact_value(v)) for v in values
        )
        return syms

    def match(self, paper: Paper) -> list[Hit]:
        """A hit for each subscription whose query matches `paper`, in entry order."""
        if self._stale:
            self._kernel.forget_words()
            self._values.clear()
            self._stale = False
        values = self._values
        cats = values.get((CAT_VALUE, paper.categories))
        sources = values.get((SOURCE_VALUE, paper.sources))
        return self._kernel.match(  # type: ignore[no-any-return]
            paper.id,
            self._text(paper.title),
            self._text(paper.abstract),
            self._text(AUTHOR_SEPARATOR.join(paper.authors)),
            cats if cats is not None else self._value_syms(CAT_VALUE, paper.categories),
            sources if sources is not None else self._value_syms(SOURCE_VALUE, paper.sources),
        )
