"""Papers from files: JSONL of paperbot Paper records (`Paper.to_dict`, one a line),
a JSON array as saved from Hugging Face's daily_papers API, or an arXiv feed as saved
from the export API (Atom) or the announcement RSS. The format is detected from the
content: a file starting with `<` is a feed; in JSON, item by item, a line or array
element with a `paper` object and no `id` is a Hugging Face item, anything else a
Paper record.

`load_papers(path) -> FileLoad` is what `paperbot ingest --file` and
`paperbot match --file` read files with.
"""

from __future__ import annotations

import json
from codecs import BOM_UTF8
from functools import partial
from pathlib import Path
from typing import Any

from bot.ids import parse_paper_ref
from bot.models import Paper
from bot.sources.arxiv import parse_feed
from bot.sources.base import Batch
from bot.sources.http import SourceError
from bot.sources.huggingface import paper_from_hf_item

NAME = "file"

FileLoad = Batch
"""What a file held: `papers` (list[Paper]) and `skipped` (one reason per bad record)."""


def paper_from_record(data: Any) -> Paper:
    """A Paper from one decoded record (paperbot or Hugging Face shape); ValueError if bad.

    The id is made canonical (`2401.12345v2` -> `arxiv:2401.12345`, version 2); a
    record that names no source counts as from a file.
    """
    if isinstance(data, dict) and isinstance(data.get("paper"), dict) and "id" not in data:
        return paper_from_hf_item(data)
    if not isinstance(data, dict):
        raise ValueError("a paper record must be a JSON object")
    paper = Paper.from_dict(data)
    paper_id, version = parse_paper_ref(paper.id)
    record = paper.to_dict() | {"id": paper_id, "sources": list(paper.sources or (NAME,))}
    if version is not None and paper.version is None:
        record["version"] = version
    return Paper.from_dict(record)


def _line(text: str) -> Paper:
    return paper_from_record(json.loads(text))  # a JSONDecodeError is a ValueError


def load_papers(path: Path) -> FileLoad:
    """Every readable paper of a file; bad records are skipped with a reason each.

    Raises SourceError when the file cannot be read at all (missing, not UTF-8, an
    array that is not valid JSON, or XML that is no RSS or Atom feed). Of a feed,
    arXiv replacements are in `revisions`: they update stored papers, never add any.
    """
    try:
        raw = Path(path).read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    start = text.lstrip()[:1]
    if start == "<":
        return parse_feed(raw.removeprefix(BOM_UTF8).lstrip(), str(path))
    batch = Batch()
    if start == "[":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path} is not valid JSON: {exc}") from exc
        for index, item in enumerate(items):
            batch.collect(partial(paper_from_record, item), f"{path} item {index}")
        return batch
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            batch.collect(partial(_line, line), f"{path}:{number}")
    return batch
