"""The sources file: which sites to crawl and how, validated before any crawling.

``load_sources(path)`` reads a YAML file of the form ``{sources: [...]}`` (see
sources.yaml and docs/crawling.md) and returns :class:`Source` objects. Any
problem raises :class:`SourcesError` whose message is one line naming the file,
the source and the field, e.g.
``sources.yaml: source 'cifnews': field 'kind': must be news or forum``.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from cssselect import HTMLTranslator, SelectorError
from lxml import etree
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
START_TYPES = {"news": {"feed", "sitemap", "listing", "search"}, "forum": {"board", "feed", "search"}}


class SourcesError(ValueError):
    """The sources file is unreadable or invalid; the message is one line."""


class _FieldProblem(ValueError):
    """A model-level check that blames one field (pydantic would report the model)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StartPoint(_Model):
    """Where a crawl starts; ``search`` URLs hold ``{keyword}``, expanded per keyword."""

    type: Literal["feed", "sitemap", "listing", "board", "search"]
    url: str
    keywords: list[str] = []
    keyword_encoding: str = "utf-8"  # GBK sites (many Discuz! forums) expect gbk-encoded queries

    @field_validator("keyword_encoding")
    @classmethod
    def _known_codec(cls, name: str) -> str:
        try:
            codecs.lookup(name)
        except LookupError:
            raise ValueError(f"unknown encoding {name!r}") from None
        return name

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL")
        try:
            parts.port  # noqa: B018 - raises ValueError for a port outside 0-65535
        except ValueError:
            raise ValueError(f"{url!r} has an invalid port") from None
        return url

    @model_validator(mode="after")
    def _keywords_only_for_search(self) -> "StartPoint":
        if self.type == "search" and ("{keyword}" not in self.url or not self.keywords):
            raise _FieldProblem("keywords", "a search start point needs '{keyword}' in its url and a keywords list")
        if self.type != "search" and (self.keywords or "{keyword}" in self.url):
            raise _FieldProblem("keywords", "keywords and '{keyword}' are only for type search")
        return self

    def urls(self) -> list[str]:
        """The concrete URLs: one per keyword (URL-encoded) for search, else the url."""
        if self.type != "search":
            return [self.url]
        return [self.url.replace("{keyword}", quote(k, safe="", encoding=self.keyword_encoding)) for k in self.keywords]


class Links(_Model):
    """URL rules, Python regular expressions searched in absolute URLs.

    allow: content pages (news articles; forum thread pages, which must capture
    ``(?P<thread>...)`` and may capture ``(?P<page>...)``). Empty allows all.
    follow: more index pages to walk from listing/board pages (pagination, boards).
    deny: never requested, wins over allow and follow.
    """

    allow: list[str] = []
    follow: list[str] = []
    deny: list[str] = []

    @field_validator("allow", "follow", "deny")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise _FieldProblem(f"[{i}]", f"bad regular expression {pattern!r}: {exc}") from None
        return patterns


Selector = str | list[str]


class Extract(_Model):
    """Overrides for the extractor, passed on as the RAW PAGE item's ``rules``.

    Selectors are XPath, or CSS when written ``css:...``; a list means "first that
    matches". For forums, ``post`` selects one element per post and the other
    selectors are relative to it; ``post_id`` is a regex on that element's id.
    """

    title: Selector | None = None
    body: Selector | None = None
    date: Selector | None = None
    author: Selector | None = None
    drop: list[str] = []             # elements removed first (ads, signatures, edit notes)
    post: Selector | None = None
    post_id: str | None = None
    floor: Selector | None = None
    quote: Selector | None = None

    @field_validator("title", "body", "date", "author", "drop", "post", "floor", "quote")
    @classmethod
    def _selectors(cls, value: Selector | None) -> Selector | None:
        if value is None:
            return None
        converted = [_to_xpath(s) for s in ([value] if isinstance(value, str) else value)]
        return converted[0] if isinstance(value, str) else converted

    @field_validator("post_id")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"bad regular expression {value!r}: {exc}") from None
        return value


def _to_xpath(selector: str) -> str:
    """XPath for a selector written as XPath or as ``css:...``; raise ValueError if invalid."""
    if selector.startswith("css:"):
        try:
            return HTMLTranslator().css_to_xpath(selector[4:].strip())
        except SelectorError as exc:
            raise ValueError(f"bad CSS selector {selector!r}: {exc}") from None
    try:
        etree.XPath(selector, namespaces={"re": "http://exslt.org/regular-expressions"})
    except etree.XPathSyntaxError as exc:
        raise ValueError(f"bad XPath {selector!r}: {exc}") from None
    return selector


class Schedule(_Model):
    """Either a crontab line or an interval, for the scheduler."""

    cron: str | None = None
    interval_minutes: int | None = Field(default=None, ge=1, le=366 * 24 * 60)  # at most a year

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, cron: str | None) -> str | None:
        if cron is not None:
            try:
                CronTrigger.from_crontab(cron)
            except ValueError as exc:
                raise ValueError(f"bad crontab {cron!r}: {exc}") from None
        return cron

    @model_validator(mode="after")
    def _exactly_one(self) -> "Schedule":
        if (self.cron is None) == (self.interval_minutes is None):
            raise _FieldProblem("cron", "give exactly one of cron or interval_minutes")
        return self


class Politeness(_Model):
    """Per-source overrides of the project's politeness settings."""

    # Upper bounds turn a typo (1e20) into an error here instead of an overflow in a timer.
    download_delay: float | None = Field(default=None, ge=0, le=3600)
    concurrency: int | None = Field(default=None, ge=1, le=32)
    autothrottle_target: float | None = Field(default=None, gt=0, le=32)
    autothrottle_start_delay: float | None = Field(default=None, ge=0, le=3600)
    download_timeout: float | None = Field(default=None, gt=0, le=3600)
    retry_backoff: float | None = Field(default=None, ge=0, le=3600)   # seconds before the first retry

    def scrapy_settings(self) -> dict[str, Any]:
        names = {"download_delay": "DOWNLOAD_DELAY", "concurrency": "CONCURRENT_REQUESTS_PER_DOMAIN",
                 "autothrottle_target": "AUTOTHROTTLE_TARGET_CONCURRENCY",
                 "autothrottle_start_delay": "AUTOTHROTTLE_START_DELAY", "download_timeout": "DOWNLOAD_TIMEOUT",
                 "retry_backoff": "BANWAVE_RETRY_BACKOFF_BASE"}
        return {names[k]: v for k, v in self.model_dump(exclude_none=True).items()}


class Source(_Model):
    """One site to monitor."""

    name: str
    kind: Literal["news", "forum"]
    lang: str | None = None
    timezone: str | None = None      # zone of the site's dates printed without an offset (else EXTRACT_DEFAULT_TZ)
    start: list[StartPoint] = Field(min_length=1)
    domains: list[str] = []          # extra domains content may live on (feeds pointing off-site)
    links: Links = Links()
    extract: Extract = Extract()
    schedule: Schedule = Schedule(interval_minutes=60)
    politeness: Politeness = Politeness()
    max_index_pages: int = Field(default=5, ge=1, le=10000)   # listing/board pages walked per start point and run
    max_pages: int | None = Field(default=None, ge=1, le=10**9)  # pages fetched per run; the rest waits in the job dir
    enabled: bool = True
    verified: bool = True            # false: URLs written from public knowledge, never fetched
    allow_private: bool = False      # true: may reach loopback/private addresses (crawlers.guard; the offline demo)
    notes: str | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not NAME_RE.match(name):
            raise ValueError("must be a slug: lowercase letters, digits and '-', at most 40 characters")
        return name

    @field_validator("lang")
    @classmethod
    def _lang(cls, lang: str | None) -> str | None:
        if lang is not None and not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", lang):
            raise ValueError("must be a language tag such as zh, en or zh-Hant")
        return lang

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("must be an IANA time zone such as Asia/Shanghai or Europe/London") from None
        return zone

    @model_validator(mode="after")
    def _fits_kind(self) -> "Source":
        for i, point in enumerate(self.start):
            if point.type not in START_TYPES[self.kind]:
                allowed = ", ".join(sorted(START_TYPES[self.kind]))
                raise _FieldProblem(f"start[{i}].type", f"{point.type!r} is not for {self.kind} sources (use {allowed})")
        if self.kind == "forum":
            if not self.links.allow:
                raise _FieldProblem("links.allow", "a forum source needs thread URL patterns")
            for i, pattern in enumerate(self.links.allow):
                if "thread" not in re.compile(pattern).groupindex:
                    raise _FieldProblem(f"links.allow[{i}]", "a forum thread pattern must capture (?P<thread>...)")
        return self

    def rules(self) -> dict[str, Any] | None:
        """The extraction overrides (and the source's time zone) as the RAW PAGE item's ``rules`` dict, or None."""
        rules = self.extract.model_dump(exclude_defaults=True)
        if self.timezone:
            rules["timezone"] = self.timezone
        return rules or None


def load_sources(path: str | Path) -> list[Source]:
    """Read and validate a sources file; raise SourcesError naming the source and field."""
    path = Path(path)
    label = path.name
    try:
        data = yaml.load(path.read_bytes().decode("utf-8"), Loader=_UniqueKeyLoader)
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read the sources file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SourcesError(f"{label}: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise SourcesError(f"{label}: {where}invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise SourcesError(f"{label}: expected a mapping with a 'sources' list at the top")
    unknown = {key for key in data if key != "sources" and not str(key).startswith("x-")}  # x-*: YAML anchors
    if unknown:
        raise SourcesError(f"{label}: unknown top-level key {sorted(unknown)[0]!r}")

    sources: list[Source] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["sources"]):
        who = f"source {raw.get('name')!r}" if isinstance(raw, dict) and raw.get("name") else f"source #{i + 1}"
        if not isinstance(raw, dict):
            raise SourcesError(f"{label}: {who}: expected a mapping of fields")
        try:
            source = Source.model_validate(raw)
        except ValidationError as exc:
            raise SourcesError(f"{label}: {who}: {_describe(exc)}") from None
        if source.name in seen:
            raise SourcesError(f"{label}: {who}: field 'name': duplicate source name")
        seen.add(source.name)
        sources.append(source)
    return sources


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error: the
    plain loader keeps the last value silently (two ``schedule:`` lines, one of them ignored)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` merges; its keys may be overridden
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def get_source(sources: list[Source], name: str) -> Source:
    for source in sources:
        if source.name == name:
            return source
    known = ", ".join(s.name for s in sources) or "none"
    raise SourcesError(f"no source named {name!r} (known: {known})")


def _describe(exc: ValidationError) -> str:
    """One line for the first pydantic error: field path and a plain message."""
    err = exc.errors()[0]
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    kind, ctx = err["type"], err.get("ctx", {})
    if kind == "literal_error":
        message = "must be " + ctx.get("expected", "").replace("'", "")
    elif kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "value_error":
        problem = ctx.get("error")
        message = str(problem or err["msg"])
        if isinstance(problem, _FieldProblem):
            loc = f"{loc}{'' if problem.field.startswith('[') or not loc else '.'}{problem.field}"
    else:
        message = err["msg"][0].lower() + err["msg"][1:]
    return f"field {loc!r}: {message}" if loc else message
