"""Stable identities for documents: canonical URL, document id, content hash; what a document is.

``doc_id`` is the SHA-1 hex digest of the canonical URL; forum posts append
``"#" + post_id`` to that digest (``<sha1>#<post_id>``), so every post of a
page shares the page's prefix and stays readable in Elasticsearch.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from itemadapter import ItemAdapter

# Query parameters that identify a campaign, referrer or share, never content.
# "extra" is Discuz!'s back-to-list state; "spm"/"scm" are Alibaba's click tracking.
_TRACKING_EXACT = {
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl",
    "spm", "scm", "from", "ref", "ref_src", "referer", "source", "share", "share_token",
    "shareid", "isappinstalled", "scene", "clicktime", "enterid", "wfr", "cmpid", "extra",
    "sessionid", "sid", "phpsessid", "jsessionid", "mod_ref", "_hsenc", "_hsmi",
}
_TRACKING_PREFIXES = ("utm_", "pk_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci", "wt.", "ga_")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"\s+")


def canonical_url(url: str) -> str:
    """Normalise ``url``: lower-case scheme/host, no default port, fragment or
    tracking parameters, remaining query parameters sorted, path percent-encoding
    normalised. Unparseable input comes back stripped but otherwise unchanged."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    netloc = host
    if port is not None and str(port) != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=~%") or "/"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(key)
    ]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def doc_id(canonical_url: str, post_id: str | int | None = None) -> str:
    """SHA-1 hex of the canonical URL, plus ``"#" + post_id`` for forum posts."""
    digest = hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()
    return digest if post_id in (None, "") else f"{digest}#{post_id}"


def content_hash(text: str) -> str:
    """SHA-256 hex of the text normalised (NFKC, invisible characters removed,
    whitespace runs collapsed), so cosmetic re-renders hash the same."""
    normal = unicodedata.normalize("NFKC", text or "").translate(_INVISIBLE)
    normal = _SPACES.sub(" ", normal).strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in _TRACKING_EXACT or key.startswith(_TRACKING_PREFIXES)


def is_document(item: Any) -> bool:
    """True for a DOCUMENT item (an article or forum post from the extract stage, ``doc_type``
    set); RAW PAGE items and run bookkeeping items pass the document stages untouched."""
    return ItemAdapter.is_item(item) and "doc_type" in ItemAdapter(item)
