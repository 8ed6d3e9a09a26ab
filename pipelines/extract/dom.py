"""HTML parsing and element-to-text helpers shared by the article and forum stages."""
from __future__ import annotations

import re
from collections import Counter

from lxml import etree, html
from trafilatura.utils import DOCTYPE_TAG, is_dubious_html, repair_faulty_html

# Elements whose start and end break the text into lines.
_BLOCKS = frozenset(
    "address article aside blockquote dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody thead tfoot tr td th ul "
    "center".split()
)
_SKIP = frozenset("script style noscript template iframe select button svg head".split())
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_DIGITS = re.compile(r"\d+")
_HEADLINE_LINKS = etree.XPath("(//h2|//h3|//h4|//h5|//h6)//a[@href]")
_CARD_HEADLINES = etree.XPath("(.//h2|.//h3|.//h4|.//h5|.//h6)//a[@href]")
_MIN_CARDS = 3             # sibling cards that make a story stream
_MIN_HEADLINE_CHARS = 6    # a shorter heading link is a "more" or a date, not a headline
_CARD_DEPTH = 6            # levels from a headline link up to its card
# Code and style sheets: no stage reads them (trafilatura, Readability and jusText
# discard them), but every copy trafilatura makes of the tree would carry them.
# JSON data blocks (JSON-LD) stay: the metadata and trafilatura's forum check read them.
_CODE = etree.XPath("//script[not(contains(@type, 'json'))] | //style")
# trafilatura's parser settings (trafilatura.utils.HTML_PARSER), with lxml's C-level
# default class lookup: every element is an HtmlElement, as trafilatura needs, but
# no Python lookup call (lxml.html's form-element classes) runs for each element
# object made, here and in every copy trafilatura makes of the tree (copies keep
# the parser). trafilatura's text is the same on all evaluation pages, its run ~10% faster.
_PARSER = html.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                          remove_comments=True, remove_pis=True)
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(element=html.HtmlElement))
# What trafilatura.utils.INVALID_XML_CHARS removes: these control characters and U+FFFE, U+FFFF.
_CONTROL_BYTES = tuple(bytes([b]) for b in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))
_FULL_HTML = re.compile(r"^\s*<(?:html|!doctype)", re.I).match  # lxml.html's test for a whole document


def parse_html(text: str) -> html.HtmlElement | None:
    """Parse decoded HTML into an lxml tree; None if there is no document.

    The steps of trafilatura's own loader (``trafilatura.utils.load_html``:
    prologue repairs, comments and processing instructions dropped, a bytes
    retry, the dubious-document check), so trafilatura sees the tree bare
    ``trafilatura.extract`` would build: on the evaluation pages lxml's
    default parser changed its result on 15 of 400 pages, for the worse on 5
    (docs/extraction.md). Scripts and style sheets are dropped (trafilatura's
    text is the same on all evaluation pages, and its run ~5% faster)."""
    text = _XML_DECL.sub("", text.replace("\x00", ""), count=1)
    if not text.strip():
        return None
    try:
        tree = _trafilatura_parse(text)
        tree = tree if tree is not None else html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError, TypeError):
        return None
    for element in _CODE(tree):
        element.drop_tree()  # keeps the element's tail text
    return tree


def _trafilatura_parse(text: str):
    beginning = text[:50].lower()
    data = text.encode("utf8", "surrogatepass")
    if _needs_repair(text, data, beginning):
        text = repair_faulty_html(text, beginning)
        data = text.encode("utf8", "surrogatepass")
    if _FULL_HTML(text):
        # lxml.html.fromstring's own test (on the str, as trafilatura calls it) says "document":
        # its tree, parsed from UTF-8 bytes, which libxml2 reads ~25% faster than a str
        tree = html.document_fromstring(data, parser=_PARSER)
        if len(tree) < 1:
            tree = html.fromstring(data, parser=_PARSER)
    else:
        try:
            tree = html.fromstring(text, parser=_PARSER)
        except ValueError:  # "Unicode strings with encoding declaration are not supported"
            tree = html.fromstring(data, parser=_PARSER)
        else:
            if len(tree) < 1:
                tree = html.fromstring(data, parser=_PARSER)
    return None if tree is not None and is_dubious_html(beginning) and len(tree) < 2 else tree


def _needs_repair(text: str, data: bytes, beginning: str) -> bool:
    """Whether trafilatura's ``repair_faulty_html`` would change ``text`` (``data``: its UTF-8):
    its control-character pass is a regex over the whole page (~3% of trafilatura's time), but
    almost no page has one, and its two prologue repairs apply to a few pages only. The checks
    here are byte and character searches (a control character is one byte in UTF-8)."""
    if any(byte in data for byte in _CONTROL_BYTES) or "\ufffe" in text or "\uffff" in text:
        return True
    if "doctype" in beginning:
        end = text.find("\n")  # no line break: the repair appends one
        if end < 0 or DOCTYPE_TAG.search(text[:end]):
            return True
    return any("<html" in line and line.endswith("/>") for line in text[:4096].splitlines()[:4])


def element_text(element, skip=None) -> str:
    """Visible text of ``element``: one line per block or ``<br>``, whitespace
    runs collapsed, blank lines removed. ``skip`` is a set of elements to leave
    out (quotes, signatures) without mutating the tree."""
    lines: list[str] = []
    current: list[str] = []

    def newline():
        if current:
            line = " ".join("".join(current).split())
            if line:
                lines.append(line)
            current.clear()

    def walk(node, with_tail=True):
        tag = node.tag if isinstance(node.tag, str) else None
        if tag is None or tag.lower() in _SKIP or (skip and node in skip):
            if node.tail and with_tail:
                current.append(node.tail)
            return
        tag = tag.lower()
        block = tag in _BLOCKS
        if block:
            newline()
        if tag == "br":
            newline()
        elif tag in ("td", "th"):
            current.append(" ")
        if node.text:
            current.append(node.text)
        for child in node:
            walk(child)
        if block:
            newline()
        if node.tail and with_tail:
            current.append(node.tail)

    walk(element, with_tail=False)  # the element's own tail lies outside it
    newline()
    return "\n".join(lines)


_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(f"[{_CJK_CHARS}]|[^\\W_{_CJK_CHARS}]+")


def tokens(text: str) -> Counter:
    """Bag of tokens: each CJK character, each other word lower-cased (the evaluation's scale)."""
    return Counter(_TOKEN.findall(text.lower()))


def containment(part: Counter, whole: Counter) -> float:
    """Share of ``part``'s tokens (with multiplicity) that ``whole`` also has."""
    total = sum(part.values())
    return sum((part & whole).values()) / total if total else 0.0


def flat_text(element) -> str:
    """The text under ``element`` on one line, runs of whitespace as one space."""
    return " ".join(" ".join(element.itertext()).split())


def digits_aside(text: str) -> str:
    """``text`` with every run of digits as "0": an engine's chrome printed in every post
    differs only by counts and ids ("Posts: 22", ".../answer/379098.html")."""
    return _DIGITS.sub("0", text)


def element_kind(element) -> tuple:
    """Tag and first class word, digits dropped: ``post-1`` and ``post-2`` are one kind of sibling."""
    classes = (element.get("class") or "").split()
    return element.tag, _DIGITS.sub("", classes[0]) if classes else ""


def headline_links(element) -> list:
    """The heading links (h2–h6) under ``element`` long enough to be headlines."""
    return [link for link in _CARD_HEADLINES(element)
            if len(flat_text(link)) >= _MIN_HEADLINE_CHARS]


def card_lines(tree) -> set[str]:
    """Text lines of the page's story cards.

    A card is one of three or more siblings of one kind, each holding a
    heading link (a headline) and usually a summary: the "more stories"
    stream, related-article lists and teaser grids of news sites. trafilatura
    drops their headline links but keeps their summaries as paragraphs."""
    lines, seen = set(), set()  # seen: (parent, kind) pairs already tested
    for link in _HEADLINE_LINKS(tree):
        if len(flat_text(link)) < _MIN_HEADLINE_CHARS:
            continue
        node = link
        for _ in range(_CARD_DEPTH):
            parent = node.getparent()
            key = (parent, element_kind(node))
            if parent is None or key in seen:
                break
            seen.add(key)
            cards = [c for c in parent if isinstance(c.tag, str) and element_kind(c) == key[1] and _CARD_HEADLINES(c)]
            if len(cards) >= _MIN_CARDS:
                for card in cards:
                    lines.update(element_text(card).split("\n"))
                break
            node = parent
    return lines


def first(element, xpaths) -> list:
    """Results of the first XPath (string or list of strings) that matches anything."""
    if not xpaths:
        return []
    for xpath in [xpaths] if isinstance(xpaths, str) else xpaths:
        try:
            found = element.xpath(xpath)
        except etree.XPathError:
            continue
        if found:
            return found if isinstance(found, list) else [found]
    return []


def valid_xpaths(xpaths) -> list[str]:
    """The XPaths (string or list) that compile; a bad site rule must not stop extraction."""
    valid = []
    for xpath in [xpaths] if isinstance(xpaths, str) else xpaths or []:
        try:
            etree.XPath(xpath)
        except etree.XPathSyntaxError:
            continue
        valid.append(xpath)
    return valid


def texts(element, xpaths):
    """Non-empty texts of every match of ``xpaths`` (string or list), in XPath
    order: an empty attribute (Discuz's ``<span title="">``) is passed over, so
    the next XPath (the visible text) gets its turn."""
    for xpath in [xpaths] if isinstance(xpaths, str) else xpaths or []:
        try:
            found = element.xpath(xpath)
        except etree.XPathError:
            continue
        for item in found if isinstance(found, list) else [found]:
            value = item if isinstance(item, str) else element_text(item)
            value = " ".join(value.split())
            if value:
                yield value


def first_text(element, xpaths) -> str | None:
    """The first non-empty text among the matches of ``xpaths`` (attribute values and strings as-is)."""
    return next(texts(element, xpaths), None)


def class_xpath(name: str) -> str:
    """XPath predicate body matching an element carrying CSS class ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


class LinkCaptions:
    """The anchor captions of a page, to tell link lines (navigation, related
    lists, headline lists) from prose lines in extracted text."""

    _KEY = 6  # captions this long or longer are found inside lines by their first characters

    def __init__(self, tree):
        # most anchors hold only text: their caption is that text, without an itertext walk
        self.captions = {" ".join((a.text or "").split()) if len(a) == 0 else flat_text(a) for a in tree.iter("a")}
        self.by_start: dict[str, list[str]] = {}
        for caption in self.captions:
            if len(caption) >= self._KEY:
                self.by_start.setdefault(caption[:self._KEY], []).append(caption)
        self.longest = max((len(c) for c in self.captions if len(c) >= self._KEY), default=0)

    def is_link_line(self, line: str) -> bool:
        """The line is a caption, or mostly one (e.g. a date plus a headline link)."""
        line = line.strip(" |")
        if line in self.captions:
            return True
        if len(line) > 2 * self.longest:  # no caption can be half of it
            return False
        # a caption of at least half the line starts in its first half: look captions up
        # by their first characters there instead of testing every caption of the page
        for start in range(len(line) // 2 + 1):
            for caption in self.by_start.get(line[start:start + self._KEY], ()):
                if len(caption) * 2 >= len(line) and line.startswith(caption, start):
                    return True
        return False
