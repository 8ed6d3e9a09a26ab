"""Decode fetched page bytes to text before extraction.

trafilatura's own encoding guess garbles many GB2312 pages, so extraction is
always handed a ``str`` decoded here. Candidates, in order: byte-order mark,
valid UTF-8, the charset declared in the page (``<meta charset>``), the HTTP
``Content-Type`` charset, then statistical detection (charset-normalizer).
A declared charset is only a claim: each candidate must decode the bytes
cleanly, otherwise the next one is tried. Labels, BOMs and the WHATWG
widening of legacy labels (GB2312/GBK -> GB18030, Big5 -> Big5-HKSCS,
Latin-1 -> cp1252) come from ``w3lib.encoding``, Scrapy's own; the
validation cascade is ours, because a label alone is often wrong.
"""
from __future__ import annotations

import codecs
import logging
import threading

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

logger = logging.getLogger(__name__)


class DecodeError(ValueError):
    """The body is binary or cannot be decoded as text."""


# Labels w3lib does not resolve (or resolves to the narrower codec): WHATWG
# aliases Python lacks, and Big5's Windows/HKSCS supersets.
_EXTRA_LABELS = {
    "x-gbk": "gb18030", "hz-gb-2312": "gb18030", "hz": "gb18030", "x-x-big5": "big5hkscs",
    "cp950": "big5hkscs", "unicode-1-1-utf-8": "utf-8",
}
# Single-byte codecs decode any byte string, so "it decoded" proves nothing.
_SINGLE_BYTE = {"cp1252", "iso8859-15", "cp1251", "koi8-r", "iso8859-2"}

_BINARY_MAGIC = (
    b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\x1f\x8b",
    b"BZh", b"\x7fELF", b"RIFF", b"\x00\x00\x01\x00", b"OggS", b"ID3", b"wOFF", b"wOF2",
)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))  # tab, LF, FF, CR, ESC occur in text
_errors = threading.local()


def _count_error(exc: UnicodeDecodeError) -> tuple[str, int]:
    """Codec error handler: replace like "replace" but count the bad bytes."""
    _errors.count = getattr(_errors, "count", 0) + exc.end - exc.start
    return "\ufffd", exc.end


codecs.register_error("banwave-count", _count_error)

# Tolerated share of undecodable bytes: real GBK pages carry a few stray bytes,
# a wrong label produces garbage on every other character.
_MAX_ERROR_RATIO = 0.002


def decode_body(body: bytes, headers: dict | None = None) -> str:
    """Return ``body`` as text; raise DecodeError if binary or undecodable."""
    if not isinstance(body, (bytes, bytearray)):
        raise DecodeError(f"body must be bytes, not {type(body).__name__}")
    body = bytes(body)
    encoding, bom = read_bom(body)
    if encoding is not None:
        text = _try_decode(body[len(bom):], encoding)
        if text is not None:
            return text
    if looks_binary(body):
        raise DecodeError("binary content")
    if not body:
        return ""
    if body.isascii():
        return body.decode("ascii")
    # UTF-8 is self-validating: legacy multi-byte text practically never decodes
    # as UTF-8, while UTF-8 Chinese often decodes "cleanly" as GB18030 mojibake,
    # so a UTF-8 body mislabelled GBK must be caught before the labels are tried.
    text = _try_decode(body, "utf-8", tolerant=False)
    if text is not None:
        return text
    for label in (declared_charset(body), header_charset(headers)):
        encoding = normalise_charset(label)
        if encoding is None or encoding in _SINGLE_BYTE:
            continue  # single-byte labels fit any bytes; they are the last resort below
        text = _decode_chinese(body) if encoding in _CHINESE else _try_decode(body, encoding)
        if text is not None:
            return text
        logger.debug("declared charset %s does not fit the bytes", label)
    detected = _detect(body)
    if detected is not None:
        return detected
    for label in (declared_charset(body), header_charset(headers)):
        encoding = normalise_charset(label)
        if encoding in _SINGLE_BYTE:
            return body.decode(encoding, errors="replace")
    raise DecodeError("no charset decodes the body")


def looks_binary(body: bytes) -> bool:
    """True for well-known binary formats and for control-byte-heavy data."""
    if body.startswith(_BINARY_MAGIC):
        return True
    head = body[:4096]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls / len(head) > 0.05


def declared_charset(body: bytes) -> str | None:
    """The codec named by ``<meta charset>``/``http-equiv`` (or an XML declaration), resolved by w3lib."""
    return html_body_declared_encoding(body)


def header_charset(headers: dict | None) -> str | None:
    """The codec named by the Content-Type header's charset, whatever the key case."""
    value = header_value(headers, "content-type")
    return http_content_type_encoding(value) if value else None


def header_value(headers: dict | None, name: str) -> str | None:
    """Case-insensitive header lookup accepting str, bytes or list values (Scrapy)."""
    if not headers:
        return None
    for key, value in headers.items():
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key.lower() != name:
            continue
        if isinstance(value, (list, tuple)):
            value = value[0] if value else ""
        return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


def normalise_charset(label: str | None) -> str | None:
    """Map a charset label to the Python codec to use, widened; None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    name = _EXTRA_LABELS.get(label) or resolve_encoding(label)
    return _EXTRA_LABELS.get(name, name)


def _try_decode(body: bytes, encoding: str, tolerant: bool = True) -> str | None:
    """Decode if the bytes fit ``encoding``, tolerating a cut-off tail and rare stray bytes."""
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 4:  # truncated download: drop the partial last character
            try:
                return body[: exc.start].decode(encoding)
            except UnicodeDecodeError:
                pass
    except LookupError:
        return None
    if not tolerant:
        return None
    _errors.count = 0
    text = body.decode(encoding, errors="banwave-count")
    if _errors.count <= max(2, len(body) * _MAX_ERROR_RATIO):
        return text
    return None


_CHINESE = ("gb18030", "big5hkscs")
# Share of Han characters that must fall in GB2312 for a GB18030 reading to be
# believed: real simplified text sits ~99% inside it, Big5 bytes read as GBK
# land outside it about half the time (Big5 trail bytes 0x40-0x7E).
_MIN_GB2312_SHARE = 0.9


def _decode_chinese(body: bytes) -> str | None:
    """Decode a page labelled GBK-family or Big5, whichever label it carries.

    The two byte ranges overlap so much that either codec "cleanly" decodes
    the other's bytes into nonsense, so the label alone cannot be trusted.
    """
    simplified = _try_decode(body, "gb18030")
    if simplified is not None and _gb2312_share(simplified) >= _MIN_GB2312_SHARE:
        return simplified
    traditional = _try_decode(body, "big5hkscs")
    return traditional if traditional is not None else simplified


def _gb2312_share(text: str, sample: int = 2000) -> float:
    han = [char for char in text if "\u4e00" <= char <= "\u9fff"][:sample]
    if not han:
        return 1.0
    return sum(1 for char in han if _in_gb2312(char)) / len(han)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _detect(body: bytes) -> str | None:
    """charset-normalizer's best guess, widened, if it decodes the body cleanly."""
    best = from_bytes(body[:65536]).best()
    if best is None:
        return None
    encoding = normalise_charset(best.encoding)
    return _try_decode(body, encoding) if encoding else None
