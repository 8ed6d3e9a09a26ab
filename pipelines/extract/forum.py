"""Forum thread detection and per-post segmentation.

trafilatura treats a thread page as one article and glues all posts (with
quotes and signatures) into one text, so thread pages are segmented here with
XPath profiles for the forum engines we meet (Discuz!, phpBB) plus a generic
profile for repeated ``id="post…"`` blocks, then by the structural detector of
``posts.py`` (repeated author/time/body blocks) for any other engine. A
spider's ``rules`` dict may override any profile key (see docs/extraction.md).
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import datetime

from lxml import etree, html as lxml_html

from pipelines.extract.dates import normalise_date
from pipelines.extract.posts import find_post_blocks, poster, poster_inside, time_texts
from pipelines.extract.dom import (class_xpath, digits_aside, element_text, first, first_text, flat_text, parse_html,
                                   texts)

logger = logging.getLogger(__name__)

_COMMON_DROP = [
    ".//script", ".//style",
    ".//*[contains(translate(@style, ' ', ''), 'display:none')]",  # hidden anti-copy text
]
PROFILES = {
    "discuz": {
        "post": "//div[starts-with(@id, 'post_')][.//*[starts-with(@id, 'postmessage_')]]",
        "post_id": r"^post_(\d+)$",
        "body": ".//*[starts-with(@id, 'postmessage_')]",
        "author": [f".//*[{class_xpath('authi')}]/a[{class_xpath('xw1')}]", ".//a[contains(@href, 'uid')]"],
        "date": [".//*[starts-with(@id, 'authorposton')]/span/@title", ".//*[starts-with(@id, 'authorposton')]"],
        "floor": [".//*[starts-with(@id, 'postnum')]"],
        "quote": [f".//*[{class_xpath('quote')}]", ".//blockquote"],
        "drop": [
            f".//*[{class_xpath('jammer')}]", f".//*[{class_xpath('pstatus')}]",
            f".//*[{class_xpath('sign')}]", f".//*[{class_xpath('attach_nopermission')}]",
            ".//ignore_js_op", f".//*[{class_xpath('a_pr')}]",
        ],
        "title": ["//*[@id='thread_subject']", "//h1"],
    },
    "phpbb": {
        "post": f"//div[{class_xpath('post')}][starts-with(@id, 'p')][.//*[{class_xpath('content')}]]",
        "post_id": r"^p(\d+)$",
        "body": f".//*[{class_xpath('content')}]",
        "author": [f".//*[{class_xpath('author')}]//*[{class_xpath('username')}]",
                   f".//*[{class_xpath('username')}]"],
        "date": [f".//*[{class_xpath('author')}]//time/@datetime", f".//*[{class_xpath('author')}]"],
        "floor": [],
        "quote": [".//blockquote"],
        "drop": [f".//*[{class_xpath('signature')}]", f".//*[{class_xpath('notice')}]"],
        "title": [f"//h2[{class_xpath('topic-title')}]", "//h2", "//h1"],
    },
    "generic": {
        # ids starting p/r/m here, the exact form (_GENERIC_ID) in Python: lxml's EXSLT regex calls back per element
        "post": "//*[@id][contains('pPrRmM', substring(@id, 1, 1))]"
                "[not(contains(@class, 'hentry') or contains(@class, 'type-post'))]",  # WordPress articles
        "post_id": r"(\d+)$",
        "body": [".//*[contains(@class, 'message') or contains(@class, 'content') or contains(@class, 'postbody')]"],
        "author": [".//*[contains(@class, 'author') or contains(@class, 'user')]//a",
                   ".//*[contains(@class, 'author')]"],
        "date": [".//time/@datetime", ".//*[contains(@class, 'date') or contains(@class, 'time')]"],
        "floor": [".//*[contains(@class, 'floor') or contains(@class, 'postnum')]"],
        "quote": [".//blockquote", f".//*[{class_xpath('quote')}]"],
        "drop": [".//*[contains(@class, 'sign')]",
                 # action bars and reaction lists (quote/reply/like buttons, "X reacted"): short, classed so
                 ".//*[contains(@class, 'button') or contains(@class, 'btn') or contains(@class, 'actions')"
                 " or contains(@class, 'controls') or contains(@class, 'react')][string-length(normalize-space(.)) < 60]"],
        "title": ["//h1"],
    },
}
_GENERIC_ID = re.compile(r"^(?:post|pid|p|reply|msg)[-_]?\d+$", re.I)
# A profile's posts carry ids of this form: when no id of the page has it, its XPath
# (a walk over the whole tree) is not run. The page's ids are read once, as one string.
_ID_HINTS = {"discuz": re.compile(r"^post_\d", re.M), "phpbb": re.compile(r"^p\d", re.M),
             "generic": re.compile(_GENERIC_ID.pattern, re.I | re.M)}
_IDS = etree.XPath("//@id", smart_strings=False)
_TEMPLATE_MIN_POSTS = 3
_MAX_TIME_LINE = 60
_CLEAR_TIME = re.compile(r"(?:19|20)\d\d|\d:\d\d|前|ago\b|昨天|今天|yesterday|today", re.I)
_REGEX_NS = {"re": "http://exslt.org/regular-expressions"}
_FLOOR_NAMES = {"楼主": 1, "沙发": 2, "板凳": 3, "地板": 4}
_FLOOR = re.compile(r"(\d+)\s*(?:#|楼|樓|F\b)|#\s*(\d+)|^\s*(\d+)\s*$")
# Quote headers: "张三 发表于 2021-8-15 10:23", "张三 wrote:", "引用 张三 的帖子".
_QUOTE_HEAD = re.compile(
    r"^(?:引用\s*)?(?P<who>[^\s:：]{1,40}?)\s*(?:发表于|發表於|wrote|写道|說|说)[:：]?(?:\s.*)?$", re.I
)
_THREAD_ID = re.compile(r"thread-(\d+)-|[?&](?:tid|t|threadid|topic)=(\d+)")
_QUOTE_PID = re.compile(r"[?&]pid=(\d+)|#p(?:id)?(\d+)")


def thread_id_from_url(url: str) -> str | None:
    """Thread id from Discuz!/phpBB/vBulletin-style URLs (thread-123-1-1.html, tid=123, t=123)."""
    match = _THREAD_ID.search(url or "")
    return next(g for g in match.groups() if g) if match else None


def is_thread(page, rules: dict | None = None) -> bool:
    """True if the page (HTML string or lxml tree) holds forum posts."""
    tree = parse_html(page) if isinstance(page, str) else page
    if tree is None:
        return False
    return _profile(tree, rules) is not None


def segment_posts(page, url: str = "", rules: dict | None = None, crawled_at: datetime | None = None,
                  default_tz: str = "Asia/Shanghai") -> tuple[str | None, list[dict]]:
    """Split a thread page into ``(thread_title, posts)``.

    Each post dict has post_id, floor, author, published, text, quote and
    reply_to; text excludes quotes, signatures, edit notices and hidden text.
    floor is the forum's own number, else the post's position on the page.
    """
    tree = parse_html(page) if isinstance(page, str) else page
    if tree is None:
        return None, []
    title, posts, _ = find_thread(tree, url, rules, crawled_at, default_tz)
    return title, posts


def find_thread(tree, url: str = "", rules: dict | None = None, crawled_at: datetime | None = None,
                default_tz: str = "Asia/Shanghai") -> tuple[str | None, list[dict], str | None]:
    """``(thread_title, posts, method)``: engine profiles (and site rules) first,
    then the structural detector; method is the profile's name ("rules",
    "discuz", "phpbb", "generic"), "structure" or None."""
    found = _profile(tree, rules)
    title, posts, method = None, [], None
    if found is not None:
        method, profile, elements = found
        title = first_text(tree, profile.get("title"))
        posts = [_post(element, profile, crawled_at, default_tz) for element in elements]
    if method in (None, "generic"):
        blocks = find_post_blocks(tree)
        # post-like ids only on replies nested in comment boxes (the boxes' own id on an
        # empty anchor beside them): the repeated boxes are the thread, each followed
        # by its replies unless its body holds them already
        if blocks and (method is None or len(blocks) >= 2 and _all_inside(elements, [b.element for b in blocks])):
            replies = list(zip(elements, posts)) if method == "generic" else []
            title, posts = block_posts(tree, blocks, rules, crawled_at, default_tz)
            posts = _with_replies(blocks, posts, replies)
            method = "structure"
    drop_template_lines(posts)
    for index, post in enumerate(posts, start=1):
        post["floor"] = post["floor"] or index
    logger.debug("%s: %d posts segmented (%s)", url, len(posts), method)
    return title, posts, method


def _with_replies(blocks: list, posts: list[dict], replies: list) -> list[dict]:
    """``posts`` (one per block), each followed by the ``(element, post)`` replies inside
    its block and outside its body."""
    merged = []
    for block, post in zip(blocks, posts, strict=True):
        merged.append(post)
        merged += [reply for element, reply in replies
                   if _all_inside([element], [block.element]) and not _all_inside([element], [block.body])]
    return merged


def _all_inside(elements: list, containers: list) -> bool:
    """Every element lies inside one of ``containers``."""
    around = set(containers)
    return all(any(a in around for a in element.iterancestors()) for element in elements)


def block_posts(tree, blocks: list, rules: dict | None, crawled_at: datetime | None,
                default_tz: str) -> tuple[str | None, list[dict]]:
    """``(thread_title, posts)`` of structurally found post blocks (``posts.Block``),
    without engine-specific XPaths; floors are positions where the page shows none."""
    if not blocks:
        return None, []
    title = first_text(tree, (rules or {}).get("title") or ["//h1", "//title"])
    drops = list((rules or {}).get("drop") or [])
    posts = [_block_post(block, drops, crawled_at, default_tz) for block in blocks]
    drop_template_lines(posts)
    for index, post in enumerate(posts, start=1):
        post["floor"] = post["floor"] or index
    return title, posts


def drop_template_lines(posts: list[dict]) -> None:
    """Remove the lines that recur (digits aside) in at least half of the
    posts, three at least: the engine's chrome printed in every post (like
    and reply buttons, rank titles, "Posts: 22"), not what anyone wrote. A
    line that is a post's whole text stays: short posts ("顶", "+1") are posts."""
    if len(posts) < _TEMPLATE_MIN_POSTS:
        return
    counts = Counter()
    for post in posts:
        counts.update({digits_aside(line) for line in post["text"].split("\n")})
    chrome = {line for line, n in counts.items() if n >= max(_TEMPLATE_MIN_POSTS, len(posts) / 2)}
    for post in posts:
        lines = post["text"].split("\n")
        kept = [line for line in lines if digits_aside(line) not in chrome]
        if kept and len(kept) < len(lines):
            post["text"] = "\n".join(kept)


def _profile(tree, rules: dict | None):
    """The first profile (spider rules first) whose post XPath matches: ``(name, profile, posts)``."""
    rules = {key: value for key, value in (rules or {}).items() if value}
    candidates = list(PROFILES.items())
    if rules.get("post"):
        candidates.insert(0, ("rules", {**PROFILES["generic"], **rules}))
    elif rules:  # no post selector: the built-in profiles, with the site's title and extra drops
        extra = {key: rules[key] for key in ("title",) if key in rules}
        candidates = [(name, {**p, **extra, "drop": list(p["drop"]) + list(rules.get("drop", []))})
                      for name, p in candidates]
    ids = "\n".join(_IDS(tree))
    for name, profile in candidates:
        hint = _ID_HINTS.get(name)
        if hint is not None and not hint.search(ids):
            continue
        try:
            elements = tree.xpath(profile["post"], namespaces=_REGEX_NS)
        except etree.XPathError:  # a bad XPath in site rules must not stop the crawl
            logger.warning("invalid post XPath %r", profile["post"])
            continue
        if profile["post"] == PROFILES["generic"]["post"]:
            elements = _generic_posts(elements)
        elements = [e for e in elements if isinstance(e, lxml_html.HtmlElement) and first(e, profile["body"])]
        minimum = 2 if profile["post"] == PROFILES["generic"]["post"] else 1  # generic ids are weak evidence alone
        if len(elements) >= minimum:
            return name, profile, elements
    return None


def _generic_posts(elements: list) -> list:
    """Elements with a post-like id (post-12, pid12, p12, reply_12, msg12), outermost only."""
    posts = [e for e in elements if _GENERIC_ID.match(e.get("id"))]
    chosen = set(posts)
    return [e for e in posts if not any(a in chosen for a in e.iterancestors())]


def _post(element, profile: dict, crawled_at, default_tz) -> dict:
    match = re.search(profile["post_id"], element.get("id", ""))
    post_id = match.group(match.lastindex or 0) if match else None  # a site regex may have no group
    body = first(element, profile["body"])[0]
    # the first candidate that reads as a date: an empty or odd attribute never beats visible text
    published = next((d for raw in texts(element, profile.get("date"))
                      if (d := normalise_date(raw, crawled_at, default_tz))), None)
    return {
        "post_id": post_id,
        "floor": _floor(first_text(element, profile.get("floor"))),
        "author": first_text(element, profile.get("author")),
        "published": published,
        **_body_parts(body, list(profile.get("drop") or []), profile.get("quote")),
    }


def _block_post(block, drops: list, crawled_at, default_tz) -> dict:
    """A post found by the structural detector: id from its element, no engine-specific XPaths."""
    match = re.search(r"(\d+)\D*$", block.element.get("id") or block.element.get("data-post-id") or "")
    published = next((d for raw in time_texts(block.element, block.body)
                      if (d := normalise_date(raw, crawled_at, default_tz))), None)
    # outside the body, else inside it: some engines print the name in the content box
    # beside an avatar link with no text, in a header with the poster's rank (not text)
    author, header = poster(block.element, block.body), None
    if author is None:
        author, header = poster_inside(block.body)
    drops = PROFILES["generic"]["drop"] + drops
    parts = _body_parts(block.body, drops, PROFILES["generic"]["quote"], [header] if header is not None else [])
    times = _strip_poster_and_times(parts, author, crawled_at, default_tz)
    if header is not None and not parts["text"]:  # the header box was the whole post ("+1")
        parts = _body_parts(block.body, drops, PROFILES["generic"]["quote"])
        times = _strip_poster_and_times(parts, author, crawled_at, default_tz)
    if published is None and times:
        published = _exact_date(block.body, times[0], crawled_at, default_tz) or \
            normalise_date(times[0], crawled_at, default_tz)
    return {"post_id": match.group(1) if match else None, "floor": None, "author": author,
            "published": published, **parts}


def _strip_poster_and_times(parts: dict, author: str | None, crawled_at, default_tz) -> list[str]:
    """Drop the poster's name and time lines from ``parts["text"]`` (a short post's body is
    its whole block, and some engines print the time inside the content box); the time lines."""
    lines = parts["text"].split("\n")
    times = [line for line in lines if _is_time_line(line, crawled_at, default_tz)]
    parts["text"] = "\n".join(line for line in lines if line != author and line not in times)
    return times


def _exact_date(body, line: str, crawled_at, default_tz) -> str | None:
    """The date in the datetime/title attribute of the element printing the time ``line``
    ("1周前" over title="2024-05-13 22:13:05"): exact where the line is relative."""
    for node in body.iter():
        if isinstance(node.tag, str) and flat_text(node) == line:
            for attribute in ("datetime", "title"):
                if node.get(attribute) and (date := normalise_date(node.get(attribute), crawled_at, default_tz)):
                    return date
    return None


def _is_time_line(line: str, crawled_at, default_tz) -> bool:
    """A post header line such as "Topic starter 08/05/2024 9:58 pm" or "3 小时前": short, with a
    year, a clock time or a relative date (a bare "4-1" is a score, not a date)."""
    return len(line) < _MAX_TIME_LINE and bool(_CLEAR_TIME.search(line)) and \
        normalise_date(line, crawled_at, default_tz) is not None


def _body_parts(body, drops: list, quote_xpaths, skip_elements: list = ()) -> dict:
    """text (without quotes, signatures, hidden text), quote and reply_to of a post body."""
    skip = set(skip_elements)
    for xpath in _COMMON_DROP + drops:
        skip.update(first(body, xpath))
    quotes = [q for q in first(body, quote_xpaths) if q not in skip]
    quotes = [q for q in quotes if not any(a in quotes for a in q.iterancestors())]  # nested: keep outer
    quote_text, reply_to = _quote(quotes, skip)
    skip.update(quotes)
    return {"text": element_text(body, skip), "quote": quote_text, "reply_to": reply_to}


def _quote(quotes: list, skip: set) -> tuple[str | None, str | None]:
    """Quoted text without its "X 发表于 …" header, and what it replies to: the
    quoted post's id when the quote links to it (unique), else the quoted author."""
    if not quotes:
        return None, None
    parts, post_ids, authors = [], [], []
    for quote in quotes:
        cites = quote.xpath(".//cite")  # phpBB/vBulletin put "X wrote:" in <cite>
        lines = element_text(quote, skip | set(cites)).split("\n")
        head = _QUOTE_HEAD.match(element_text(cites[0])) if cites else None
        if head is None and lines:
            head = _QUOTE_HEAD.match(lines[0])
            if head:
                lines = lines[1:]
        if head:
            authors.append(head["who"])
        for href in quote.xpath(".//a/@href"):
            pid = _QUOTE_PID.search(href)
            if pid:
                post_ids.append(pid.group(1) or pid.group(2))
        parts.extend(line for line in lines if line)
    return "\n".join(parts) or None, (post_ids or authors or [None])[0]


def _floor(raw: str | None) -> int | None:
    if not raw:
        return None
    for name, floor in _FLOOR_NAMES.items():
        if name in raw:
            return floor
    match = _FLOOR.search(raw)
    return int(next(g for g in match.groups() if g)) if match else None
