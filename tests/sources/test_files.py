"""Papers from files: JSONL of Paper records and Hugging Face daily_papers arrays."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.models import Paper
from bot.sources.files import FileLoad, load_papers, paper_from_record
from bot.sources.http import SourceError


def test_jsonl_records_round_trip(tmp_path: Path) -> None:
    paper = Paper(
        id="arxiv:2411.00001",
        title="A",
        abstract="About A.",
        authors=("Ada Lovelace",),
        published=datetime(2024, 11, 20, 9, 30, tzinfo=UTC),
        categories=("cs.LG",),
        sources=("arxiv", "huggingface"),
        version=2,
        upvotes=0,
        ai_keywords=("a",),
    )
    path = tmp_path / "papers.jsonl"
    path.write_text(json.dumps(paper.to_dict()) + "\n")
    load = load_papers(path)
    assert isinstance(load, FileLoad)
    assert load.papers == [paper] and load.skipped == []


def test_jsonl_good_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "papers.jsonl"
    path.write_text(
        '{"id": "2411.00001v2", "title": "A"}\n'
        "\n"
        "not json\n"
        '{"id": "arxiv:2411.00002", "title": "B", "sources": ["arxiv"], "upvotes": 0}\n'
        '{"title": "no id"}\n'
        '{"id": "arxiv:2411.00001", "title": "dup"}\n'
        '{"id": "10.1145/3292500.3330701", "title": "A DOI"}\n'
        '{"id": "arxiv:2411.00003", "title": "C", "upvotes": "many"}\n'
        '{"id": "arxiv:2411.00004", "title": "D", "colour": "blue"}\n'
        "[1, 2]\n"
    )
    load = load_papers(path)
    assert [(p.id, p.version, p.sources) for p in load.papers] == [
        ("arxiv:2411.00001", 2, ("file",)),
        ("arxiv:2411.00002", None, ("arxiv",)),
        ("doi:10.1145/3292500.3330701", None, ("file",)),
    ]
    assert [s.split(":")[1] for s in load.skipped] == ["3", "5", "6", "8", "9", "10"]
    assert all(s.startswith(str(path)) for s in load.skipped)
    assert "duplicate of arxiv:2411.00001" in load.skipped[2]
    assert "colour" in load.skipped[4]


def test_hf_array_is_detected(tmp_path: Path, hf_items: list[dict[str, Any]]) -> None:
    path = tmp_path / "daily.json"
    path.write_text(json.dumps(hf_items, indent=2))
    load = load_papers(path)
    assert [p.id for p in load.papers] == ["arxiv:2411.01234", "arxiv:2411.05678"]
    assert load.papers[0].upvotes == 42 and load.papers[0].sources == ("huggingface",)
    assert len(load.skipped) == 4 and all(" item " in s for s in load.skipped)


def test_array_of_paper_records_and_mixed_jsonl(
    tmp_path: Path, hf_items: list[dict[str, Any]]
) -> None:
    array = tmp_path / "papers.json"
    array.write_text(json.dumps([{"id": "2411.00009", "title": "Z"}, hf_items[1]]))
    assert [p.id for p in load_papers(array).papers] == ["arxiv:2411.00009", "arxiv:2411.05678"]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(json.dumps(hf_items[0]) + "\n" + '{"id": "2411.00009", "title": "Z"}\n')
    assert [p.sources for p in load_papers(mixed).papers] == [("huggingface",), ("file",)]


def test_byte_order_mark_and_blank_file(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "2411.00001", "title": "A"}\n')
    assert [p.id for p in load_papers(path).papers] == ["arxiv:2411.00001"]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    assert load_papers(empty).papers == [] and load_papers(empty).skipped == []


def test_saved_arxiv_feeds_are_read_as_feeds(tmp_path: Path, rss: bytes, atom: bytes) -> None:
    api = tmp_path / "query.xml"
    api.write_bytes(b"\n  " + atom)
    [paper] = load_papers(api).papers
    assert (paper.id, paper.version, paper.sources) == ("arxiv:2310.00001", 3, ("arxiv",))
    assert paper.authors and paper.published is not None
    feed = tmp_path / "cs.LG.rss"
    feed.write_bytes(rss)
    batch = load_papers(feed)
    assert [p.id for p in batch.papers] == ["arxiv:2411.01234", "arxiv:2411.04321"]
    # replacements only update stored papers: they never arrive as new ones
    assert [p.id for p in batch.revisions] == ["arxiv:2310.00001", "arxiv:2409.11111"]
    assert len(batch.skipped) == 3


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.jsonl", None),
        ("broken.json", b'[{"paper": '),
        ("latin1.jsonl", b"\xe9\xff"),
        ("page.html", b"<html><body>Rate limited</body></html>"),
    ],
)
def test_unreadable_files_raise_source_error(
    tmp_path: Path, name: str, content: bytes | None
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError):
        load_papers(path)


@pytest.mark.parametrize(
    "record",
    [
        None,
        "text",
        7,
        {"id": "nonsense", "title": "x"},
        {"id": "2411.00001"},
        {"id": "2411.00001", "title": "x", "abstract": 5},
        {"id": "2411.00001", "title": "x", "published": "last tuesday"},
        {"id": "2411.00001", "title": "x", "authors": "Ada"},
        {"id": "2411.00001", "title": "x", "doi": 10.1},
        {"id": "2411.00001", "title": "x", "ai_summary": ["a"]},
    ],
)
def test_bad_records(record: Any) -> None:
    with pytest.raises(ValueError):
        paper_from_record(record)
