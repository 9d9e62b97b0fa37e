"""Canonical paper ids from every way people and feeds write them (golden table)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ids import canonical_id, parse_paper_ref

GOLDEN: list[tuple[str, tuple[str, int | None]]] = [
    # new-style ids, bare and versioned
    ("2401.12345", ("arxiv:2401.12345", None)),
    ("2401.12345v3", ("arxiv:2401.12345", 3)),
    ("2401.12345v12", ("arxiv:2401.12345", 12)),
    ("  2401.12345v1\n", ("arxiv:2401.12345", 1)),
    ("0704.0001", ("arxiv:0704.0001", None)),  # the first new-style id
    ("1412.7878v2", ("arxiv:1412.7878", 2)),  # last month of four digits
    ("1501.00001", ("arxiv:1501.00001", None)),  # first month of five digits
    ("9912.12345v2", ("arxiv:9912.12345", 2)),
    # prefixes
    ("arXiv:2401.12345v2", ("arxiv:2401.12345", 2)),
    ("arxiv:2401.12345", ("arxiv:2401.12345", None)),
    ("ARXIV:2401.12345", ("arxiv:2401.12345", None)),
    ("oai:arXiv.org:2401.12345v1", ("arxiv:2401.12345", 1)),
    ("<arxiv:2401.12345>", ("arxiv:2401.12345", None)),
    # old style
    ("hep-th/9901001", ("arxiv:hep-th/9901001", None)),
    ("hep-th/9901001v1", ("arxiv:hep-th/9901001", 1)),
    ("arXiv:hep-th/9901001v2", ("arxiv:hep-th/9901001", 2)),
    ("math.GT/0309136", ("arxiv:math/0309136", None)),  # the subject class is no part
    ("math.CA/0611800v2", ("arxiv:math/0611800", 2)),
    ("HEP-TH/9901001", ("arxiv:hep-th/9901001", None)),
    ("oai:arXiv.org:cs/0112017", ("arxiv:cs/0112017", None)),
    # arxiv.org links
    ("https://arxiv.org/abs/2401.12345v4", ("arxiv:2401.12345", 4)),
    ("https://arxiv.org/abs/2401.12345", ("arxiv:2401.12345", None)),
    ("http://arxiv.org/pdf/2401.12345.pdf", ("arxiv:2401.12345", None)),
    ("https://arxiv.org/pdf/2401.12345v2", ("arxiv:2401.12345", 2)),
    ("https://arxiv.org/pdf/2401.12345v2.pdf", ("arxiv:2401.12345", 2)),
    ("https://arxiv.org/html/2401.12345v1", ("arxiv:2401.12345", 1)),
    ("https://www.arxiv.org/abs/2401.12345/", ("arxiv:2401.12345", None)),
    ("https://arxiv.org/abs/2401.12345?context=cs.LG", ("arxiv:2401.12345", None)),
    ("https://arxiv.org/abs/2401.12345#section", ("arxiv:2401.12345", None)),
    ("arxiv.org/abs/hep-th/9901001", ("arxiv:hep-th/9901001", None)),
    ("https://arxiv.org/abs/math.GT/0309136v1", ("arxiv:math/0309136", 1)),
    ("http://export.arxiv.org/abs/2401.12345", ("arxiv:2401.12345", None)),
    ("http://arxiv.org/abs/2310.00001v3", ("arxiv:2310.00001", 3)),  # Atom entry ids
    # Hugging Face links
    ("https://huggingface.co/papers/2401.12345", ("arxiv:2401.12345", None)),
    ("https://huggingface.co/papers/2401.12345#community", ("arxiv:2401.12345", None)),
    ("huggingface.co/papers/2401.12345v2", ("arxiv:2401.12345", 2)),
    ("<https://huggingface.co/papers/2401.12345>", ("arxiv:2401.12345", None)),
    ("https://hf.co/papers/2401.12345", ("arxiv:2401.12345", None)),
    # DOIs
    ("10.1000/XYZ.123", ("doi:10.1000/xyz.123", None)),
    ("doi:10.1145/3292500.3330701", ("doi:10.1145/3292500.3330701", None)),
    ("DOI:10.1145/3292500.3330701", ("doi:10.1145/3292500.3330701", None)),
    ("https://doi.org/10.1145/3292500.3330701", ("doi:10.1145/3292500.3330701", None)),
    ("https://dx.doi.org/10.1002/(SICI)1097-4571", ("doi:10.1002/(sici)1097-4571", None)),
    ("doi.org/10.48550/arXiv.2401.12345", ("doi:10.48550/arxiv.2401.12345", None)),
]

REJECTED = [
    "",
    "   ",
    "not a paper",
    "12345.6789",
    "2401.1234",  # four digits after 2014
    "1412.12345",  # five digits before 2015
    "2413.12345",  # month 13
    "2400.12345",  # month 0
    "0701.0001",  # before the new scheme (April 2007)
    "2401.12345v0",  # versions start at 1
    "2401.12345v",
    "2401.123456",
    "hep-th/991301",
    "cond-mat.stat-mech/0101001",  # subject classes are two letters
    "hep-th/9913001",  # month 13
    "doi:nonsense",
    "10.1/x",  # registrant code too short
    "https://example.com/papers/2401.12345",
    "https://arxiv.org/list/cs.LG/recent",
    "https://huggingface.co/models/2401.12345",
    "https://doi.org/",
    "arxiv:",
]


@pytest.mark.parametrize(("ref", "expected"), GOLDEN)
def test_golden(ref: str, expected: tuple[str, int | None]) -> None:
    assert parse_paper_ref(ref) == expected


@pytest.mark.parametrize("ref", REJECTED)
def test_rejected(ref: str) -> None:
    with pytest.raises(ValueError, match=r"paper|DOI|empty|version|link"):
        parse_paper_ref(ref)


def test_not_text_is_rejected() -> None:
    with pytest.raises(ValueError, match="text"):
        parse_paper_ref(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("ref", [r for r, _ in GOLDEN])
def test_canonical_is_a_fixed_point(ref: str) -> None:
    first = canonical_id(ref)
    assert canonical_id(first) == first
    assert parse_paper_ref(first) == (first, None)


@given(
    yy=st.integers(15, 99),
    mm=st.integers(1, 12),
    number=st.integers(1, 99999),
    version=st.none() | st.integers(1, 40),
)
def test_every_new_style_id_and_its_links_agree(
    yy: int, mm: int, number: int, version: int | None
) -> None:
    bare = f"{yy:02d}{mm:02d}.{number:05d}"
    ref = bare + (f"v{version}" if version else "")
    expected = (f"arxiv:{bare}", version)
    for form in (
        ref,
        f"arXiv:{ref}",
        f"https://arxiv.org/abs/{ref}",
        f"https://arxiv.org/pdf/{ref}.pdf",
        f"https://huggingface.co/papers/{ref}",
    ):
        assert parse_paper_ref(form) == expected
