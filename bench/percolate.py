"""Percolator throughput: papers matched per second against N subscriptions, on one core.

    python bench/percolate.py --subscriptions 100000 --papers 5000

Synthetic and seeded (no downloads): a Zipf vocabulary of real ML words and phrases
(and made-up words for the long tail), papers of ~1,500 characters written from
function words and Zipf-drawn content words (plurals, hyphenated terms, some LaTeX),
2-8 authors from 50,000 names, 1-3 arXiv categories, and subscriptions of 1-3
clauses: words, phrases, OR groups, prefixes, `title:`, `author:`, and, after the
first clause, `cat:` and NOTs. Subscription words skip the 2,000 most frequent
words (nobody subscribes to "model"; phrases and the less frequent real words are
spread over ranks 2,000-19,000), so that a subscription matches about 0.07% of
papers on average (most match none): an alert that brings a few papers a week out
of arXiv's ~6,000 CS papers, i.e. ~65 hits per paper at 100,000 subscriptions.
`--broad` doubles that (real words and phrases at ranks 300-5,000, 2,000 author
names). Throughput falls as hits per paper rise: every hit is a Python object.

The index matches with the native kernel (bot/_percolate.c) when it was built, else
in Python; `--engine` picks one, and the last line names it (`engine=`).

The naive baseline evaluates every subscription on every paper of a sample, in the
same process; `agree` says the index produced exactly the same hits on that sample.
The last line is `key=value` pairs; `index_mb` is the growth of the process's
resident memory while the index was built.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import machine, speed

from bot.matcher import SubscriptionIndex, TermStats
from bot.models import Hit, Paper
from bot.query import Query, parse
from bot.query_eval import Doc, compile_query, matched_terms

FUNCTION = (
    "the of and a to in we for is that on with by as this are from our an be which it "
    "can at or show their these both not using while than over into such its also two "
    "three across under between without each more most only new other first"
).split()

CONTENT = (
    "model learning data training method task performance results language large "
    "approach image representation generation framework dataset benchmark transformer "
    "attention diffusion reinforcement policy agent robot reasoning vision text graph "
    "optimization loss gradient inference evaluation prompt embedding token sequence "
    "latent generative adversarial contrastive federated privacy robustness domain "
    "generalization adaptation transfer retrieval segmentation detection tracking depth "
    "video audio speech multimodal alignment preference reward feedback human safety "
    "interpretability explanation causal uncertainty calibration bayesian sampling "
    "distillation compression quantization pruning sparse mixture expert scaling law "
    "planning navigation manipulation control simulation physics molecular protein "
    "medical clinical forecasting anomaly recommendation ranking search code program "
    "synthesis theorem proof symbolic kernel convex stochastic variance convergence "
    "bound theoretical empirical baseline experiment novel efficient scalable robust "
    "hierarchical recurrent convolutional autoregressive masked denoising score flow "
    "matching energy equivariant geometric cloud mesh gaussian rendering scene question "
    "answering summarization translation dialogue instruction hallucination factuality "
    "knowledge editing memory mamba spiking neuromorphic hardware accelerator latency "
    "throughput encoder decoder tokenizer vocabulary corpus annotation label supervision "
    "classifier regression clustering manifold topology spectral wavelet fourier "
    "operator pde solver trajectory locomotion grasping tactile lidar radar satellite "
    "weather climate genomics drug chemistry material crystal quantum circuit compiler "
    "verification fairness bias toxicity jailbreak watermark membership unlearning "
    "curriculum exploration imitation demonstration offline online bandit regret game "
    "auction market finance tabular ensemble boosting forest attention head layer "
    "residual normalization activation initialization optimizer momentum schedule "
    "batch epoch checkpoint parameter adapter lora prefix tuning merging routing "
    "speculative decoding cache pipeline parallelism sharding cluster gpu"
).split()

PHRASES = (
    "diffusion policy|in-context learning|large language models|graph neural networks|"
    "domain generalization|reinforcement learning from human feedback|chain-of-thought|"
    "vision-language models|neural radiance fields|gaussian splatting|mixture of experts|"
    "state-space models|retrieval-augmented generation|self-supervised learning|"
    "few-shot learning|zero-shot transfer|contrastive learning|federated learning|"
    "differential privacy|adversarial robustness|out-of-distribution detection|"
    "knowledge distillation|model compression|instruction tuning|preference optimization|"
    "reward modeling|world models|offline reinforcement learning|imitation learning|"
    "policy gradient|score matching|flow matching|variational inference|"
    "bayesian optimization|neural architecture search|continual learning|"
    "multi-agent systems|speech recognition|machine translation|question answering|"
    "object detection|semantic segmentation|pose estimation|image generation|"
    "text-to-image|video generation|point clouds|protein structure prediction|"
    "drug discovery|time-series forecasting|anomaly detection|recommender systems|"
    "code generation|theorem proving|mathematical reasoning|long-context|"
    "state-of-the-art|end-to-end|fine-tuning|pre-training|test-time compute|"
    "sparse autoencoders|mechanistic interpretability|red teaming|jailbreak attacks"
).split("|")

FIRST = (
    "Chelsea Sergey Pieter Yann Yoshua Fei-Fei Andrew Percy Dan Jan Alex Ilya Oriol "
    "Quoc Kaiming Ross Jitendra Trevor Michael Daphne Anima Raia Ruslan Tom Hugo "
    "Naomi Emma Sofia Lukas Mei Wei Jun Hiroshi Priya Ana José Zoë Søren Łukasz"
).split()
LAST = (
    "Finn Levine Abbeel LeCun Bengio Li Ng Liang Hendrycks Leike Krizhevsky Sutskever "
    "Vinyals Le He Girshick Malik Darrell Jordan Koller Anandkumar Hadsell Salakhutdinov "
    "Mitchell Larochelle Müller García Schmidt Zhang Wang Chen Tanaka Sharma Kowalski "
    "Nielsen Dubois Rossi Novak Ivanova"
).split()
CATEGORIES = (
    "cs.LG cs.CL cs.CV cs.AI cs.RO stat.ML cs.NE cs.IR cs.CR cs.SD eess.AS eess.IV "
    "cs.HC cs.DC cs.SE math.OC q-bio.QM physics.comp-ph cs.MA cs.GT"
).split()


class Zipf:
    """Seeded draws with probability ~ 1/rank."""

    def __init__(self, items: list[str], rng: random.Random, skip: int = 0) -> None:
        """Rank `items` in order, leaving out the `skip` most frequent."""
        self.items = items[skip:]
        self.rng = rng
        weights = [1.0 / (rank + 1 + skip) for rank in range(len(self.items))]
        total = 0.0
        self.cumulative = []
        for w in weights:
            total += w
            self.cumulative.append(total)

    def draw(self, k: int = 1) -> list[str]:
        """k items, with replacement."""
        return self.rng.choices(self.items, cum_weights=self.cumulative, k=k)


def vocabulary(size: int, rng: random.Random, spread: tuple[int, int]) -> list[str]:
    """Ranked words: 100 frequent real words, then word-like inventions among which the
    other real words and the phrases are spread over the ranks `spread`."""
    head, rest = CONTENT[:100], [*CONTENT[100:], *PHRASES]
    rng.shuffle(rest)
    words = list(head)
    syllables = "ra to mi ne ka lu so vi de po ti gra bel cor fen mor zan quin".split()
    seen = set(CONTENT)
    while len(words) < size - len(rest):
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    lo, hi = spread
    step = (hi - lo) // len(rest)
    for i, word in enumerate(rest):
        words.insert(lo + step * i, word)
    return words


def names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct author names from real first names and made-up family names."""
    syllables = "an ber chen da el fo gu ha is jo ka lin mo nu ov pe ro sa ta ul va wen".split()
    out: dict[str, None] = {}
    while len(out) < count:
        family = (
            rng.choice(LAST)
            if rng.random() < 0.2
            else "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))).capitalize()
        )
        out[f"{rng.choice(FIRST)} {family}"] = None
    return list(out)


class Corpus:
    """Seeded papers and subscription queries over one vocabulary."""

    def __init__(self, seed: int, broad: bool = False, vocab_size: int = 20_000) -> None:
        """A seeded vocabulary, author names and the draws over them."""
        self.rng = random.Random(seed)
        spread = (300, 5000) if broad else (2000, 19000)
        self.vocab = vocabulary(vocab_size, self.rng, spread)
        self.content = Zipf(self.vocab, self.rng)
        self.topical = Zipf(self.vocab, self.rng, skip=1000 if broad else 2000)
        self.stems = [w for w in CONTENT[100:] if len(w) >= 7]
        self.names = names(self.rng, 2000 if broad else 50_000)
        self.cats = Zipf(CATEGORIES, self.rng)

    def _item(self) -> str:
        rng = self.rng
        if rng.random() < 0.45:
            return rng.choice(FUNCTION)
        word = self.content.draw()[0]
        roll = rng.random()
        if roll < 0.15 and " " not in word:
            return word + ("es" if word.endswith(("s", "x", "ch")) else "s")
        if roll < 0.17:
            return f"$\\mathcal{{{word[:1].upper()}}}$"
        return word

    def paper(self, i: int) -> Paper:
        """One paper of about 1,500 characters of abstract."""
        rng = self.rng
        sentences: list[str] = []
        length = 0
        while length < 1500:
            sentence = " ".join(self._item() for _ in range(rng.randint(10, 25)))
            sentences.append(sentence[:1].upper() + sentence[1:] + rng.choice("..;.!?."))
            length += len(sentences[-1]) + 1
        return Paper(
            id=f"arxiv:2601.{i:05d}",
            title=" ".join(self.content.draw(rng.randint(5, 10))).title(),
            abstract=" ".join(sentences),
            authors=tuple(rng.choice(self.names) for _ in range(rng.randint(2, 8))),
            categories=tuple(dict.fromkeys(self.cats.draw(rng.randint(1, 3)))),
            sources=tuple(rng.sample(["arxiv", "huggingface"], rng.randint(1, 2))),
        )

    def _word(self) -> str:
        word = self.topical.draw()[0]
        return f'"{word}"' if " " in word else word

    def _clause(self, first: bool) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:
            clause = self._word()
        elif roll < 0.50:
            if rng.random() < 0.6:
                clause = '"' + rng.choice(PHRASES) + '"'
            else:
                clause = '"' + " ".join(self.topical.draw(2)) + '"'
        elif roll < 0.60:
            clause = "(" + " OR ".join(self._word() for _ in range(rng.randint(2, 3))) + ")"
        elif roll < 0.70:
            word = rng.choice(self.stems)
            clause = word[: max(6, len(word) - 2)] + "*"
        elif roll < 0.80:
            clause = "title:" + self._word()
        elif roll < 0.95 or first:
            clause = f'author:"{rng.choice(self.names)}"'
        else:
            clause = "cat:" + self.cats.draw()[0]
        if not first and rng.random() < 0.2:
            return "-" + clause
        return clause

    def query(self) -> str:
        """A subscription of 1-3 clauses; clauses after the first may be NOTs or cat:."""
        n = self.rng.choices((1, 2, 3), weights=(15, 45, 40))[0]
        return " ".join(self._clause(i == 0) for i in range(n))


def rss_mb() -> float:
    """Resident memory of this process in MB."""
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def naive(subs: list[tuple[str, str]], papers: list[Paper]) -> tuple[float, list[set[Hit]]]:
    """Every subscription evaluated on every paper: (papers per second, hits per paper)."""
    compiled: list[tuple[str, Query, Callable[[Doc], bool]]] = []
    for sub_id, text in subs:
        query = parse(text)
        compiled.append((sub_id, query, compile_query(query)))
    out: list[set[Hit]] = []
    start = time.perf_counter()
    for paper in papers:
        doc = Doc(paper)
        out.append(
            {
                Hit(sub_id, paper.id, matched_terms(query, doc))
                for sub_id, query, predicate in compiled
                if predicate(doc)
            }
        )
    return len(papers) / (time.perf_counter() - start), out


def main() -> None:
    """Run the benchmark and print the result line last."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscriptions", type=int, default=100_000)
    ap.add_argument("--papers", type=int, default=5_000)
    ap.add_argument("--naive-sample", type=int, default=50, help="papers for the naive baseline")
    ap.add_argument("--stats-papers", type=int, default=2_000, help="papers for term statistics")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--broad", action="store_true", help="broader subscriptions (see above)")
    ap.add_argument("--profile", action="store_true", help="cProfile the matching loop")
    ap.add_argument(
        "--engine",
        choices=("native", "python"),
        help="matcher to run (default: native when bot/_percolate.c was built)",
    )
    ap.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="leave the index in the collector's generations (the router freezes it)",
    )
    args = ap.parse_args()
    print(machine())
    print(speed())

    corpus = Corpus(args.seed, broad=args.broad)
    subs = [(f"s{i}", corpus.query()) for i in range(args.subscriptions)]
    papers = [corpus.paper(i) for i in range(args.papers)]
    history = [corpus.paper(10**5 + i) for i in range(args.stats_papers)]
    print(f"example paper: {papers[0].title!r}: {papers[0].abstract[:160]!r}...")
    print("example subscriptions: " + " | ".join(q for _, q in subs[:8]))

    stats = TermStats.from_papers(history)  # as at start-up: recent papers from the store
    before = rss_mb()
    start = time.perf_counter()
    native = None if args.engine is None else args.engine == "native"
    index = SubscriptionIndex(stats, native=native)
    for sub_id, text in subs:
        index.add_query(sub_id, text)
    build_s = time.perf_counter() - start
    index_mb = rss_mb() - before
    print(
        f"index: {len(index)} subscriptions, {index.query_count} distinct queries, "
        f"{index.always_count} always checked, {index.engine} matcher"
    )

    # As in the router, hits are consumed paper by paper; only the sample's are kept.
    sample = papers[: args.naive_sample]
    kept: list[list[Hit]] = []
    matches = 0

    def run() -> None:
        nonlocal matches
        for i, paper in enumerate(papers):
            hits = index.match(paper)
            matches += len(hits)
            if i < len(sample):
                kept.append(hits)

    gc.collect()
    if not args.no_gc_freeze:
        gc.freeze()  # a long-lived index: keep the cyclic collector from rescanning it
    start = time.perf_counter()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(run)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    else:
        run()
    elapsed = time.perf_counter() - start

    naive_rate, naive_hits = naive(subs, sample)
    agree = all(set(kept[i]) == naive_hits[i] for i in range(len(sample)))
    rate = len(papers) / elapsed
    print(speed())  # after the run: the machine may have changed pace
    print(
        f"subscriptions={args.subscriptions} papers={args.papers} "
        f"papers_per_s={rate:.0f} naive_papers_per_s={naive_rate:.1f} "
        f"speedup={rate / naive_rate:.0f} matches_per_paper={matches / len(papers):.1f} "
        f"index_mb={index_mb:.0f} build_s={build_s:.1f} agree={str(agree).lower()} "
        f"engine={index.engine}"
    )


if __name__ == "__main__":
    main()
