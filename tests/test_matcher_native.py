"""The native kernel's own contract: it refuses what it cannot run, and the index
falls back to Python when it is not built. (Matching itself is held to the reference
evaluator, on both matchers, in tests/test_matcher.py.)"""

from __future__ import annotations

from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import matcher_native
from bot.matcher import SubscriptionIndex
from bot.matcher_native import (
    AVAILABLE,
    OP_AND,
    OP_NOT,
    OP_PHRASE,
    OP_TERM,
    NativeMatcher,
)
from bot.models import Paper
from bot.text_plurals import IRREGULAR, fold_plural

needs_kernel = pytest.mark.skipif(not AVAILABLE, reason="bot._percolate not built")


def ints(*values: int) -> array[int]:
    return array("i", values)


@needs_kernel
@pytest.mark.parametrize(
    "program",
    [
        ints(),  # nothing
        ints(99, 0, 2),  # no such operation
        ints(OP_TERM, 7, 2),  # no such field
        ints(OP_TERM, 0),  # cut short
        ints(OP_TERM, 0, -3),  # a negative sym
        ints(OP_PHRASE, 0, 3, 2, 3),  # fewer terms than it says
        ints(OP_AND, 2, 6, OP_TERM, 0, 2),  # fewer children than it says
        ints(OP_AND, 1, 9, OP_TERM, 0, 2),  # skips past its end
        ints(OP_NOT),  # a NOT of nothing
        ints(OP_TERM, 0, 2, OP_TERM, 0, 3),  # two programs
    ],
)
def test_kernel_refuses_malformed_programs(program: array[int]) -> None:
    kernel = NativeMatcher(lambda key: 0.5)._kernel
    with pytest.raises(ValueError, match="malformed program"):
        kernel.add(1, ("s",), program, ints(2 << 3, -1), ("x",), None)
    with pytest.raises(KeyError):
        kernel.remove(1)  # nothing was half-added


@needs_kernel
def test_kernel_refuses_bad_anchors_explanations_and_entries() -> None:
    kernel = NativeMatcher(lambda key: 0.5)._kernel
    term = ints(OP_TERM, 0, 2)
    with pytest.raises(ValueError, match="pairs"):
        kernel.add(1, ("s",), term, ints(2 << 3), ("x",), None)
    with pytest.raises(ValueError, match="anchor key"):
        kernel.add(1, ("s",), term, ints(2 << 3 | 7, -1), ("x",), None)
    with pytest.raises(ValueError, match="malformed program"):  # 2 displays, 1 leaf
        kernel.add(1, ("s",), term, ints(2 << 3, -1), ("x", "y"), term)
    with pytest.raises(ValueError, match="malformed program"):  # explanations are leaves
        kernel.add(1, ("s",), term, ints(2 << 3, -1), ("x",), ints(OP_NOT, *term))
    with pytest.raises(TypeError, match="terms are str"):
        kernel.add(1, ("s",), term, ints(2 << 3, -1), (None,), None)
    with pytest.raises(ValueError, match="not negative"):
        kernel.add(-1, ("s",), term, ints(2 << 3, -1), ("x",), None)
    kernel.add(1, ("s",), term, ints(2 << 3, -1), ("x",), None)
    with pytest.raises(ValueError, match="already added"):
        kernel.add(1, ("s",), term, ints(2 << 3, -1), ("x",), None)
    with pytest.raises(KeyError):
        kernel.set_subs(2, ("s",))
    kernel.remove(1)
    with pytest.raises(KeyError):
        kernel.remove(1)


@needs_kernel
def test_a_failing_callback_surfaces_as_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fold that raises (it never should) reaches the caller, nothing crashes, and the
    same paper matches once folding works again."""
    failures = ["fold failed"]

    def fold(word: str) -> str:
        if failures:
            raise RuntimeError(failures.pop())
        return fold_plural(word)

    monkeypatch.setattr(matcher_native, "fold_plural", fold)
    index = SubscriptionIndex(native=True)
    index.add_query("s", "zebrafish")
    paper = Paper(id="p", title="Zebrafish models")  # "models" is folded: "zebrafish" is not
    with pytest.raises(RuntimeError, match="fold failed"):
        index.match(paper)
    assert [h.subscription_id for h in index.match(paper)] == ["s"]


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=14))
def test_fold_changes_only_words_ending_in_s_and_irregular_ones(word: str) -> None:
    """What the kernel relies on to call fold_plural only for such new words."""
    if not word.endswith("s") and word not in IRREGULAR:
        assert fold_plural(word) == word


def test_without_the_kernel_the_index_matches_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher_native, "_percolate", None)
    monkeypatch.setattr("bot.matcher.AVAILABLE", False)
    index = SubscriptionIndex()
    assert index.engine == "python"
    index.add_query("s", "zebrafish")
    assert [h.subscription_id for h in index.match(Paper(id="p", title="Zebrafish"))] == ["s"]
    with pytest.raises(RuntimeError, match="not built"):
        SubscriptionIndex(native=True)
