"""Publication date and author from the visible byline around the headline.

Chinese portals, blogs and papers print them as text, not markup: a line
such as "2022-02-13 09:57 来源：光明网" under the headline, "本报记者 王建宏
张文攀" above or in the first paragraph, "（总台记者 张倩）" or "编辑：苏亮"
after the body. So the page's text nodes are read once, the headline and
the start and end of the extracted main text are located among them, and
the date closest to the headline and the strongest byline near the headline
or the body's ends are taken. No site-specific rule: only the byline words.
"""
from __future__ import annotations

import re

from lxml import etree

from pipelines.extract.dates import normalise_date

# (script and style elements hold text only, so their text nodes are their children; the
# descendant axis and parent tests walk less than //text() and ancestor tests, same nodes)
_TEXTS = etree.XPath("//body/descendant::text()[normalize-space()][not(parent::script or parent::style)]",
                     smart_strings=False)
# A date a byline shows: with a year (a bare "4-1" is a score, not a date).
_YEAR = re.compile(r"(?:19|20)\d\d\s*[年/.-]\s*\d{1,2}")
FULL_DATE = re.compile(r"(?:19|20)\d\d\s*[年/.-]\s*\d{1,2}\s*[月/.-]\s*\d{1,2}")
_CJK_NAME = r"[\u4e00-\u9fff·]{2,4}(?![\u4e00-\u9fff])"  # a personal name ends where the CJK run ends
_NAMES = rf"{_CJK_NAME}(?:[ \u3000、，,]+{_CJK_NAME})*"
_HANDLE = r"[\w.\-\u4e00-\u9fff]{2,20}?"
# Byline forms, strongest first: the writer, the reporter, the poster, the editor.
_BYLINES = [
    # an explicit 作者： may name a role ("本报评论员") as well as people
    re.compile(rf"(?:作者|撰文|撰稿|文)\s*[:：/]\s*({_NAMES}|[\u4e00-\u9fff]{{5,8}}(?![\u4e00-\u9fff])"
               rf"|[A-Za-z][\w .\-]{{1,30}}?)\s*(?:$|[|｜\s)）])"),
    re.compile(rf"(?:记者|通讯员)\s*[:：]?\s*({_NAMES})"),
    re.compile(rf"(?:^|\s)({_CJK_NAME})\s*/\s*文"),
    re.compile(rf"(?:本贴由|由)\s*({_HANDLE})\s*(?:于|张贴|發表|发表)"),
    re.compile(rf"^({_HANDLE})\s*(?:发表于|發表於)"),
    re.compile(rf"(?:责任编辑|责编|编辑)\s*[:：]\s*({_NAMES}|[A-Za-z][\w .\-]{{1,30}}?)\s*(?:$|[|｜\s)）])"),
]
# "（袁源）", "（姚峰 上海报道）" closing a news text: only at the body's end, since a headline or
# page title line may end in a bracketed word too ("北医新闻网_(新闻)")
_CLOSING_BYLINE = re.compile(rf"[（(]\s*({_CJK_NAME})(?:\s+[\u4e00-\u9fff]{{2,6}}报道)?\s*[)）]$")
_LONE_NAME = re.compile(rf"^({_CJK_NAME})$")  # an essay's author line right under its title
_BEFORE_HEADLINE = 8   # text nodes above the headline still in its byline block (kicker, date bar)
_AFTER_BODY = 6        # text nodes after the main text that may carry its credits
_HEADLINE_SEARCH = 40  # how far above the body the headline is looked for
_LAST_LINES = 5       # closing lines of the body searched for credits
_SHORT_NODE = 25       # text nodes shorter than this may be pieces of one byline


def page_lines(tree) -> list[str]:
    """The page body's text nodes, whitespace collapsed (one C-level XPath, no tree walk);
    nodes of no-break spaces only (layout cells) are left out, like blank ones."""
    return [line for line in (" ".join(text.split()) for text in _TEXTS(tree)) if line]


class Byline:
    """Where the headline and the main text lie among the page's text nodes."""

    def __init__(self, lines: list[str], text: str, title: str | None):
        self.lines = lines
        # collapsed as the page's nodes are: Chinese paragraphs open with ideographic spaces
        body = [" ".join(line.split()) for line in text.split("\n") if line.strip()]
        self.start = _locate(lines, body[0], 0) if body else None
        last = next((line for line in reversed(body) if len(line) >= _SHORT_NODE), None)  # "- 关注" is anywhere
        self.end = _locate(lines, last, self.start or 0) if last and self.start is not None else None
        self.headline = self.start
        if self.start is not None and title:
            for index in range(self.start, max(-1, self.start - _HEADLINE_SEARCH), -1):
                if _same_headline(lines[index], title):
                    self.headline = index
                    break
        self.text_lines = body[:2] + body[-_LAST_LINES:]

    def date(self, crawled_at, default_tz) -> str | None:
        """The dated node closest to the headline (below it on a tie), from a little above it
        to the body's start; then a date at the body's end or just after it (a signed
        "写于2005年6月12日", "本贴由…于2005年8月12日…发表", a "1998年3月号" issue)."""
        if self.headline is None:
            return None
        low, high = max(0, self.headline - _BEFORE_HEADLINE), min((self.start or self.headline) + 2, len(self.lines) - 1)
        near = sorted(range(low, high + 1), key=lambda i: (abs(i - self.headline), i < self.headline))
        tail = range(max(self.start, self.end - 2), min(self.end + _AFTER_BODY, len(self.lines))) \
            if self.end is not None else range(0)
        for form in (FULL_DATE, _YEAR):  # a full date anywhere in these places beats a month ("2004年12月 (1)" archives)
            for index in list(near) + list(tail):
                line = self.lines[index]
                if form.search(line) and normalise_date(line, crawled_at, default_tz):
                    return line
        return None

    def author(self) -> str | None:
        """The strongest byline form found below the headline, in the body's first and last
        lines, or just after the body (in that order of places); a name in brackets closing
        the text only at its end; else a lone name line right under the headline."""
        # not above the headline: breadcrumbs name channels ("记者看东北")
        head = self.lines[self.headline:(self.start or self.headline) + 3] if self.headline is not None else []
        after = self.lines[self.end:self.end + _AFTER_BODY] if self.end is not None else []
        region = _merge_short(head + self.text_lines + after)
        closing = _merge_short(self.text_lines[-_LAST_LINES:] + after)
        for pattern, lines in [(pattern, region) for pattern in _BYLINES] + [(_CLOSING_BYLINE, closing)]:
            for line in lines:
                match = pattern.search(line)
                if match:
                    return " ".join(match.group(1).replace("，", " ").replace("、", " ").replace(",", " ").split())
        below = self.headline + 1 if self.headline is not None else None
        match = _LONE_NAME.match(self.lines[below]) if below is not None and below < len(self.lines) else None
        return match.group(1) if match else None


def _merge_short(lines: list[str]) -> list[str]:
    """Each line, plus runs of short nodes joined: inline tags split "本贴由 / 大卫 / 于…发表"."""
    merged, run = list(lines), []
    for line in lines + [""]:
        if line and len(line) < _SHORT_NODE:
            run.append(line)
            continue
        if len(run) > 1:
            merged.append(" ".join(run + ([line] if line else [])))
        run = []
    return merged


def _locate(lines: list[str], line: str, start: int) -> int | None:
    """Index of the text node where the extracted ``line`` begins (nodes split paragraphs at inline tags)."""
    head = line[:20]
    for index in range(start, len(lines)):
        node = lines[index]
        if len(node) >= min(8, len(line)) and (node.startswith(head) or head.startswith(node[:20])):
            return index
    return None


def _same_headline(node: str, title: str) -> bool:
    return len(node) >= 4 and (node == title or node in title or title in node)
