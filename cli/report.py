"""``banwave report``: a summary of the store-closure wave from the index.

Relevant documents only (the NLP verdict): documents per day split news/forum,
top sellers, associations and government bodies (counted by the documents whose own
text names them: a forum reply does not count the sellers of its thread's title),
and the loss figures. A loss figure is a document's largest loss, frozen-funds or
fine amount in CNY (``loss_cny``; sales, subsidies and valuations are not losses);
the same estimate is reported by many documents, so figures are grouped by value,
with the documents that reported it. Figures of different scope are never added:
industry-wide estimates are estimates of one total (the largest is shown), and
named sellers' figures are summed over sellers, each seller's largest once.
``--html FILE`` also writes the report as one self-contained HTML page with a
timeline chart (cli/report_html.py).
"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from elasticsearch import ApiError, NotFoundError, TransportError

from cli.search import iso_date
from nlp.figure_roles import LOSS_ROLES
from pipelines.elastic import describe_error, make_client

KIND_FIELD = "source_kind"
TOP = 10
LOSS_VALUES = 200  # distinct loss values fetched; far more than any wave reports
SOURCES_PER_FIGURE = 3
HIT_FIELDS = ["title", "source", "source_kind", "url", "published", "figures"]


class ReportError(RuntimeError):
    """The report could not be built; the message is one line."""


def register(subparsers) -> None:
    parser = subparsers.add_parser("report", help="summarise the wave: documents per day, sellers, loss figures")
    parser.add_argument("--since", type=iso_date, metavar="DATE", help="only documents published on or after DATE")
    parser.add_argument("--tz", default="+08:00", metavar="ZONE",
                        help="time zone of the days, e.g. +08:00 (default: China) or UTC")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write the report as a self-contained HTML page")
    parser.set_defaults(func=run)


def _aggregations(tz: str) -> dict:
    terms = {"size": TOP, "order": {"_count": "desc"}}
    return {
        "days": {"date_histogram": {"field": "published", "calendar_interval": "day", "time_zone": tz,
                                    "format": "yyyy-MM-dd", "min_doc_count": 1},
                 "aggs": {"kinds": {"terms": {"field": KIND_FIELD, "size": 5}}}},
        "kinds": {"terms": {"field": KIND_FIELD, "size": 5}},
        "sellers": {"terms": {"field": "sellers", **terms}},
        "associations": {"terms": {"field": "associations", **terms}},
        "governments": {"terms": {"field": "governments", **terms}},
        "undated": {"missing": {"field": "published"}},
        "losses": {"terms": {"field": "loss_cny", "size": LOSS_VALUES, "order": {"_key": "desc"}},
                   "aggs": {"first": {"top_hits": {"size": SOURCES_PER_FIGURE, "_source": HIT_FIELDS,
                                                   "sort": [{"published": {"order": "asc", "missing": "_last"}}]}}}},
    }


def gather(client, alias: str, since: str | None = None, tz: str = "+08:00") -> dict:
    """Query the index and return the report as plain data (see ``print_report`` for its use)."""
    filters: list[dict] = [{"term": {"relevant": True}}]
    if since:
        filters.append({"range": {"published": {"gte": since, "time_zone": tz}}})
    try:
        response = client.search(index=alias, size=0, query={"bool": {"filter": filters}},
                                 aggs=_aggregations(tz), track_total_hits=True)
    except NotFoundError:
        raise ReportError(f"{alias} does not exist: run `banwave es setup` and a crawl first") from None
    except (ApiError, TransportError) as exc:
        raise ReportError(f"reading {alias}: {describe_error(exc)}") from exc
    aggs = response["aggregations"]
    days = [{"day": bucket["key_as_string"], "total": bucket["doc_count"],
             **{kind["key"]: kind["doc_count"] for kind in bucket["kinds"]["buckets"]}}
            for bucket in aggs["days"]["buckets"]]
    losses = []
    for bucket in aggs["losses"]["buckets"]:
        hits = [hit["_source"] for hit in bucket["first"]["hits"]["hits"]]
        scope, subject = _loss_scope(hits, bucket["key"])
        losses.append({"value_cny": bucket["key"], "documents": bucket["doc_count"], "scope": scope,
                       "subject": subject, "sources": [_loss_source(hit, bucket["key"]) for hit in hits]})
    return {
        "index": alias, "since": since, "tz": tz,
        "documents": response["hits"]["total"]["value"],
        "undated": aggs["undated"]["doc_count"],
        "kinds": {bucket["key"]: bucket["doc_count"] for bucket in aggs["kinds"]["buckets"]},
        "days": days,
        "sellers": _buckets(aggs["sellers"]), "associations": _buckets(aggs["associations"]),
        "governments": _buckets(aggs["governments"]),
        "losses": losses,
        "loss_documents": sum(loss["documents"] for loss in losses),
        "loss_scopes": loss_scopes(losses),
    }


def loss_scopes(losses: list[dict]) -> dict:
    """Totals that never mix scopes: the largest industry-wide estimate, the sum over named
    sellers of each one's largest figure, and the largest figure whose scope is unknown."""
    industry = [loss["value_cny"] for loss in losses if loss["scope"] == "industry"]
    per_seller: dict[str, float] = {}
    for loss in losses:
        if loss["scope"] == "seller" and loss["subject"]:
            per_seller[loss["subject"]] = max(per_seller.get(loss["subject"], 0.0), loss["value_cny"])
    unknown = [loss["value_cny"] for loss in losses if loss["scope"] not in ("industry", "seller")]
    return {"industry_largest_cny": max(industry, default=None), "industry_figures": len(industry),
            "sellers_total_cny": sum(per_seller.values()) if per_seller else None, "sellers": len(per_seller),
            "unattributed_largest_cny": max(unknown, default=None), "unattributed_figures": len(unknown)}


def _loss_scope(sources: list[dict], value: float) -> tuple[str | None, str | None]:
    """Scope and subject of the loss figure ``value`` as the first document that has it tagged them."""
    for source in sources:
        for figure in source.get("figures") or []:
            if figure.get("role") in LOSS_ROLES and figure.get("value_cny") == value:
                return figure.get("scope"), figure.get("subject")
    return None, None


def _buckets(agg: dict) -> list[tuple[str, int]]:
    return [(bucket["key"], bucket["doc_count"]) for bucket in agg["buckets"]]


def _loss_source(source: dict, value: float) -> dict:
    """A document that reported a loss figure, with the figure as the document wrote it."""
    wording = next((f.get("text") for f in source.get("figures") or []
                    if f.get("role") in LOSS_ROLES and f.get("value_cny") == value), None)
    return {"title": source.get("title") or "", "source": source.get("source") or "",
            "kind": source.get(KIND_FIELD) or "", "url": source.get("url") or "",
            "published": (source.get("published") or "")[:10], "text": wording or ""}


def format_cny(value: float) -> str:
    """CNY the way the coverage writes it: 1000亿元 (100.0 bn), 645万元, 3,000元."""
    if value >= 1e8:
        return f"{value / 1e8:,.4g}亿元 ({value / 1e9:,.1f} bn)"
    if value >= 1e4:
        return f"{value / 1e4:,.4g}万元"
    return f"{value:,.0f}元"


def print_report(report: dict, out=None) -> None:
    def write(line: str = "") -> None:
        print(line, file=out or sys.stdout)

    days = report["days"]
    span = f", published {days[0]['day']} to {days[-1]['day']}" if days else ""
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(report["kinds"].items()))
    write(f"Store-closure wave: {report['index']}" + (f" since {report['since']}" if report["since"] else ""))
    write(f"{report['documents']} relevant documents ({kinds or 'none'}){span}"
          + (f"; {report['undated']} undated" if report["undated"] else ""))
    if days:
        write()
        write(f"Documents per day ({report['tz']})")
        peak = max(day["total"] for day in days)
        for day in days:
            bar = "█" * max(1, round(30 * day["total"] / peak))
            split = ", ".join(f"{kind} {day[kind]}" for kind in ("news", "forum") if day.get(kind))
            write(f"  {day['day']}  {bar} {day['total']}" + (f" ({split})" if split else ""))
    for key, label in (("sellers", "Top sellers"), ("associations", "Associations"), ("governments", "Government bodies")):
        if report[key]:
            write()
            write(f"{label} (documents whose own text names them)")
            for rank, (name, count) in enumerate(report[key], 1):
                write(f"  {rank:2}. {name}  {count} document{'s' if count != 1 else ''}")
    write()
    if not report["losses"]:
        write("Loss figures: none reported")
        return
    write(f"Loss figures (losses, frozen funds, fines): {len(report['losses'])} distinct, "
          f"in {report['loss_documents']} documents")
    for line in scope_lines(report["loss_scopes"]):
        write(f"  {line}")
    for loss in report["losses"][:5]:
        whose = {"industry": "industry-wide", "seller": loss["subject"]}.get(loss["scope"], "unattributed")
        write(f"  {format_cny(loss['value_cny'])} ({whose})  reported by {loss['documents']} document(s), first:")
        for source in loss["sources"]:
            wording = f"“{source['text']}” " if source["text"] else ""
            write(f"      {source['published'] or 'undated'}  {source['source']}  {wording}{source['title']}")
            write(f"        {source['url']}")


def scope_lines(scopes: dict) -> list[str]:
    """One line per scope; scopes are never added together."""
    lines = []
    if scopes["industry_largest_cny"] is not None:
        lines.append(f"industry-wide estimates: largest {format_cny(scopes['industry_largest_cny'])} "
                     f"({scopes['industry_figures']} distinct; estimates of one total, not added)")
    if scopes["sellers_total_cny"] is not None:
        lines.append(f"named sellers: {format_cny(scopes['sellers_total_cny'])} over {scopes['sellers']} seller(s), "
                     f"each seller's largest figure once")
    if scopes["unattributed_largest_cny"] is not None:
        lines.append(f"unattributed: largest {format_cny(scopes['unattributed_largest_cny'])} "
                     f"({scopes['unattributed_figures']} distinct)")
    return lines


def run(args, env) -> int:
    client = make_client(env)
    try:
        report = gather(client, env.docs_alias, args.since, args.tz)
    except ReportError as exc:
        print(f"banwave: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print_report(report)
    if args.html:
        from cli.report_html import render

        report["generated"] = date.today().isoformat()
        args.html.write_text(render(report), encoding="utf-8")
        print(f"\nHTML report written to {args.html}")
    return 0
