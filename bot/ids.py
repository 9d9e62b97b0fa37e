"""Canonical paper ids: `arxiv:2401.12345` (version kept apart), `arxiv:hep-th/9901001`,
`doi:10.1000/xyz`, from whatever people and feeds write.

arXiv identifiers (https://info.arxiv.org/help/arxiv_identifier.html):
- since April 2007 `YYMM.NNNN` (four digits to December 2014) or `YYMM.NNNNN` (five
  digits from January 2015), optionally followed by `vN`;
- before, `archive/YYMMNNN` or `archive.SC/YYMMNNN`. The subject class `SC` is not
  part of the identifier: `math.GT/0309136` is `math/0309136`, as arXiv writes it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlparse

_NEW = re.compile(r"^(\d{2})(\d{2})\.(\d{4,5})(?:v(\d+))?$")
_OLD = re.compile(r"^([a-z][a-z\-]*)(?:\.[a-z]{2})?/(\d{2})(\d{2})(\d{3})(?:v(\d+))?$", re.I)
_DOI = re.compile(r"^(10\.\d{4,9}/\S+)$")
_ARXIV_HOSTS = ("arxiv.org", "www.arxiv.org", "export.arxiv.org", "browse.arxiv.org")
_HF_HOSTS = ("huggingface.co", "www.huggingface.co", "hf.co")
_DOI_HOSTS = ("doi.org", "dx.doi.org", "www.doi.org")
_ARXIV_PATHS = ("abs/", "pdf/", "html/", "format/")


def _version(text: str | None) -> int | None:
    if text is None:
        return None
    version = int(text)
    if version < 1:
        raise ValueError("arXiv versions start at v1")
    return version


def _new_style(yy: str, mm: str, number: str) -> bool:
    """Four digits from 0704 to 1412, five from 1501 on (and in the 2100s, YY < 07)."""
    if not 1 <= int(mm) <= 12:
        return False
    yymm = int(yy + mm)
    if len(number) == 4:
        return 704 <= yymm <= 1412
    return yymm >= 1501 or int(yy) < 7


def _arxiv(text: str) -> tuple[str, int | None] | None:
    m = _NEW.match(text)
    if m and _new_style(m[1], m[2], m[3]):
        return f"arxiv:{m[1]}{m[2]}.{m[3]}", _version(m[4])
    m = _OLD.match(text)
    if m and 1 <= int(m[3]) <= 12:
        return f"arxiv:{m[1].lower()}/{m[2]}{m[3]}{m[4]}", _version(m[5])
    return None


def _from_url(ref: str, text: str) -> str:
    """The id part of an arXiv, Hugging Face or DOI link."""
    url = urlparse(text if "://" in text else "https://" + text)
    host, path = url.netloc.lower(), unquote(url.path).strip("/")
    if host in _ARXIV_HOSTS:
        for head in _ARXIV_PATHS:
            if path.startswith(head):
                return path[len(head) :].removesuffix(".pdf")
    elif host in _HF_HOSTS and path.startswith("papers/"):
        return path[len("papers/") :]
    elif host in _DOI_HOSTS and path:
        return "doi:" + path
    raise ValueError(f"{ref!r} is not an arXiv, Hugging Face or DOI link to a paper")


def parse_paper_ref(ref: str) -> tuple[str, int | None]:
    """(canonical id, version or None) of an id or URL; ValueError if unrecognised.

    Accepts `2401.12345`, `2401.12345v3`, `arXiv:2401.12345`, `hep-th/9901001`,
    `math.GT/0309136v2`, `oai:arXiv.org:2401.12345v1`, arxiv.org abs|pdf|html
    URLs, huggingface.co/papers URLs, `10.1000/xyz`, `doi:10.1000/xyz` and doi.org
    URLs. DOIs are case-insensitive and come back lower-cased.
    """
    if not isinstance(ref, str):
        raise ValueError(f"a paper reference must be text, not {type(ref).__name__}")
    text = ref.strip().strip("<>").strip()
    if not text:
        raise ValueError("empty paper reference")
    if "://" in text or text.lower().startswith(_ARXIV_HOSTS + _HF_HOSTS + _DOI_HOSTS):
        text = _from_url(ref, text)
    lowered = text.lower()
    for prefix in ("oai:arxiv.org:", "arxiv:"):
        if lowered.startswith(prefix):
            text, lowered = text[len(prefix) :], lowered[len(prefix) :]
    if lowered.startswith("doi:"):
        text = text[4:].strip()
        if not _DOI.match(text):
            raise ValueError(f"{ref!r} is not a DOI like 10.1000/xyz")
        return f"doi:{text.lower()}", None
    found = _arxiv(text)
    if found is not None:
        return found
    if _DOI.match(text):
        return f"doi:{text.lower()}", None
    raise ValueError(
        f"{ref!r} is not a paper id: use an arXiv id (2401.12345), an arxiv.org or "
        "huggingface.co/papers link, or a DOI"
    )


def canonical_id(ref: str) -> str:
    """The canonical id alone (see parse_paper_ref)."""
    return parse_paper_ref(ref)[0]
