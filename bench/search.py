"""Search benchmark: index a synthetic corpus, then time 1,000 mixed queries.

    python bench/search.py --papers 100000

Last line: papers=N index_papers_per_s=R p50_ms=A p99_ms=B index_mb=C
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import machine, papers, queries, speed

from bot.query import parse
from bot.search import PaperIndex


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()
    print(machine())
    print(speed())
    corpus = papers(args.papers)
    mix = [parse(q) for q in queries(args.queries)]
    with tempfile.TemporaryDirectory() as tmp:
        index = await PaperIndex.open(Path(tmp) / "index")
        started = time.perf_counter()
        for i in range(0, len(corpus), args.batch):
            await index.add(corpus[i : i + args.batch])
        index_s = time.perf_counter() - started
        assert await index.count() == len(corpus)
        for q in mix[:20]:  # warm up
            await index.search(q, limit=5)
        timings = []
        for q in mix:
            t0 = time.perf_counter()
            await index.search(q, limit=5)
            timings.append((time.perf_counter() - t0) * 1000)
        await index.close()
        size = _size_mb(Path(tmp) / "index")
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(speed())  # after the run: the machine may have changed pace
    print(
        f"papers={args.papers} index_papers_per_s={args.papers / index_s:.0f} "
        f"p50_ms={p50:.2f} p99_ms={p99:.2f} index_mb={size:.1f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
