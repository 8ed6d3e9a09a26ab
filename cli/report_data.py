"""The wave report as plain data, read from the index: what ``banwave report`` prints
(cli/report.py) and renders as HTML (cli/report_html.py).

Relevant documents only (the NLP verdict). Days are publication days in the
report's time zone; documents without a publication date are counted apart
(``undated``), never put on the day they were crawled.

Loss figures follow the NLP stage's figure roles and scopes (docs/nlp.md):
only money whose role is a loss, frozen funds or a fine counts (sales,
valuations and subsidies are not losses). A figure that belongs to a named
seller (``scope: seller``, ``subject``) goes to that seller: each seller shows
its largest stated figure with the documents that stated it. Industry-wide
estimates (``scope: industry``) are listed apart, grouped by value, and so are
figures of unknown scope. Nothing is ever added up: an association's estimate,
one seller's frozen funds and another's loss measure different things.

The waves that ``banwave waves`` detected (``<prefix>-waves``, waves/records.py)
over the report's period come along, for the timeline and a table.
"""
from __future__ import annotations

from datetime import date

from elasticsearch import ApiError, NotFoundError, TransportError
from elasticsearch.helpers import scan

from pipelines.elastic import describe_error
from waves.records import waves_for_period

KIND_FIELD = "source_kind"
TOP = 10
# the roles of a money figure that say what a seller lost (the contract of loss_cny)
LOSS_ROLES = ("loss", "frozen", "fine")
SOURCES_PER_FIGURE = 3
HIT_FIELDS = ["title", "source", "source_kind", "url", "published", "figures"]


class ReportError(RuntimeError):
    """The report could not be built; the message is one line."""


def format_cny(value: float) -> str:
    """CNY the way the coverage writes it: 1000亿元 (100.0 bn), 645万元, 3,000元."""
    if value >= 1e8:
        return f"{value / 1e8:,.4g}亿元 ({value / 1e9:,.1f} bn)"
    if value >= 1e4:
        return f"{value / 1e4:,.4g}万元"
    return f"{value:,.0f}元"


def _aggregations(tz: str) -> dict:
    terms = {"size": TOP, "order": {"_count": "desc"}}
    days = {"date_histogram": {"field": "published", "calendar_interval": "day", "time_zone": tz,
                               "format": "yyyy-MM-dd", "min_doc_count": 1}}
    return {
        "days": {**days, "aggs": {"kinds": {"terms": {"field": KIND_FIELD, "size": 5}}}},
        "kinds": {"terms": {"field": KIND_FIELD, "size": 5}},
        # first and last report of each seller: the per-seller timeline
        "sellers": {"terms": {"field": "sellers", **terms},
                    "aggs": {"days": days}},
        "associations": {"terms": {"field": "associations", **terms}},
        "governments": {"terms": {"field": "governments", **terms}},
        "undated": {"missing": {"field": "published"}},
        # money figures the NLP stage gave no role (documents indexed before figure roles)
        "money_without_role": {"filter": {"bool": {"filter": [{"term": {"figures.kind": "money"}}],
                                                   "must_not": [{"exists": {"field": "figures.role"}}]}}},
    }


def gather(client, alias: str, since: str | None = None, tz: str = "+08:00", waves_alias: str | None = None) -> dict:
    """Query the index (and the waves of ``waves_alias``) and return the report as plain data
    (see cli/report.py for its use)."""
    filters: list[dict] = [{"term": {"relevant": True}}]
    if since:
        filters.append({"range": {"published": {"gte": since, "time_zone": tz}}})
    query = {"bool": {"filter": filters}}
    try:
        response = client.search(index=alias, size=0, query=query, aggs=_aggregations(tz), track_total_hits=True)
        loss_documents = list(scan(client, index=alias, _source=HIT_FIELDS, query={"query": {"bool": {
            "filter": [*filters, {"terms": {"figures.role": list(LOSS_ROLES)}}]}}}))
        waves = waves_for_period(client, waves_alias, date.fromisoformat(since) if since else None) if waves_alias else []
    except NotFoundError:
        raise ReportError(f"{alias} does not exist: run `banwave es setup` and a crawl first") from None
    except (ApiError, TransportError) as exc:
        raise ReportError(f"reading {alias}: {describe_error(exc)}") from exc
    aggs = response["aggregations"]
    days = [{"day": bucket["key_as_string"], "total": bucket["doc_count"],
             **{kind["key"]: kind["doc_count"] for kind in bucket["kinds"]["buckets"]}}
            for bucket in aggs["days"]["buckets"]]
    return {
        "index": alias, "since": since, "tz": tz,
        "documents": response["hits"]["total"]["value"],
        "undated": aggs["undated"]["doc_count"],
        "period": (days[0]["day"], days[-1]["day"]) if days else None,
        "kinds": {bucket["key"]: bucket["doc_count"] for bucket in aggs["kinds"]["buckets"]},
        "days": days,
        "sellers": [_seller(bucket) for bucket in aggs["sellers"]["buckets"]],
        "associations": _buckets(aggs["associations"]), "governments": _buckets(aggs["governments"]),
        "losses": loss_figures([hit["_source"] for hit in loss_documents]),
        "money_without_role": aggs["money_without_role"]["doc_count"],
        "waves": [_wave(record) for record in waves],
    }


def _wave(record: dict) -> dict:
    """A detected wave as the report shows it: scope, status, days (as dates) and size."""
    return {"scope_kind": record["scope_kind"], "scope": record["scope"], "status": record["status"],
            "onset": record["onset"][:10], "raised_on": record["raised_on"][:10],
            "peak_day": record["peak_day"][:10], "peak_count": record["peak_count"],
            "last_day": (record.get("ended_on") or record["last_active_day"])[:10],
            "documents": record.get("documents", 0)}


def _seller(bucket: dict) -> dict:
    """A top seller: documents, and the days (in the report's zone) of its first and last report."""
    days = [day["key_as_string"] for day in bucket["days"]["buckets"]]
    return {"name": bucket["key"], "documents": bucket["doc_count"], "first": days[0] if days else None,
            "last": days[-1] if days else None}


def _buckets(agg: dict) -> list[tuple[str, int]]:
    return [(bucket["key"], bucket["doc_count"]) for bucket in agg["buckets"]]


def _source(document: dict, figure: dict) -> dict:
    """A document that stated a figure, with the figure as the document wrote it."""
    return {"title": document.get("title") or "", "source": document.get("source") or "",
            "kind": document.get(KIND_FIELD) or "", "url": document.get("url") or "",
            "published": (document.get("published") or "")[:10], "text": figure.get("text") or "",
            "role": figure.get("role")}


def _by_value(items) -> list[dict]:
    return sorted(items, key=lambda item: -item["value_cny"])


def loss_figures(documents: list[dict]) -> dict:
    """Loss, frozen and fine figures of ``documents``, never added up:

    - ``sellers``: per named seller, its largest figure (value, role, how many documents stated
      that value, the first of them), largest first;
    - ``industry``: industry-wide estimates grouped by value, largest first;
    - ``unattributed``: figures of unknown scope grouped by value, largest first.
    """
    stated: dict[tuple, list[tuple[dict, dict]]] = {}  # (scope, subject, value) -> (document, figure)
    for document in documents:
        seen = set()
        for figure in document.get("figures") or []:
            if figure.get("kind") != "money" or figure.get("role") not in LOSS_ROLES or not figure.get("value_cny"):
                continue
            scope = figure.get("scope") if figure.get("scope") in ("seller", "industry") else None
            subject = figure.get("subject") if scope == "seller" else None
            if scope == "seller" and not subject:
                scope = None
            key = (scope, subject, figure["value_cny"])
            if key not in seen:  # a document counts once per figure, however often it repeats it
                seen.add(key)
                stated.setdefault(key, []).append((document, figure))

    def group(key: tuple, found: list[tuple[dict, dict]]) -> dict:
        found = sorted(found, key=lambda pair: pair[0].get("published") or "9999")  # undated last
        roles = sorted({figure["role"] for _, figure in found})
        return {"value_cny": key[2], "subject": key[1], "roles": roles, "documents": len(found),
                "sources": [_source(document, figure) for document, figure in found[:SOURCES_PER_FIGURE]]}

    groups = [group(key, found) for key, found in stated.items()]
    largest = {}
    for item in groups:
        if item["subject"] and item["value_cny"] > largest.get(item["subject"], {"value_cny": 0})["value_cny"]:
            largest[item["subject"]] = item
    return {
        "sellers": _by_value(largest.values()),
        "industry": _by_value(g for (scope, _, _), g in zip(stated, groups) if scope == "industry"),
        "unattributed": _by_value(g for (scope, _, _), g in zip(stated, groups) if scope is None),
    }
