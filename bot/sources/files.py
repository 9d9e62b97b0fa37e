"""Papers from files: JSONL of paperbot Paper records, or a Hugging Face daily_papers
JSON array (as saved from the API). The format is detected from the content."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from bot.ids import parse_paper_ref
from bot.models import Paper
from bot.sources.base import Batch
from bot.sources.http import SourceError
from bot.sources.huggingface import papers_from_items

FileLoad = Batch
NAME = "file"


def _record(line: str) -> Paper:
    data = json.loads(line)  # JSONDecodeError is a ValueError: the line is skipped
    if isinstance(data, dict) and "paper" in data and "id" not in data:
        from bot.sources.huggingface import paper_from_hf_item

        return paper_from_hf_item(data)
    paper = Paper.from_dict(data)  # type: ignore[arg-type]
    paper_id, version = parse_paper_ref(paper.id)
    sources = paper.sources or (NAME,)
    return Paper.from_dict(
        {**paper.to_dict(), "id": paper_id, "sources": list(sources)}
        | ({"version": version} if version and not paper.version else {})
    )


def load_papers(path: Path) -> FileLoad:
    """Every readable paper of a file; bad records are skipped with a reason each.

    Raises SourceError when the file cannot be read at all.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path} is not valid JSON: {exc}") from exc
        return papers_from_items(items, str(path))
    batch = Batch()
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            batch.collect(partial(_record, line), f"{path}:{number}")
    return batch
