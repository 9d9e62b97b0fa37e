"""Canonical paper ids: `arxiv:2401.12345` (version kept apart), `arxiv:hep-th/9901001`,
`doi:10.1000/xyz`, from whatever people and feeds write."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlparse

_NEW = re.compile(r"^(\d{4}\.\d{4,5})(?:v(\d+))?$")
_OLD = re.compile(r"^([a-z][a-z\-]*(?:\.[a-z]{2})?/\d{7})(?:v(\d+))?$", re.IGNORECASE)
_DOI = re.compile(r"^(10\.\d{4,9}/\S+)$")
_ARXIV_HOSTS = ("arxiv.org", "www.arxiv.org", "export.arxiv.org")
_HF_HOSTS = ("huggingface.co", "www.huggingface.co", "hf.co")


def _arxiv(text: str) -> tuple[str, int | None] | None:
    m = _NEW.match(text)
    if m:
        return f"arxiv:{m[1]}", int(m[2]) if m[2] else None
    m = _OLD.match(text)
    if m:
        archive, number = m[1].split("/")
        return f"arxiv:{archive.lower()}/{number}", int(m[2]) if m[2] else None
    return None


def parse_paper_ref(ref: str) -> tuple[str, int | None]:
    """(canonical id, version or None) of an id or URL; ValueError if unrecognised.

    Accepts `2401.12345`, `2401.12345v3`, `arXiv:2401.12345`, `hep-th/9901001`,
    `oai:arXiv.org:2401.12345v1`, arxiv.org/abs|pdf URLs, huggingface.co/papers
    URLs, `10.1000/xyz`, `doi:10.1000/xyz` and doi.org URLs.
    """
    text = ref.strip().strip("<>")
    if not text:
        raise ValueError("empty paper reference")
    if "://" in text or text.startswith(_ARXIV_HOSTS + _HF_HOSTS + ("doi.org/",)):
        url = urlparse(text if "://" in text else "https://" + text)
        host, path = url.netloc.lower(), unquote(url.path).strip("/")
        if host in _ARXIV_HOSTS:
            for head in ("abs/", "pdf/", "html/"):
                if path.startswith(head):
                    path = path[len(head) :].removesuffix(".pdf")
                    break
        elif host in _HF_HOSTS and path.startswith("papers/"):
            path = path[len("papers/") :]
        elif host in ("doi.org", "dx.doi.org"):
            path = "doi:" + path
        else:
            raise ValueError(f"{ref!r} is not an arXiv, Hugging Face or DOI link")
        text = path
    lowered = text.lower()
    for prefix in ("oai:arxiv.org:", "arxiv:"):
        if lowered.startswith(prefix):
            text = text[len(prefix) :]
            lowered = lowered[len(prefix) :]
    if lowered.startswith("doi:"):
        text = text[4:]
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
