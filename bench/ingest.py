"""Ingest benchmark: an HF-shaped daily_papers payload through MockTransport into each store.

    python bench/ingest.py --papers 20000

Last line: papers=N sqlite_papers_per_s=R redis_papers_per_s=R
(Redis at PAPERBOT_BENCH_REDIS_URL, default redis://127.0.0.1:6379/11, flushed.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import machine, papers

from bot.pipeline import IngestReport, store_batch
from bot.sources.http import Fetcher, make_client
from bot.sources.huggingface import HuggingFaceSource
from bot.store import open_store

PAGE = 100


def hf_items(count: int) -> list[dict[str, object]]:
    """Daily-papers items shaped like the real API's."""
    items = []
    for p in papers(count):
        items.append(
            {
                "paper": {
                    "id": p.id.removeprefix("arxiv:"),
                    "authors": [
                        {"_id": f"a{i}", "name": a, "hidden": False}
                        for i, a in enumerate(p.authors)
                    ],
                    "publishedAt": p.published.isoformat() if p.published else None,
                    "title": p.title,
                    "summary": p.abstract,
                    "upvotes": p.upvotes or 0,
                    "ai_summary": p.abstract[:200],
                    "ai_keywords": p.title.lower().split()[:3],
                    "githubRepo": None,
                },
                "publishedAt": p.published.isoformat() if p.published else None,
                "title": p.title,
                "thumbnail": "https://cdn-thumbnails.huggingface.co/x.png",
                "numComments": 0,
            }
        )
    return items


async def run(url: str, pages: list[bytes]) -> tuple[float, IngestReport]:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["p"])
        return httpx.Response(200, content=pages[page] if page < len(pages) else b"[]")

    store = await open_store(url)
    client = make_client(30, httpx.MockTransport(handler))
    source = HuggingFaceSource(Fetcher(client), "http://hf.bench", page_size=PAGE)
    started = time.perf_counter()  # fetch, parse, merge and store, timed whole
    report = IngestReport()
    batch = await source.fetch_day(date(2026, 11, 24))
    report.add(await store_batch(store, batch))
    elapsed = time.perf_counter() - started
    await client.aclose()
    await store.close()
    return elapsed, report


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=20_000)
    args = parser.parse_args()
    print(machine())
    items = hf_items(args.papers)
    pages = [json.dumps(items[i : i + PAGE]).encode() for i in range(0, len(items), PAGE)]
    import bot.sources.huggingface as hf

    hf.MAX_PAGES = len(pages) + 1
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_s, sqlite_report = await run(f"sqlite:///{tmp}/bench.db", pages)
    redis_url = os.environ.get("PAPERBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
    redis.Redis.from_url(redis_url).flushdb()
    redis_s, redis_report = await run(redis_url, pages)
    redis.Redis.from_url(redis_url).flushdb()
    assert sqlite_report.new == redis_report.new == args.papers, (sqlite_report, redis_report)
    print(f"sqlite: {sqlite_report.line()} in {sqlite_s:.2f}s")
    print(f"redis: {redis_report.line()} in {redis_s:.2f}s")
    print(
        f"papers={args.papers} sqlite_papers_per_s={args.papers / sqlite_s:.0f} "
        f"redis_papers_per_s={args.papers / redis_s:.0f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
