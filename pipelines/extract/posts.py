"""Forum posts on pages no engine profile knows: repeated sibling blocks with
an author/time/body structure.

Every thread engine (Discuz!, phpBB, vBulletin, XenForo, Discourse, Flarum,
Tieba, Q&A sites, comment threads) prints its posts as siblings of one kind
under one parent, each with a poster, a time and a body. So the detector
groups each element's children by tag and first class word (digits
dropped: ``post-1``/``post-2`` are one kind), and keeps the group whose
members mostly carry a time *and* a poster, with the most text outside links.
Link lists with dates (related articles, board indexes) fail the body test:
their text is link captions. Within each member the body is the descendant
holding most of its non-link text, taken with the same tag and class in every
member so that short posts do not bring their header along.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import chain

from lxml import etree

from pipelines.extract.dom import digits_aside, element_kind, flat_text, headline_links

_SKIP = frozenset("script style noscript template head select option button svg".split())
# Cheap pre-filter for "this block shows a time"; normalise_date decides which text is the date.
_TIME_HINT = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}|\d{1,2}\s*[-/月]\s*\d{1,2}|\d{1,2}:\d{2}|\b(?:ago|yesterday|today)\b"
    r"|[秒分时天周月年]前|昨天|前天|今天|刚刚|发表于|發表於|回复于|\d+\s*(?:hours?|days?|mins?|minutes?|weeks?|months?|years?)\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d",
    re.I,
)
_USER_HREF_WORDS = ("user", "member", "profile", "space", "uid=", "people", "author", "/u/", "/i/", "account", "home.php")
_USER_CLASS_WORDS = ("author", "user", "poster", "member", "nick", "uname", "avatar", "profile")
_USER_HREF = re.compile("|".join(map(re.escape, _USER_HREF_WORDS)), re.I)
_USER_CLASS = re.compile("|".join(_USER_CLASS_WORDS), re.I)
# Attribute values as plain strings (no element proxy per value), and the elements
# carrying them in the same document order, to pick the matching ones by position.
# Elements are reached from their attributes (``//@class/..``): libxml2 then tests
# the attribute nodes only, not every element (about twice as fast, same nodes).
_CLASSES, _HREFS, _ITEMPROPS = (etree.XPath(x, smart_strings=False) for x in ("//@class", "//a/@href", "//@itemprop"))
_CLASSED, _LINKS, _ITEMPROP_AUTHOR = (etree.XPath(x) for x in
                                     ("//@class/..", "//a/@href/..", "//@itemprop[.='author']/.."))
# Profile lines that carry a date but not the post's: "Joined: 4 months ago", "注册时间 2019-1-2".
_MEMBER_SINCE = re.compile(r"joined|registered|member since|last (?:seen|active|visit)|注册|加入|最后登录|在线时间", re.I)
_MIN_POSTS = 3
_EVIDENCE_SHARE = 0.6     # share of members that must show a time and a poster
_MIN_BODY_CHARS = 8       # median non-link characters of a member: link lists have ~0
_BODY_SHARE = 0.7         # a child holding this share of a block's non-link text is its body
_BLOCK_LEVELS = 4          # levels above a post body where its poster and time may sit (readability_posts)
_TEMPLATE_MIN_BOXES = 3   # a box showing one text in this many posts, all of them, is the engine's
_HEADER_CHARS = 80        # a poster's header box in a post body: name, rank, reputation, title
_MIN_KIND_CHARS = 20      # a same-kind element with less text (a "Posts" column header) is no second post
_HEADLINE = etree.XPath(".//h1|.//h2")
_MAIN_REGIONS = etree.XPath("//main|//@role[.='main']/..")
_BY_ID, _BY_CLASS = etree.XPath("//@id[.=$value]/.."), etree.XPath("//@class[.=$value]/..")


@dataclass
class Block:
    """One detected post: the repeated element and its body element."""

    element: etree._Element
    body: etree._Element


def find_post_blocks(tree) -> list[Block]:
    """The posts of a thread page as repeated blocks; [] when no group qualifies.

    Only sibling groups where two members at least hold a poster element
    (60% of three) can qualify, so the groups are found upwards from the
    page's poster elements (one XPath) instead of by walking every element,
    and text is measured only under their parents."""
    posters = _matching(tree, _CLASSES, _CLASSED, _USER_CLASS_WORDS) + _matching(tree, _HREFS, _LINKS, _USER_HREF_WORDS)
    if "author" in _ITEMPROPS(tree):
        posters += _ITEMPROP_AUTHOR(tree)
    seen_members, bearing = set(), Counter()
    for node in posters:
        for member in node.iterancestors():
            parent = member.getparent()
            if parent is None or member.tag in ("body", "html") or member in seen_members:
                break  # a seen member's ancestors are counted already: each member counts once
            seen_members.add(member)
            bearing[parent, element_kind(member)] += 1
    # The page's main region holds the posts; an element around it (a page frame
    # whose layout class a modal dialog shares) is never one of them.
    around_main = {node for region in _MAIN_REGIONS(tree) for node in chain([region], region.iterancestors())}
    text_len, link_len = {}, {}
    candidates = []  # (non-link text, members) of each group; the structure test runs best-first
    for (parent, kind), count in bearing.items():
        if count < 2 or parent.tag in _SKIP:
            continue
        members = [c for c in parent if isinstance(c.tag, str) and c.tag not in _SKIP and element_kind(c) == kind
                   and c not in around_main]
        if len(members) < _MIN_POSTS or count < _EVIDENCE_SHARE * len(members):
            continue
        if sum(map(_is_story_card, members)) >= _EVIDENCE_SHARE * len(members):
            continue  # a "latest stories" stream: author, time and summary under a headline link
        if parent not in text_len:
            measure_text(parent, text_len, link_len)
        prose = [text_len[m] - link_len[m] for m in members]
        if sorted(prose)[len(prose) // 2] >= _MIN_BODY_CHARS:
            candidates.append((sum(prose), members))
    candidates.sort(key=lambda c: c[0], reverse=True)
    best = next((members for _, members in candidates if _has_post_structure(members)), None)
    if best is None:
        return []
    blocks, seen = [], set()
    for block in _with_bodies(best, text_len, link_len):
        key = " ".join(block.body.itertext()).strip()
        if key not in seen:  # pages that print a post twice (mobile and desktop copies)
            seen.add(key)
            blocks.append(block)
    if len(blocks) < _MIN_POSTS:
        return []
    # The group qualified as a whole; a member showing no time or no poster is a
    # sibling of the posts (login box, footer, bookmark dialog), not a post.
    return [block for block in blocks if _shows_time(block.element) and _shows_poster(block.element)]


def _matching(tree, values_xpath, elements_xpath, words: tuple) -> list:
    """Elements whose attribute value contains one of ``words``, case-insensitively:
    substring scans over all values joined, not a regex call per value (pages
    carry thousands of class attributes); elements are built only when a value matches."""
    values = values_xpath(tree)
    joined = "\0".join(values).lower()
    hits = set()
    for word in words:
        index = position = 0  # the value holding ``position``: separators before it, counted as we go
        at = joined.find(word)
        while at >= 0:
            index += joined.count("\0", position, at)
            hits.add(index)
            position = joined.find("\0", at)
            if position < 0:
                break
            at = joined.find(word, position)
    if not hits:
        return []
    elements = elements_xpath(tree)  # one element per value, in the same document order
    return [elements[i] for i in sorted(hits)]


def measure_text(root, text_len: dict, link_len: dict) -> None:
    """Characters of visible text, and of link text, under every element of ``root`` (one bottom-up pass)."""
    for element in reversed(list(root.iter())):
        if not isinstance(element.tag, str) or element.tag in _SKIP:
            text_len[element] = link_len[element] = 0
            continue
        total = len((element.text or "").strip())
        links = 0
        for child in element:
            tail = len((child.tail or "").strip())
            total += text_len[child] + tail
            links += link_len[child]
        text_len[element] = total
        link_len[element] = total if element.tag == "a" else links


def _is_story_card(member) -> bool:
    """``member`` holds a headline link to another page (h2–h6; not a post's own "#p12" title,
    not its poster's name printed as a heading): a story card, which shows an author and a
    time too."""
    return any(not link.get("href").startswith("#") and not _is_user(link) for link in headline_links(member))


def _has_post_structure(members: list) -> bool:
    timed = authored = 0
    for member in members:
        timed += _shows_time(member)
        authored += _shows_poster(member)
    needed = _EVIDENCE_SHARE * len(members)
    return timed >= needed and authored >= needed


def _shows_time(element) -> bool:
    if element.find(".//time") is not None:
        return True
    for text in element.itertext():
        if len(text) < 80 and _TIME_HINT.search(text):
            return True
    return False


def _shows_poster(element) -> bool:
    return _poster_node(element) is not None


def body_of(member, text_len, link_len):
    """Descend into the child holding most of the non-link text while it holds nearly all of it."""
    node = member
    while True:
        prose = text_len[node] - link_len[node]
        children = [c for c in node if isinstance(c.tag, str)]
        if not children or prose <= 0:
            return node
        child = max(children, key=lambda c: text_len[c] - link_len[c])
        if text_len[child] - link_len[child] < _BODY_SHARE * prose:
            return node
        node = child


def _with_bodies(members: list, text_len, link_len) -> list[Block]:
    """Each member's body: the element kind (tag, class) that occurs once in
    most members, lies outside the poster block and holds the most non-link
    text (a post's content box beside its author box), a box with one text
    in every post excepted (the engine's); where no such kind holds half the
    text outside that box, the descent of ``body_of``."""
    counts, candidates = Counter(), {}
    for member in members:
        kinds: dict[tuple, list] = {}
        for node in member.iterdescendants():
            if isinstance(node.tag, str) and node.tag not in _SKIP:
                kinds.setdefault(element_kind(node), []).append(node)
        user = _poster_node(member)
        for kind, nodes in kinds.items():
            if len(nodes) == 1 and (user is None or not _contains(nodes[0], user)):
                counts[kind] += 1
                candidates[member, kind] = nodes[0]
    total = sum(text_len[m] - link_len[m] for m in members)
    ranked = []
    for kind, count in counts.items():
        if count >= _EVIDENCE_SHARE * len(members):
            elements = [e for (m, k), e in candidates.items() if k == kind]
            ranked.append((sum(text_len[e] - link_len[e] for e in elements), kind, elements))
    ranked.sort(key=lambda r: r[0], reverse=True)
    best, chrome = None, 0
    for prose, kind, elements in ranked:
        if _same_in_all(elements):
            # what the posters wrote differs from post to post; a box with one text in every
            # post (a vote-and-share bar longer than short answers) is the engine's chrome
            chrome = max(chrome, prose)
            continue
        if prose > 0.5 * (total - chrome):
            best = kind
        break
    blocks = []
    for member in members:
        body = candidates.get((member, best))
        blocks.append(Block(member, body if body is not None else body_of(member, text_len, link_len)))
    return blocks


def _same_in_all(elements: list) -> bool:
    """Three or more ``elements`` all show one text (digits aside) with words in it: a
    post's date or counts alone read the same with their digits aside, but say something."""
    texts = {digits_aside(flat_text(e)) for e in elements}
    return (len(elements) >= _TEMPLATE_MIN_BOXES and len(texts) == 1
            and sum(c.isalpha() for c in next(iter(texts))) >= _MIN_BODY_CHARS)


def _contains(element, node) -> bool:
    return element is node or any(a is element for a in node.iterancestors())


def _poster_node(member):
    """The first profile link or author/user-classed element of a post block."""
    for node in member.iter():
        if isinstance(node.tag, str) and _is_user(node):
            return node
    return None


def _is_user(node) -> bool:
    return bool((node.tag == "a" and _USER_HREF.search(node.get("href") or ""))
                or _USER_CLASS.search(node.get("class") or "") or node.get("itemprop") == "author")


def poster(member, body=None) -> str | None:
    """The poster's name outside ``body`` (anywhere in the post without one): the smallest
    profile link or author/user-classed element with a short text (an author box also
    holds "Joined: …" and post counts)."""
    node = _named_user(member, set(body.iter()) if body is not None else set())
    return flat_text(node) if node is not None else None


def poster_inside(body) -> tuple[str | None, etree._Element | None]:
    """The poster's name printed inside a post's ``body`` (beside an avatar link with no
    text) and the header box around it: the outermost element around the name, inside
    the body, with at most ``_HEADER_CHARS`` of text (name, rank, reputation)."""
    node = _named_user(body, set())
    if node is None:
        return None, None
    header = None
    for box in chain([node], node.iterancestors()):
        if box is body or len(flat_text(box)) > _HEADER_CHARS:
            break
        header = box
    return flat_text(node), header


def _named_user(root, skip: set):
    for node in root.iter():
        if node in skip or not isinstance(node.tag, str) or not _is_user(node):
            continue
        if any(_is_user(child) for child in node.iterdescendants() if isinstance(child.tag, str)):
            continue  # a box around the name: its innermost user element names the poster
        if 0 < len(flat_text(node)) <= 40:
            return node
    return None


def time_texts(member, body):
    """Candidate date strings of a post, outside its body: datetime/title attributes, then short texts."""
    inside = set(body.iter())
    for node in member.iter():
        if node in inside or not isinstance(node.tag, str):
            continue
        for attribute in ("datetime", "title", "data-time", "data-timestamp"):
            value = node.get(attribute)
            if value and _TIME_HINT.search(value) and not _MEMBER_SINCE.search(value):
                yield value
        for text in (node.text, node.tail):
            if _is_time_text(text):
                yield text.strip()


def _is_time_text(text: str | None) -> bool:
    """A short text that reads as a post's time (not a member's "joined" date)."""
    return bool(text and len(text.strip()) < 80 and _TIME_HINT.search(text) and not _MEMBER_SINCE.search(text))


def readability_posts(tree, copy) -> list[Block]:
    """Posts found from Readability's block: ``copy`` is its first element, a copy
    of a page element. When that element is a post's body (``_post_block``: a
    poster and a time beside it, no headline), every element of its kind on the
    page that is one too is a post, in page order: a question and its one or two
    answers, or a single post, which the sibling test (three posts under one
    parent) cannot see. [] when the block is no post body."""
    if _HEADLINE(copy):  # its block would hold the headline too: an article
        return []
    body = in_page(tree, copy)
    if body is None or _post_block(body) is None:
        return []
    kind = element_kind(body)
    same = [e for e in tree.iter(body.tag) if element_kind(e) == kind and _has_text(e, _MIN_KIND_CHARS)]
    nested = set(same)
    outermost = [e for e in same if not any(a in nested for a in e.iterancestors())]
    return [Block(block, e) for e in outermost if (block := _post_block(e)) is not None]


def is_lone_post(blocks: list[Block]) -> bool:
    """``blocks`` (of ``readability_posts``) are the page's single post: neither its
    block's kind nor its body's occurs again on the page with text (a thread's
    posts, a list's entries)."""
    if len(blocks) != 1:
        return False
    page = blocks[0].body.getroottree()
    return all(_kind_count(page, element) == 1 for element in (blocks[0].element, blocks[0].body))


def in_page(tree, copy):
    """The element of ``tree`` that ``copy`` was copied from: same id (else same
    class) and the same text start; None if there is no single one."""
    if copy.get("id"):
        found = _BY_ID(tree, value=copy.get("id"))
    elif copy.get("class"):
        found = _BY_CLASS(tree, value=copy.get("class"))
    else:
        return None
    start = _text_start(copy, 80)
    matches = [e for e in found if _text_start(e, 80) == start]
    return matches[0] if len(matches) == 1 else None


def _post_block(body):
    """The nearest block around ``body`` (up to ``_BLOCK_LEVELS`` levels) showing a poster
    and a time outside it, if it holds no headline (an article's block has its h1/h2
    beside the byline); else None. Each level adds only the nodes beside the previous one."""
    user = timed = False
    node = body
    for _ in range(_BLOCK_LEVELS):
        block = node.getparent()
        if block is None or block.tag in ("body", "html"):
            return None
        added = chain([block], (n for child in block if child is not node for n in child.iter()))
        for n in added:
            if user and timed:
                break
            if not isinstance(n.tag, str) or n.tag in _SKIP:
                continue
            user = user or _is_user(n)
            timed = timed or _shows_own_time(n)
        if user and timed:
            return None if _HEADLINE(block) else block
        node = block
    return None


def _shows_own_time(node) -> bool:
    """``node`` itself (not its descendants) is a ``<time>`` or carries a short date text."""
    if node.tag == "time":
        return True
    return _is_time_text(node.text) or _is_time_text(node.tail)


def _has_text(element, size: int) -> bool:
    """``len("".join(element.itertext()).strip()) >= size``, reading no more text than that
    needs (the elements tested are often a page's nested containers)."""
    text = ""
    for piece in element.itertext():
        text += piece
        if len(text) >= size and len(text.strip()) >= size:
            return True
    return len(text.strip()) >= size


def _text_start(element, size: int) -> str:
    """``" ".join("".join(element.itertext()).split())[:size]``, reading no more text than that
    needs: the normalised text of a prefix is a prefix of the whole's normalised text."""
    text = ""
    for piece in element.itertext():
        text += piece
        if len(text) > size:
            start = " ".join(text.split())
            if len(start) >= size:
                return start[:size]
    return " ".join(text.split())[:size]


def _kind_count(page, element) -> int:
    """Elements of the page of ``element``'s kind (tag, first class word) holding some text."""
    kind = element_kind(element)
    return sum(1 for e in page.iter(element.tag) if element_kind(e) == kind and _has_text(e, _MIN_KIND_CHARS))
