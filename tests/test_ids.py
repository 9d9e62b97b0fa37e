"""Canonical paper ids from every way people and feeds write them."""

from __future__ import annotations

import pytest

from bot.ids import canonical_id, parse_paper_ref


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("2401.12345", ("arxiv:2401.12345", None)),
        ("2401.12345v3", ("arxiv:2401.12345", 3)),
        ("arXiv:2401.12345v2", ("arxiv:2401.12345", 2)),
        ("arxiv:0704.0001", ("arxiv:0704.0001", None)),
        ("12345.6789", None),
        ("hep-th/9901001", ("arxiv:hep-th/9901001", None)),
        ("math.GT/0309136v2", ("arxiv:math.gt/0309136", 2)),
        ("oai:arXiv.org:2401.12345v1", ("arxiv:2401.12345", 1)),
        ("https://arxiv.org/abs/2401.12345v4", ("arxiv:2401.12345", 4)),
        ("http://arxiv.org/pdf/2401.12345.pdf", ("arxiv:2401.12345", None)),
        ("arxiv.org/abs/hep-th/9901001", ("arxiv:hep-th/9901001", None)),
        ("https://export.arxiv.org/abs/2401.12345", ("arxiv:2401.12345", None)),
        ("https://huggingface.co/papers/2401.12345", ("arxiv:2401.12345", None)),
        ("<https://huggingface.co/papers/2401.12345>", ("arxiv:2401.12345", None)),
        ("10.1000/XYZ.123", ("doi:10.1000/xyz.123", None)),
        ("doi:10.1145/3292500.3330701", ("doi:10.1145/3292500.3330701", None)),
        ("https://doi.org/10.1145/3292500.3330701", ("doi:10.1145/3292500.3330701", None)),
        ("https://example.com/papers/2401.12345", None),
        ("not a paper", None),
        ("", None),
        ("doi:nonsense", None),
    ],
)
def test_parse(ref: str, expected: tuple[str, int | None] | None) -> None:
    if expected is None:
        with pytest.raises(ValueError):
            parse_paper_ref(ref)
    else:
        assert parse_paper_ref(ref) == expected


def test_canonical_is_a_fixed_point() -> None:
    for ref in ("2401.12345v2", "hep-th/9901001", "10.1000/xyz"):
        first = canonical_id(ref)
        assert canonical_id(first) == first
