"""Seeded synthetic papers and queries for the benchmarks (no downloads, no network).

Words are drawn from a Zipf distribution over a vocabulary of real ML words and
phrases, so frequent words are frequent and rare ones rare, like in arXiv abstracts.
"""

from __future__ import annotations

import itertools
import platform
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.models import Paper

BASE = """
model learning data training neural network method task performance results language
large approach image propose based using deep representation generation framework
dataset benchmark transformer attention diffusion reinforcement policy agent robot
reasoning vision text graph optimization loss gradient inference evaluation prompt
fine-tuning pretraining embedding token sequence latent generative adversarial
contrastive self-supervised federated privacy robustness adversarial domain
generalization adaptation transfer few-shot zero-shot in-context retrieval augmented
segmentation detection tracking depth video audio speech multimodal alignment
preference reward feedback human safety interpretability explanation causal
uncertainty calibration bayesian sampling distillation compression quantization
pruning sparse mixture experts scaling law emergent chain-of-thought planning
navigation manipulation control simulation physics molecular protein medical clinical
time-series forecasting anomaly recommendation ranking search code program synthesis
mathematical theorem proof symbolic kernel convex stochastic variance convergence
bound theoretical empirical state-of-the-art outperforms baselines experiments show
novel efficient scalable robust lightweight hierarchical recurrent convolutional
autoregressive masked denoising score flow matching energy equivariant geometric
point cloud mesh nerf gaussian splatting rendering 3d scene understanding question
answering summarization translation dialogue instruction tuning alignment hallucination
factuality knowledge editing memory long-context efficient attention linear state-space
mamba hyena spiking neuromorphic hardware accelerator edge device latency throughput
""".split()


def vocabulary(size: int, seed: int = 7) -> list[str]:
    """`size` words: the real ML words first, then made-up but word-like ones."""
    rng = random.Random(seed)
    words = list(dict.fromkeys(BASE))
    syllables = ["ra", "to", "mi", "ne", "ka", "lu", "so", "vi", "de", "po", "ti", "gra"]
    while len(words) < size:
        words.append("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return words[:size]


class Zipf:
    """Draw words with probability ~ 1/rank."""

    def __init__(self, words: list[str], rng: random.Random) -> None:
        self.words = words
        self.rng = rng
        self.cum_weights = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(words))))

    def draw(self, k: int) -> list[str]:
        """k words, with replacement."""
        return self.rng.choices(self.words, cum_weights=self.cum_weights, k=k)


def papers(count: int, seed: int = 1, vocab_size: int = 20_000) -> list[Paper]:
    """`count` papers of about 1,500 characters of abstract each."""
    rng = random.Random(seed)
    zipf = Zipf(vocabulary(vocab_size), rng)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        sentences = []
        length = 0
        while length < 1500:
            sentence = " ".join(zipf.draw(rng.randint(8, 20))).capitalize() + "."
            sentences.append(sentence)
            length += len(sentence) + 1
        out.append(
            Paper(
                id=f"arxiv:26{1 + i // 100_000:02d}.{i % 100_000:05d}",
                title=" ".join(zipf.draw(rng.randint(5, 12))).title(),
                abstract=" ".join(sentences),
                authors=tuple(
                    f"Author{rng.randint(1, 5000)} Name{rng.randint(1, 500)}"
                    for _ in range(rng.randint(1, 8))
                ),
                categories=tuple(rng.sample(["cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.RO"], 2)),
                sources=(rng.choice(["arxiv", "huggingface"]),),
                published=start + timedelta(minutes=i),
                upvotes=rng.randint(0, 200) if rng.random() < 0.3 else None,
                seq=i + 1,
            )
        )
    return out


def queries(count: int, seed: int = 2, vocab_size: int = 20_000) -> list[str]:
    """A mix of query shapes people type: words, phrases, AND/OR/NOT, prefixes, fields."""
    rng = random.Random(seed)
    zipf = Zipf(vocabulary(vocab_size), rng)

    def word() -> str:
        return zipf.draw(1)[0]

    shapes = [
        lambda: word(),
        lambda: f"{word()} {word()}",
        lambda: f'"{word()} {word()}"',
        lambda: f"{word()} OR {word()}",
        lambda: f"{word()} -{word()}",
        lambda: f"{word()[:4]}*",
        lambda: f"title:{word()}",
        lambda: f'({word()} OR {word()}) "{word()} {word()}" -{word()}',
        lambda: f"cat:cs.LG {word()}",
    ]
    out = []
    while len(out) < count:
        q = rng.choice(shapes)()
        if "*" in q and len(q.split("*")[0].lstrip("-")) < 3:
            continue
        out.append(q)
    return out


def speed() -> str:
    """How fast this machine is right now (a shared VM varies by 2x from hour to hour):
    ns per turn of a small Python loop, and ns per lookup in a dict of 1M keys in
    random order (memory latency: what the percolator and the index mostly wait on).
    Benchmarks print it before and after their run, so figures can be compared."""
    import time

    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i & 7
    loop_ns = (time.perf_counter() - start) / 2e6 * 1e9
    keys = [f"{i}:{i}" for i in range(1_000_000)]
    table = dict.fromkeys(keys, 1)
    random.Random(1).shuffle(keys)
    start = time.perf_counter()
    for key in keys:
        total += table[key]
    lookup_ns = (time.perf_counter() - start) / len(keys) * 1e9
    return f"speed: loop_ns={loop_ns:.1f} lookup_ns={lookup_ns:.0f}"


def machine() -> str:
    """One line naming the machine the figures come from."""
    import os

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"machine: {platform.machine()} {cpu} cores={os.cpu_count()} "
        f"python={platform.python_version()} {platform.system()}"
    )
