"""Plural folding for the analyzer (bot/text.py): a small rule set, documented in
`fold_plural`, with tables of irregular plurals and of words that only look plural.

Golden tests both ways live in tests/test_text.py.
"""

from __future__ import annotations

__all__ = ["IRREGULAR", "NOT_PLURAL", "fold_plural"]

#: Irregular (mostly Latin and Greek) plurals of research writing, and -ies/-ches
#: words whose singular does not follow the rules below.
IRREGULAR: dict[str, str] = {
    "analyses": "analysis",
    "hypotheses": "hypothesis",
    "theses": "thesis",
    "syntheses": "synthesis",
    "diagnoses": "diagnosis",
    "parentheses": "parenthesis",
    "crises": "crisis",
    "axes": "axis",
    "indices": "index",
    "matrices": "matrix",
    "vertices": "vertex",
    "appendices": "appendix",
    "criteria": "criterion",
    "phenomena": "phenomenon",
    "corpora": "corpus",
    "automata": "automaton",
    "schemata": "schema",
    "maxima": "maximum",
    "minima": "minimum",
    "optima": "optimum",
    "spectra": "spectrum",
    "radii": "radius",
    "stimuli": "stimulus",
    "nuclei": "nucleus",
    "biases": "bias",
    "gases": "gas",
    "lenses": "lens",
    "buses": "bus",
    "viruses": "virus",
    "statuses": "status",
    "corpuses": "corpus",
    "caches": "cache",
    "niches": "niche",
    "cliches": "cliche",
    "movies": "movie",
    "cookies": "cookie",
    "zombies": "zombie",
    "calories": "calorie",
    "rookies": "rookie",
    "selfies": "selfie",
    "hoodies": "hoodie",
    "genies": "genie",
    "cpus": "cpu",
    "gpus": "gpu",
    "tpus": "tpu",
    "npus": "npu",
}

#: Words ending in s that are not plurals (or whose plural is the same word).
NOT_PLURAL = frozenset(
    "bias alias atlas canvas pandas whereas chaos cosmos ethos kudos pathos thermos "
    "news series species lens always perhaps sometimes besides towards afterwards "
    "mathematics".split()
)

#: Names of fields of study ending in -ics are kept apart from the adjective
#: (`semantics` != `semantic`, `robotics` != `robotic`); other -ics words fold
#: (`metrics` = `metric`, `topics` = `topic`).
_ICS_FIELDS = (
    "physics",
    "dynamics",
    "robotics",
    "semantics",
    "statistics",
    "graphics",
    "mechanics",
    "linguistics",
    "logistics",
    "matics",
    "omics",
    "onics",
    "etics",
    "ethics",
    "optics",
    "acoustics",
    "politics",
    "haptics",
    "analytics",
)

_FOLD_CACHE: dict[str, str] = {}
_CACHE_LIMIT = 300_000


def fold_plural(word: str) -> str:
    """The singular of an English plural; any other word unchanged.

    Rules, applied to lowercase ASCII words of 4+ letters only, first match wins:
    the `IRREGULAR` table; words in `NOT_PLURAL`, ending in -ss, -us, -is, or naming
    a field of study in -ics stay; -ies -> -y (`policies`, 5+ letters); -sses, -xes,
    -ches, -shes drop -es (`classes`, `boxes`, `approaches`, `meshes`); any other
    final -s is dropped (`models`, `LLMs`). Words with digits stay (`1990s`).
    The rules never merge different singulars: `generalization` != `general`.
    """
    folded = _FOLD_CACHE.get(word)
    if folded is None:
        folded = _fold_plural(word)
        if len(_FOLD_CACHE) >= _CACHE_LIMIT:
            _FOLD_CACHE.clear()
        _FOLD_CACHE[word] = folded
    return folded


def _fold_plural(word: str) -> str:
    if len(word) < 4 or (word[-1] != "s" and word not in IRREGULAR):
        return word
    if not (word.isascii() and word.isalpha()):
        return word
    irregular = IRREGULAR.get(word)
    if irregular is not None:
        return irregular
    if word in NOT_PLURAL or word.endswith(("ss", "us", "is")) or word.endswith(_ICS_FIELDS):
        return word
    if word.endswith("ies") and len(word) >= 5:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    single = word[:-1]
    return IRREGULAR.get(single, single)
