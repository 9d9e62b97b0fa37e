"""Ingest benchmark: an HF-shaped daily_papers payload through MockTransport into each store.

    python bench/ingest.py --papers 20000

Each backend gets the whole path of a real poll, timed end to end: paginated GETs
(100 items a page) through the shared client and fetcher, JSON decoding, item
checks and Paper building, then `store_batch` (put_papers in chunks of 1000). The
fetch+parse and store parts are also printed separately, so a slow part shows.

SQLite goes to a temporary directory; Redis to PAPERBOT_BENCH_REDIS_URL (default
redis://127.0.0.1:6379/11), flushed before and after.
Last line: papers=N sqlite_papers_per_s=R redis_papers_per_s=R
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
from typing import Any

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import machine, papers, speed

from bot.pipeline import store_batch
from bot.sources.http import Fetcher, make_client
from bot.sources.huggingface import HuggingFaceSource
from bot.store import open_store

PAGE = 100
DAY = date(2026, 11, 24)


def hf_items(count: int) -> list[dict[str, Any]]:
    """Daily-papers items shaped like the real API's (extras inside `paper`)."""
    items: list[dict[str, Any]] = []
    for n, p in enumerate(papers(count)):
        arxiv_id = f"{2601 + n // 100_000}.{n % 100_000:05d}"  # a real month (corpus uses 00)
        published = p.published.isoformat() if p.published else None
        items.append(
            {
                "paper": {
                    "id": arxiv_id,
                    "authors": [
                        {"_id": f"a{i}", "name": a, "hidden": False}
                        for i, a in enumerate(p.authors)
                    ],
                    "publishedAt": published,
                    "title": p.title,
                    "summary": p.abstract,
                    "upvotes": p.upvotes or 0,
                    "discussionId": f"d{n}",
                    "ai_summary": p.abstract[:200],
                    "ai_keywords": p.title.lower().split()[:3],
                    "githubRepo": None,
                },
                "publishedAt": published,
                "title": p.title,
                "summary": p.abstract,
                "thumbnail": f"https://cdn-thumbnails.huggingface.co/{arxiv_id}.png",
                "numComments": 0,
                "submittedBy": {"_id": "u1", "name": "akhaliq", "type": "user"},
            }
        )
    return items


async def run(url: str, pages: list[bytes], expected: int) -> tuple[float, float, float]:
    """(total, fetch+parse, store) seconds of one ingest into the store at `url`."""

    def handler(request: httpx.Request) -> httpx.Response:
        """Page `p` of the payload; an empty array past the end."""
        page = int(request.url.params["p"])
        return httpx.Response(200, content=pages[page] if page < len(pages) else b"[]")

    store = await open_store(url)
    client = make_client(30, httpx.MockTransport(handler))
    source = HuggingFaceSource(
        Fetcher(client), "http://hf.bench", page_size=PAGE, max_pages=len(pages) + 1
    )
    try:
        started = time.perf_counter()
        batch = await source.fetch_day(DAY)
        fetched = time.perf_counter()
        report = await store_batch(store, batch)
        done = time.perf_counter()
    finally:
        await client.aclose()
        await store.close()
    if report.new != expected or report.skipped:
        raise SystemExit(f"{url}: expected {expected} new papers, got {report.line()}")
    print(f"  {report.line()}")
    return done - started, fetched - started, done - fetched


async def main() -> None:
    """Build the payload, ingest it into SQLite and Redis, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20_000)
    args = parser.parse_args()
    print(machine())
    print(speed())
    items = hf_items(args.papers)
    pages = [json.dumps(items[i : i + PAGE]).encode() for i in range(0, len(items), PAGE)]
    print(f"payload: {len(pages)} pages, {sum(map(len, pages)) / 1e6:.1f} MB of JSON")
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rates["sqlite"] = await _one("sqlite", f"sqlite:///{tmp}/bench.db", pages, args.papers)
    redis_url = os.environ.get("PAPERBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
    redis.Redis.from_url(redis_url).flushdb()
    try:
        rates["redis"] = await _one("redis", redis_url, pages, args.papers)
    finally:
        redis.Redis.from_url(redis_url).flushdb()
    print(speed())  # after the run: the machine may have changed pace
    print(
        f"papers={args.papers} sqlite_papers_per_s={rates['sqlite']:.0f} "
        f"redis_papers_per_s={rates['redis']:.0f}"
    )


async def _one(name: str, url: str, pages: list[bytes], count: int) -> float:
    print(f"{name}:")
    total, fetch, store = await run(url, pages, count)
    print(
        f"  total {total:.2f}s = fetch+parse {fetch:.2f}s ({count / fetch:.0f}/s) "
        f"+ store {store:.2f}s ({count / store:.0f}/s)"
    )
    return count / total


if __name__ == "__main__":
    asyncio.run(main())
