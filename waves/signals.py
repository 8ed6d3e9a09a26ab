"""Signals: count series of relevant documents, computed with Elasticsearch aggregations.

One search over ``<prefix>-docs`` (relevant documents, by ``timeline_at`` in
the waves' time zone) returns, per day: documents overall, per source kind
(news, forum), per platform and per seller (the top ones of the period), and
the forum threads with relevant posts; a second search gives each seller's
first relevant mention ever (sellers newly reported hit per day), a third the
hourly counts of the last days. Platforms and sellers are the documents' OWN
mentions (``platforms``, ``sellers``), never the ``context_*`` names a post
inherits from its thread title. Nothing is pulled into Python document by document.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
from elasticsearch import Elasticsearch

logger = logging.getLogger(__name__)

# scope kind -> document field; "overall" counts every relevant document
SCOPE_FIELDS = {"platform": "platforms", "seller": "sellers", "source_kind": "source_kind"}
SCOPE_KINDS = ("overall", "platform", "seller", "source_kind")
OVERALL = "all"
MAX_BUCKETS = 50_000  # stay under Elasticsearch's search.max_buckets (65,536 by default)


@dataclass(frozen=True, order=True)
class Scope:
    """What a series counts: ``Scope("overall", "all")``, ``Scope("seller", "傲基")`` ..."""

    kind: str
    value: str

    @property
    def field(self) -> str | None:
        return SCOPE_FIELDS.get(self.kind)

    def query(self) -> dict | None:
        """The filter that selects this scope's documents (None for overall)."""
        return {"term": {self.field: self.value}} if self.field else None

    def __str__(self) -> str:
        return "overall" if self.kind == "overall" else f"{self.kind} {self.value}"


OVERALL_SCOPE = Scope("overall", OVERALL)


@dataclass
class Signals:
    """Daily series over ``days`` (one value per day), and hourly overall counts for the last days."""

    days: list[date]
    tz: str
    series: dict[Scope, np.ndarray]
    new_sellers: np.ndarray
    threads: np.ndarray
    hours: list[datetime] = field(default_factory=list)
    hourly: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def weekdays(self) -> np.ndarray:
        return np.array([d.weekday() for d in self.days], dtype=int)

    def overall(self) -> np.ndarray:
        return self.series[OVERALL_SCOPE]


def relevant_filter(since: date, until: date, tz: str) -> list[dict]:
    """Relevant documents whose ``timeline_at`` falls on the days ``since`` .. ``until`` - 1 (in ``tz``)."""
    return [{"term": {"relevant": True}},
            {"range": {"timeline_at": {"gte": since.isoformat(), "lt": until.isoformat(), "time_zone": tz,
                                       "format": "yyyy-MM-dd"}}}]


def _histogram(since: date, until: date, tz: str) -> dict:
    return {"date_histogram": {"field": "timeline_at", "calendar_interval": "day", "time_zone": tz,
                               "format": "yyyy-MM-dd", "min_doc_count": 0,
                               "extended_bounds": {"min": since.isoformat(),
                                                   "max": (until - timedelta(days=1)).isoformat()}}}


def _series(buckets: list[dict], index: dict[str, int]) -> np.ndarray:
    values = np.zeros(len(index), dtype=np.int64)
    for bucket in buckets:
        position = index.get(bucket["key_as_string"])
        if position is not None:
            values[position] = bucket["doc_count"]
    return values


def compute(client: Elasticsearch, alias: str, since: date, until: date, tz: str, *, max_scopes: int,
            hourly_days: int = 0, now: datetime | None = None) -> Signals:
    """The signals for the days ``since`` .. ``until`` - 1 in time zone ``tz``.

    Platforms and sellers are the ``max_scopes`` most mentioned of the period
    each (fewer if the days times scopes would pass the bucket limit).
    """
    days = [since + timedelta(days=i) for i in range((until - since).days)]
    if not days:
        raise ValueError(f"empty period: {since} .. {until}")
    index = {d.isoformat(): i for i, d in enumerate(days)}
    per_scope = max(1, min(max_scopes, MAX_BUCKETS // (2 * len(days)) - 2))
    if per_scope < max_scopes:
        logger.debug("signals: %d days, so the top %d platforms and sellers only", len(days), per_scope)
    histogram = _histogram(since, until, tz)
    aggs = {
        "days": {**histogram, "aggs": {
            "kinds": {"terms": {"field": "source_kind", "size": 5}},
            "posts": {"filter": {"term": {"doc_type": "post"}},
                      "aggs": {"threads": {"cardinality": {"field": "thread_id"}}}}}},
        **{kind: {"terms": {"field": fld, "size": per_scope}, "aggs": {"days": histogram}}
           for kind, fld in SCOPE_FIELDS.items() if kind != "source_kind"},
    }
    response = client.search(index=alias, size=0, query={"bool": {"filter": relevant_filter(since, until, tz)}},
                             aggs=aggs)
    result = response["aggregations"]
    day_buckets = result["days"]["buckets"]
    series = {OVERALL_SCOPE: _series(day_buckets, index)}
    kinds = sorted({k["key"] for b in day_buckets for k in b["kinds"]["buckets"]})
    for kind in kinds:
        counts = np.zeros(len(days), dtype=np.int64)
        for bucket in day_buckets:
            for k in bucket["kinds"]["buckets"]:
                if k["key"] == kind and bucket["key_as_string"] in index:
                    counts[index[bucket["key_as_string"]]] = k["doc_count"]
        series[Scope("source_kind", kind)] = counts
    for kind in ("platform", "seller"):
        for bucket in result[kind]["buckets"]:
            series[Scope(kind, bucket["key"])] = _series(bucket["days"]["buckets"], index)
    threads = np.zeros(len(days), dtype=np.int64)
    for bucket in day_buckets:
        if bucket["key_as_string"] in index:
            threads[index[bucket["key_as_string"]]] = bucket["posts"]["threads"]["value"]
    signals = Signals(days=days, tz=tz, series=series, new_sellers=new_sellers(client, alias, days, tz),
                      threads=threads)
    if hourly_days > 0:
        signals.hours, signals.hourly = hourly(client, alias, until, tz, hourly_days, now)
    return signals


def new_sellers(client: Elasticsearch, alias: str, days: list[date], tz: str) -> np.ndarray:
    """Per day, the sellers whose first relevant mention (ever, not only in the period) fell on it."""
    index = {d: i for i, d in enumerate(days)}
    zone = ZoneInfo(tz)
    counts = np.zeros(len(days), dtype=np.int64)
    query = {"bool": {"filter": [{"term": {"relevant": True}}, {"exists": {"field": "timeline_at"}}]}}
    after = None
    while True:
        composite = {"size": 1000, "sources": [{"seller": {"terms": {"field": "sellers"}}}]}
        if after:
            composite["after"] = after
        response = client.search(index=alias, size=0, query=query, aggs={
            "sellers": {"composite": composite, "aggs": {"first": {"min": {"field": "timeline_at"}}}}})
        agg = response["aggregations"]["sellers"]
        for bucket in agg["buckets"]:
            first = datetime.fromtimestamp(bucket["first"]["value"] / 1000, timezone.utc).astimezone(zone).date()
            if first in index:
                counts[index[first]] += 1
        after = agg.get("after_key")
        if not agg["buckets"] or not after:
            return counts


def hourly(client: Elasticsearch, alias: str, until: date, tz: str, hours_days: int,
           now: datetime | None = None) -> tuple[list[datetime], np.ndarray]:
    """Relevant documents per hour over the ``hours_days`` days before ``until`` (up to ``now``)."""
    zone = ZoneInfo(tz)
    end = datetime.combine(until, datetime.min.time(), zone)
    if now is not None:
        end = min(end, now.astimezone(zone).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
    start = end - timedelta(days=hours_days)
    hours = [start + timedelta(hours=i) for i in range(int((end - start).total_seconds() // 3600))]
    response = client.search(index=alias, size=0, query={"bool": {"filter": [
        {"term": {"relevant": True}},
        {"range": {"timeline_at": {"gte": start.isoformat(), "lt": end.isoformat()}}}]}}, aggs={
        "hours": {"date_histogram": {"field": "timeline_at", "fixed_interval": "1h", "time_zone": tz,
                                     "min_doc_count": 0}}})
    index = {h.astimezone(timezone.utc): i for i, h in enumerate(hours)}
    counts = np.zeros(len(hours), dtype=np.int64)
    for bucket in response["aggregations"]["hours"]["buckets"]:
        position = index.get(datetime.fromtimestamp(bucket["key"] / 1000, timezone.utc))
        if position is not None:
            counts[position] = bucket["doc_count"]
    return hours, counts

