"""Pipeline benchmark: new papers -> router -> outbox -> delivery to a no-op adapter,
and /papers search latency through the command core over a large corpus.

    python bench/pipeline.py --papers 2000 --channels 1000

Last line: papers=N channels=C posts=P seconds=S posts_per_s=R command_p99_ms=M
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import machine, papers, queries, speed, vocabulary

from bot.commands import Core, RateLimit
from bot.delivery import Delivery
from bot.messages import Actor, Command, MessageRef, Reply
from bot.models import Destination
from bot.query import QueryError, parse
from bot.routing import Router
from bot.search import PaperIndex
from bot.store import DuplicateSubscription, open_store


class NoOpAdapter:
    """Confirms every post at once, counting cards."""

    platform = "console"

    def __init__(self) -> None:
        self.cards = 0
        self.messages = 0

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Nothing to stop."""

    async def send(
        self, destination: Destination, reply: Reply, thread: MessageRef | None = None
    ) -> MessageRef:
        self.cards += len(reply.cards)
        self.messages += 1
        return MessageRef(destination, str(self.messages))


def subscription_queries(count: int, seed: int = 3) -> list[str]:
    """Channel-like topics: specific words (not the most common ones), phrases, NOTs."""
    rng = random.Random(seed)
    common, specific = vocabulary(20_000)[:100], vocabulary(20_000)[300:3000]
    out: list[str] = []
    while len(out) < count:
        a, b = rng.sample(specific, 2)
        c = rng.choice(common)
        shape = rng.randrange(4)
        if shape == 0:
            out.append(f'"{a} {b}"')
        elif shape == 1:
            out.append(f"{a} {b} -{c}")
        elif shape == 2:
            out.append(f"({a} OR {b}) {c}")
        else:
            out.append(f"{a[:4]}* {b}")
        try:
            parse(out[-1])
        except QueryError:
            out.pop()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--papers", type=int, default=2000)
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--corpus", type=int, default=100_000, help="papers for search latency")
    parser.add_argument("--commands", type=int, default=1000)
    args = parser.parse_args()
    print(machine())
    print(speed())
    corpus = papers(args.corpus + args.papers, seed=11)
    fresh = corpus[-args.papers :]
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(f"sqlite:///{tmp}/bench.db")
        topics = subscription_queries(args.channels * 2)
        rng = random.Random(5)
        n = 0
        for ch in range(args.channels):
            dest = Destination("console", "default", f"ch{ch}")
            for _ in range(rng.randint(1, 3)):
                with contextlib.suppress(DuplicateSubscription):
                    await store.add_subscription(dest, rng.choice(topics))
                    n += 1
        await store.put_papers(corpus[: args.corpus])
        index = await PaperIndex.open(Path(tmp) / "index")
        await index.catch_up(store)
        router = Router(store)
        await router.sync()
        await store.set_cursor("router", str(args.corpus))
        await store.put_papers(fresh)
        adapter = NoOpAdapter()
        delivery = Delivery(store, {"console": adapter}, max_per_post=5, pacing=0)
        started = time.perf_counter()
        routed = await router.catch_up(max_age=timedelta(days=36500))  # synthetic dates
        report = await delivery.run_once()
        seconds = time.perf_counter() - started
        assert report.posted == routed.queued == adapter.cards, (report, routed)
        core = Core(store, index, rate_limit=RateLimit(per_minute=1e9, burst=10**9))
        where = Destination("console", "default", "ch0")
        timings = []
        for text in queries(args.commands, seed=9):
            command = Command(f"search {text}", where, Actor("bench"))
            t0 = time.perf_counter()
            reply = await core.handle(command)
            timings.append((time.perf_counter() - t0) * 1000)
            assert not reply.is_error, (text, reply.text)
        await index.close()
        await store.close()
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(speed())  # after the run: the machine may have changed pace
    print(f"subscriptions={n} matched_pairs={routed.queued} messages={adapter.messages}")
    print(
        f"papers={args.papers} channels={args.channels} posts={report.posted} "
        f"seconds={seconds:.2f} posts_per_s={report.posted / seconds:.0f} command_p99_ms={p99:.1f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
