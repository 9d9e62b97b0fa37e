"""The paper index: tantivy, fed with bot/text.py tokens, queried with the query AST.

Search and matching share one analyzer, so `search(Q)` returns a paper exactly when
a subscription to Q matches it (tests/test_search_contract.py holds both to it).
The index follows the store's ingest sequence: `catch_up` indexes every paper past
the last one it saw (kept in `paperbot-index.json` beside the index), and a missing
or unreadable index is rebuilt from the store, never fatal.

Ranking (`sort="relevance"`): BM25 over title (boosted x2) and abstract, then a
small multiplicative boost for HF upvotes (1 + 0.05 * log2(1 + upvotes)) and for
recency (1 + 0.2 * 0.5 ** (age_days / 30)). `date` and `upvotes` sort by that field.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import shutil
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import tantivy

from bot.models import Paper, SearchHit, utcnow
from bot.query import Query
from bot.search_query import FIELDS_TEXT, to_tantivy
from bot.store import Store
from bot.text import paper_fields

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
META = "paperbot-index.json"
RERANK_POOL = 200
SORTS = ("relevance", "date", "upvotes")


def build_schema() -> tantivy.Schema:
    """The index schema (pre-tokenized text fields use positions for phrases)."""
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in FIELDS_TEXT:
        sb.add_text_field(name, tokenizer_name="raw")
    sb.add_text_field("cat", tokenizer_name="raw")
    sb.add_text_field("source", tokenizer_name="raw")
    sb.add_integer_field("published", stored=True, indexed=True, fast=True)
    sb.add_integer_field("upvotes", stored=True, indexed=True, fast=True)
    return sb.build()


def _tokens(tokens: Sequence[tuple[str, int, int]]) -> tantivy.PreTokenizedString:
    return tantivy.PreTokenizedString(
        "", [tantivy.Token(t[0], t[1], t[1], t[1] + 1) for t in tokens]
    )


def to_document(paper: Paper) -> tantivy.Document:
    """A paper as a tantivy document."""
    fields = paper_fields(paper)
    doc = tantivy.Document()
    doc.add_text("id", paper.id)
    for name in FIELDS_TEXT:
        if fields[name]:
            doc.add_pre_tokenized_text(name, _tokens(fields[name]))
    for name in ("cat", "source"):
        for token in fields[name]:
            doc.add_text(name, token[0])
    doc.add_integer("published", int(paper.published.timestamp()) if paper.published else 0)
    doc.add_integer("upvotes", paper.upvotes or 0)
    return doc


class PaperIndex:
    """Full-text index of every paper in the store."""

    def __init__(self, path: Path, index: tantivy.Index, seq: int) -> None:
        self.path = path
        self._index = index
        self._schema = index.schema
        self._writer: tantivy.IndexWriter | None = None
        self.seq = seq
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> PaperIndex:
        """Open the index at `path`, creating (or, if unreadable, recreating) it."""
        return await asyncio.to_thread(cls._open, Path(path))

    @classmethod
    def _open(cls, path: Path) -> PaperIndex:
        path.mkdir(parents=True, exist_ok=True)
        meta = path / META
        try:
            seq = 0
            if meta.exists():
                data = json.loads(meta.read_text())
                if data.get("schema") != SCHEMA_VERSION:
                    raise ValueError(f"index schema {data.get('schema')} is not {SCHEMA_VERSION}")
                seq = int(data["seq"])
            elif any(path.iterdir()):
                raise ValueError("index files without paperbot-index.json")
            index = tantivy.Index(build_schema(), path=str(path), reuse=True)
            index.searcher().num_docs  # noqa: B018 - reading proves the index is usable
        except Exception as exc:
            log.warning("search index at %s is unusable (%s); rebuilding it", path, exc)
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True, exist_ok=True)
            index, seq = tantivy.Index(build_schema(), path=str(path)), 0
        return cls(path, index, seq)

    def _write(self, papers: Sequence[Paper], seq: int | None) -> None:
        if self._writer is None:
            self._writer = self._index.writer(heap_size=64_000_000, num_threads=1)
        writer = self._writer
        for paper in papers:
            writer.delete_documents_by_term("id", paper.id)
            writer.add_document(to_document(paper))
        writer.commit()
        if seq is not None and seq > self.seq:
            self.seq = seq
        tmp = self.path / (META + ".tmp")
        tmp.write_text(json.dumps({"schema": SCHEMA_VERSION, "seq": self.seq}))
        tmp.replace(self.path / META)
        self._index.reload()

    async def add(self, papers: Sequence[Paper]) -> None:
        """Index (or re-index) papers; advances the catch-up mark to their highest seq."""
        if not papers:
            return
        top = max((p.seq for p in papers if p.seq is not None), default=None)
        async with self._lock:
            await asyncio.to_thread(self._write, list(papers), top)

    async def catch_up(
        self, store: Store, batch: int = 2000, progress: Callable[[int], None] | None = None
    ) -> int:
        """Index every stored paper past the last one indexed; returns how many."""
        done = 0
        while papers := await store.papers_after(self.seq, limit=batch):
            await self.add(papers)
            self.seq = max(self.seq, papers[-1].seq or 0)
            done += len(papers)
            if progress is not None:
                progress(len(papers))
        return done

    async def rebuild(self, store: Store, progress: Callable[[int], None] | None = None) -> int:
        """Drop the index and index the whole store again."""
        async with self._lock:

            def clear() -> None:
                if self._writer is None:
                    self._writer = self._index.writer(heap_size=64_000_000, num_threads=1)
                self._writer.delete_all_documents()
                self._writer.commit()
                self._index.reload()

            await asyncio.to_thread(clear)
            self.seq = 0
        return await self.catch_up(store, progress=progress)

    async def count(self) -> int:
        """How many papers are indexed."""
        return int(self._index.searcher().num_docs)

    async def search(
        self,
        query: Query | None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "relevance",
        limit: int | None = 5,
    ) -> list[SearchHit]:
        """Papers matching `query` (every paper for None), best first by `sort`."""
        if sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}")
        return await asyncio.to_thread(self._search, query, since, until, sort, limit)

    def _search(
        self,
        query: Query | None,
        since: datetime | None,
        until: datetime | None,
        sort: str,
        limit: int | None,
    ) -> list[SearchHit]:
        schema = self._schema
        base = to_tantivy(query, schema) if query is not None else tantivy.Query.all_query()
        clauses = [(tantivy.Occur.Must, base)]
        if since is not None or until is not None:
            clauses.append(
                (
                    tantivy.Occur.Must,
                    tantivy.Query.range_query(
                        schema,
                        "published",
                        tantivy.FieldType.Integer,
                        int(since.timestamp()) if since else None,
                        int(until.timestamp()) if until else None,
                    ),
                )
            )
        tq = clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)
        searcher = self._index.searcher()
        total = searcher.num_docs
        if total == 0:
            return []
        want = total if limit is None else min(limit, total)
        if sort != "relevance":
            field = "published" if sort == "date" else "upvotes"
            result = searcher.search(tq, limit=want, order_by_field=field)
            return [self._hit(searcher, addr, float(key)) for key, addr in result.hits]
        pool = total if limit is None else min(total, max(RERANK_POOL, 4 * want))
        result = searcher.search(tq, limit=pool)
        now = utcnow().timestamp()
        scored = []
        for score, addr in result.hits:
            doc = searcher.doc(addr)
            upvotes = doc.get_first("upvotes") or 0
            published = doc.get_first("published") or 0
            age_days = max(0.0, (now - published) / 86400) if published else 365.0
            boost = (1 + 0.05 * math.log2(1 + upvotes)) * (1 + 0.2 * 0.5 ** (age_days / 30))
            scored.append(SearchHit(str(doc.get_first("id")), float(score) * boost))
        scored.sort(key=lambda h: (-h.score, h.paper_id))
        return scored[:want]

    def _hit(self, searcher: tantivy.Searcher, addr: tantivy.DocAddress, key: float) -> SearchHit:
        return SearchHit(str(searcher.doc(addr).get_first("id")), key)

    async def close(self) -> None:
        """Finish pending merges and release the writer."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await asyncio.to_thread(writer.wait_merging_threads)
