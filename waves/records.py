"""Wave records in ``<prefix>-waves``: one document per wave and scope, updated in place.

A tracked wave (waves/tracker.py) becomes a record with what an analyst asks
first: first and last report, onset, peak, documents, stories, threads, the
sellers hit, the largest stated losses with their sources, top keywords. The
details come from one aggregation search per wave over its days and scope
(all waves in one ``msearch``). A record's ``_id`` is its ``wave_id``: the
hash of scope and onset day, or the id of the stored record of the same scope
whose days overlap (so a wave keeps its id when late documents move its onset).
"""
from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch, NotFoundError
from elasticsearch.helpers import streaming_bulk

from waves.signals import Scope, Signals, relevant_filter
from waves.tracker import Track

logger = logging.getLogger(__name__)

LOSS_ROLES = ("loss", "frozen", "fine")   # figure roles that count as a stated loss (the NLP stage's `role`)
TOP_SELLERS, TOP_KEYWORDS, TOP_STORIES, TOP_LOSSES = 20, 10, 5, 5
REPORT_FIELDS = ["url", "title", "timeline_at", "source"]


def wave_id(scope: Scope, onset: date) -> str:
    return hashlib.sha1(f"{scope.kind}\x1f{scope.value}\x1f{onset.isoformat()}".encode()).hexdigest()[:20]


def day_start(day: date, tz: str) -> str:
    """A day as the ISO time of its start in the waves' zone (what Kibana shows as that day)."""
    return datetime.combine(day, time(), ZoneInfo(tz)).isoformat()


def _details_search(scope: Scope, first: date, last: date, tz: str) -> dict:
    filters = relevant_filter(first, last + timedelta(days=1), tz)
    if scope.query():
        filters.append(scope.query())
    return {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": filters}}, "aggs": {
        "first": {"top_hits": {"size": 1, "sort": [{"timeline_at": "asc"}], "_source": REPORT_FIELDS}},
        "last": {"top_hits": {"size": 1, "sort": [{"timeline_at": "desc"}], "_source": REPORT_FIELDS}},
        "kinds": {"terms": {"field": "source_kind", "size": 5}},
        "stories": {"cardinality": {"field": "story_id"}},
        "threads": {"cardinality": {"field": "thread_id"}},
        "sellers_count": {"cardinality": {"field": "sellers"}},
        "sellers": {"terms": {"field": "sellers", "size": TOP_SELLERS}},
        "keywords": {"terms": {"field": "keywords", "size": TOP_KEYWORDS}},
        "top_stories": {"terms": {"field": "story_id", "size": TOP_STORIES * 4}, "aggs": {
            "first": {"top_hits": {"size": 1, "sort": [{"timeline_at": "asc"}], "_source": ["title", "url"]}}}},
        "losses": {"terms": {"field": "loss_cny", "size": TOP_LOSSES * 3, "order": {"_key": "desc"}}, "aggs": {
            "docs": {"top_hits": {"size": 3, "sort": [{"timeline_at": "asc"}],
                                  "_source": ["url", "title", "figures"]}}}},
    }}


def top_stories(buckets: list[dict]) -> list[dict]:
    """The most told stories, one per title: the posts of a thread are stories of their own but
    carry the thread's title, and a list of one thread's posts tells an analyst nothing."""
    stories, titles = [], set()
    for bucket in buckets:
        first = bucket["first"]["hits"]["hits"][0]["_source"]
        if first.get("title") in titles:
            continue
        titles.add(first.get("title"))
        stories.append({"story_id": bucket["key"], "documents": bucket["doc_count"], "title": first.get("title"),
                        "url": first.get("url")})
        if len(stories) == TOP_STORIES:
            break
    return stories


def _report(hits: dict) -> dict | None:
    if not hits["hits"]["hits"]:
        return None
    source = hits["hits"]["hits"][0]["_source"]
    return {"url": source.get("url"), "title": source.get("title"), "time": source.get("timeline_at"),
            "source": source.get("source")}


def stated_losses(buckets: list[dict]) -> list[dict]:
    """The largest loss figures: per distinct value, the first document whose own figure of role
    loss, frozen or fine states it (documents without such a figure are not a source)."""
    losses = []
    for bucket in buckets:
        for hit in bucket["docs"]["hits"]["hits"]:
            source = hit["_source"]
            figure = next((f for f in source.get("figures") or [] if f.get("role") in LOSS_ROLES
                           and f.get("value_cny") is not None and abs(f["value_cny"] - bucket["key"]) < 0.5), None)
            if figure:
                losses.append({"value_cny": bucket["key"], "role": figure["role"], "text": figure.get("text"),
                               "url": source.get("url"), "title": source.get("title")})
                break
        if len(losses) == TOP_LOSSES:
            break
    return losses


def build_records(client: Elasticsearch, docs_alias: str, signals: Signals, tracks: list[Track],
                  detector: str, existing: dict[Scope, list[dict]], now: datetime) -> list[dict]:
    """The records of ``tracks`` (details queried from ``docs_alias``), ids matched with ``existing``."""
    if not tracks:
        return []
    spans, used = [], set()
    for wave in tracks:
        first, last = signals.days[wave.onset], signals.days[wave.end(len(signals.days))]
        stored = _match(existing.get(wave.scope, []), first, last, used)
        if stored and wave.onset == 0 and stored["onset"][:10] < first.isoformat():
            first = date.fromisoformat(stored["onset"][:10])  # the wave began before this run's history
        spans.append((first, last, stored))
    searches = []
    for wave, (first, last, _) in zip(tracks, spans):
        searches += [{"index": docs_alias}, _details_search(wave.scope, first, last, signals.tz)]
    responses = client.msearch(searches=searches)["responses"]
    records = []
    for wave, (first, last, stored), response in zip(tracks, spans, responses):
        if "error" in response:
            raise RuntimeError(f"wave details for {wave.scope}: {response['error'].get('reason', response['error'])}")
        records.append(_record(wave, first, stored, response, signals, detector, now))
    return records


def _match(stored: list[dict], first: date, last: date, used: set[str]) -> dict | None:
    """The stored record (not matched yet) whose days, onset to last active day, overlap ``first`` .. ``last``."""
    for record in sorted(stored, key=lambda r: r["onset"]):
        if (record["wave_id"] not in used and record["onset"][:10] <= last.isoformat()
                and first.isoformat() <= record["last_active_day"][:10]):
            used.add(record["wave_id"])
            return record
    return None


def _record(wave: Track, first: date, stored: dict | None, response: dict, signals: Signals, detector: str,
            now: datetime) -> dict:
    aggs, tz, days = response["aggregations"], signals.tz, signals.days
    counts = signals.series[wave.scope]
    kinds = {b["key"]: b["doc_count"] for b in aggs["kinds"]["buckets"]}
    sellers = [{"name": b["key"], "documents": b["doc_count"]} for b in aggs["sellers"]["buckets"]]
    losses = stated_losses(aggs["losses"]["buckets"])
    end = wave.end(len(days))
    return {
        "wave_id": stored["wave_id"] if stored else wave_id(wave.scope, first),
        "scope_kind": wave.scope.kind, "scope": wave.scope.value, "status": wave.status, "detector": detector,
        "onset": day_start(first, tz), "raised_on": day_start(days[wave.raised], tz),
        "peak_day": day_start(days[wave.peak], tz), "peak_count": int(counts[wave.peak]),
        "last_active_day": day_start(days[wave.last_active], tz),
        "ended_on": day_start(days[wave.ended], tz) if wave.ended is not None else None,
        "baseline": round(wave.baseline, 3), "escalation_level": wave.level,
        "first_report": _report(aggs["first"]), "last_report": _report(aggs["last"]),
        "documents": response["hits"]["total"]["value"], "news": kinds.get("news", 0),
        "forum": kinds.get("forum", 0), "stories": aggs["stories"]["value"], "threads": aggs["threads"]["value"],
        "sellers_count": aggs["sellers_count"]["value"], "sellers": [s["name"] for s in sellers],
        "sellers_hit": sellers, "losses": losses,
        "max_loss_cny": max((loss["value_cny"] for loss in losses), default=None),
        "keywords": [b["key"] for b in aggs["keywords"]["buckets"]],
        "stories_top": top_stories(aggs["top_stories"]["buckets"]),
        "daily": [{"day": days[i].isoformat(), "count": int(counts[i])} for i in range(wave.onset, end + 1)],
        "events": [{"event": e.event, "day": day_start(days[e.day], tz), "level": e.level} for e in wave.events],
        "updated_at": now.astimezone(timezone.utc).isoformat(),
    }


def load(client: Elasticsearch, waves_alias: str, query: dict | None = None, size: int = 1000,
         sort: list | None = None) -> list[dict]:
    """Stored wave records (newest onset first unless ``sort``); [] if the index does not exist."""
    try:
        response = client.search(index=waves_alias, size=size, query=query or {"match_all": {}},
                                 sort=sort or [{"onset": "desc"}, {"documents": "desc"}])
    except NotFoundError:
        return []
    return [hit["_source"] for hit in response["hits"]["hits"]]


def stored_by_scope(client: Elasticsearch, waves_alias: str, since: date) -> dict[Scope, list[dict]]:
    """Records that may continue in this run: not over, or over on or after ``since``."""
    query = {"bool": {"should": [{"bool": {"must_not": {"term": {"status": "over"}}}},
                                 {"range": {"last_active_day": {"gte": since.isoformat()}}}]}}
    grouped: dict[Scope, list[dict]] = {}
    for record in load(client, waves_alias, query, size=10_000):
        grouped.setdefault(Scope(record["scope_kind"], record["scope"]), []).append(record)
    return grouped


def save(client: Elasticsearch, waves_alias: str, records: list[dict]) -> int:
    """Index the records by wave_id (replacing earlier versions); the number written."""
    actions = ({"_op_type": "index", "_index": waves_alias, "_id": r["wave_id"], "_source": r} for r in records)
    written = 0
    for ok, item in streaming_bulk(client, actions, raise_on_error=False, max_retries=3):
        if ok:
            written += 1
        else:
            logger.error("wave record %s not written: %s", item["index"].get("_id"), item["index"].get("error"))
    client.indices.refresh(index=waves_alias)
    return written


def waves_for_period(client: Elasticsearch, waves_alias: str, since: date | None = None,
                     until: date | None = None, scope_kinds: tuple[str, ...] | None = None) -> list[dict]:
    """The wave records whose days overlap ``since`` .. ``until`` (inclusive; None = open), oldest
    onset first: what a report's timeline draws. [] when the waves index does not exist."""
    filters: list[dict] = []
    if until:
        filters.append({"range": {"onset": {"lt": (until + timedelta(days=1)).isoformat()}}})
    if since:
        filters.append({"bool": {"should": [{"range": {"last_active_day": {"gte": since.isoformat()}}},
                                            {"bool": {"must_not": {"term": {"status": "over"}}}}]}})
    if scope_kinds:
        filters.append({"terms": {"scope_kind": list(scope_kinds)}})
    return load(client, waves_alias, {"bool": {"filter": filters}}, size=10_000,
                sort=[{"onset": "asc"}, {"documents": "desc"}])
