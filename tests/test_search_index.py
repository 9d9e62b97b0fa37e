"""The paper index: catch-up by ingest sequence, rebuild when broken, sorting, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.models import Paper
from bot.query import parse
from bot.search import META, PaperIndex
from bot.store import Store

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def papers() -> list[Paper]:
    return [
        Paper(id="arxiv:1", title="Diffusion models", upvotes=3, published=NOW - timedelta(days=1)),
        Paper(
            id="arxiv:2", title="Diffusion policies", upvotes=50, published=NOW - timedelta(days=9)
        ),
        Paper(id="arxiv:3", title="Graph diffusion", upvotes=None, published=NOW),
    ]


async def test_catch_up_follows_the_store_and_survives_reopen(store: Store, tmp_path: Path) -> None:
    await store.put_papers(papers()[:2])
    index = await PaperIndex.open(tmp_path / "index")
    assert await index.catch_up(store) == 2
    await store.put_papers(papers()[2:])
    assert await index.catch_up(store) == 1
    await index.close()
    again = await PaperIndex.open(tmp_path / "index")
    assert await again.catch_up(store) == 0 and await again.count() == 3
    await again.close()


async def test_an_updated_paper_is_reindexed_not_duplicated(tmp_path: Path) -> None:
    index = await PaperIndex.open(tmp_path / "index")
    await index.add(papers())
    await index.add([Paper(id="arxiv:1", title="Renamed entirely", seq=1)])
    assert await index.count() == 3
    assert [h.paper_id for h in await index.search(parse("renamed"))] == ["arxiv:1"]
    assert "arxiv:1" not in [h.paper_id for h in await index.search(parse("models"))]
    await index.close()


async def test_missing_or_corrupt_index_is_rebuilt(store: Store, tmp_path: Path) -> None:
    await store.put_papers(papers())
    path = tmp_path / "index"
    index = await PaperIndex.open(path)
    await index.catch_up(store)
    await index.close()
    (path / META).write_text("{not json")
    for f in path.iterdir():
        if f.suffix in (".idx", ".store", ".term") or f.name == "meta.json":
            f.write_bytes(b"garbage")
    rebuilt = await PaperIndex.open(path)
    assert await rebuilt.count() == 0 and rebuilt.seq == 0
    assert await rebuilt.catch_up(store) == 3
    assert len(await rebuilt.search(parse("diffusion"), limit=None)) == 3
    await rebuilt.close()


async def test_sorts_and_filters(tmp_path: Path) -> None:
    index = await PaperIndex.open(tmp_path / "index")
    await index.add(papers())
    q = parse("diffusion")
    by_date = [h.paper_id for h in await index.search(q, sort="date", limit=None)]
    assert by_date == ["arxiv:3", "arxiv:1", "arxiv:2"]
    by_votes = [h.paper_id for h in await index.search(q, sort="upvotes", limit=None)]
    assert by_votes[0] == "arxiv:2"
    recent = await index.search(q, since=NOW - timedelta(days=2), limit=None)
    assert {h.paper_id for h in recent} == {"arxiv:1", "arxiv:3"}
    old = await index.search(q, until=NOW - timedelta(days=5), limit=None)
    assert [h.paper_id for h in old] == ["arxiv:2"]
    assert len(await index.search(q, limit=2)) == 2
    assert len(await index.search(None, limit=None)) == 3
    await index.close()


def test_reindex_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text('{"id": "2411.00001", "title": "Diffusion"}\n')
    assert (
        runner.invoke(main, ["--data-dir", str(tmp_path), "ingest", "--file", str(jsonl)]).exit_code
        == 0
    )
    result = runner.invoke(main, ["--data-dir", str(tmp_path), "reindex"])
    assert result.exit_code == 0 and result.stdout.strip() == "indexed=1"
