"""Blog archive pages: several dated entries in a row, the first one the page's text.

A blog's home and month pages print their latest entries one after another,
each a block with a title, a date and a body; trafilatura takes them all as
one article. The page's main text is its first entry (the evaluation gold
follows this convention too). Found like forum posts (``posts.py``), as
siblings of one kind, here marked by a full date instead of a poster.
"""
from __future__ import annotations

from collections import Counter

from lxml import etree

from pipelines.extract.byline import FULL_DATE
from pipelines.extract.dom import containment, element_kind, element_text, tokens
from pipelines.extract.posts import body_of, measure_text

_MAX_DATE_NODE = 80        # a longer text node is prose that mentions a date, not an entry's date line
# Short text nodes that may hold a date of this or the last century (smart strings: each knows its element).
_YEAR_TEXTS = etree.XPath("//body/descendant::text()[contains(., '19') or contains(., '20')]"
                          f"[string-length() <= {_MAX_DATE_NODE}]")
_BODY_TEXTS = etree.XPath("//body/descendant::text()", smart_strings=False)
_MIN_ENTRIES = 3
_DATED_SHARE = 0.6         # share of the siblings that must show a date
_MIN_ENTRY_CHARS = 100     # median non-link characters of an entry: dated link lists have a few dozen
_ARCHIVE_SHARE = 0.5       # share of trafilatura's tokens the entries must hold: the text is the archive


def first_entry(tree, text: str) -> str | None:
    """The first entry's body when ``text`` (trafilatura's) is mostly an archive
    of dated entries, else None."""
    entries = _entries(tree)
    if entries is None:
        return None
    held = tokens("\n".join(element_text(entry) for entry in entries))
    if containment(tokens(text), held) < _ARCHIVE_SHARE:
        return None  # an article beside a dated list (related links, comments): not an archive
    text_len, link_len = {}, {}
    measure_text(entries[0].getparent(), text_len, link_len)
    return element_text(body_of(entries[0], text_len, link_len)) or None


def _entries(tree) -> list | None:
    """The sibling group whose members mostly show a full date and hold the most
    non-link text, a median of ``_MIN_ENTRY_CHARS`` at least."""
    # Three members need three dated text nodes, which most pages lack: counted on plain
    # strings first (a Python test of each is cheaper than the XPath's string predicates)
    if sum(1 for text in _BODY_TEXTS(tree) if len(text) <= _MAX_DATE_NODE and ("19" in text or "20" in text)
           and FULL_DATE.search(text)) < _MIN_ENTRIES:
        return None
    dated, seen = Counter(), set()
    for node in _YEAR_TEXTS(tree):
        if not FULL_DATE.search(node):
            continue
        element = node.getparent()
        if node.is_tail:  # a tail belongs to the element around the one it follows
            element = element.getparent()
        for member in [element, *element.iterancestors()]:
            parent = member.getparent()
            if parent is None or member.tag in ("body", "html") or member in seen:
                break  # each member counts once
            seen.add(member)
            dated[parent, element_kind(member)] += 1
    best, best_prose = None, 0
    text_len, link_len = {}, {}
    for (parent, kind), count in dated.items():
        if count < _MIN_ENTRIES:
            continue
        members = [c for c in parent if isinstance(c.tag, str) and element_kind(c) == kind]
        if count < _DATED_SHARE * len(members):
            continue
        if parent not in text_len:
            measure_text(parent, text_len, link_len)
        prose = [text_len[m] - link_len[m] for m in members]
        if sorted(prose)[len(prose) // 2] >= _MIN_ENTRY_CHARS and sum(prose) > best_prose:
            best, best_prose = members, sum(prose)
    return best
