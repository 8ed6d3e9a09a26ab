"""Generate banwave.ndjson, the Kibana 8 saved objects, from the definitions below.

Kibana stores visualisation state as JSON strings inside JSON (``panelsJSON``,
``searchSourceJSON``) which nobody should edit by hand; this script is the
source and ``banwave.ndjson`` its output (a test checks they agree):

    .venv/bin/python deploy/kibana/build.py      # rewrites deploy/kibana/banwave.ndjson

Objects: data views on ``banwave-docs`` (time field ``timeline_at``: the
publication date, else the crawl time, so undated posts show in time-filtered
panels, flagged by ``published_estimated``), ``banwave-runs``
(``started_at``), ``banwave-waves`` (``onset``) and ``banwave-alerts``
(``created_at``); saved searches; Lens visualisations (by reference,
``formBased`` layers), among them a table of stories with their copies; the
dashboards "Store-closure wave", "Crawl health" (with the Coverage table of
pages crawls could not fetch) and "Waves" (docs/waves.md). ``banwave kibana
import`` renames the data view titles for the configured index prefix, checks
Kibana's version against the highest migration version declared here and sets
the wave dashboard's time range from the data. IDs are fixed strings so a re-import overwrites.
"""
from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "banwave.ndjson"
CORE_VERSION = "8.8.0"
# The state format of each type as written here; Kibana migrates anything older on import and
# refuses anything newer than itself, so the highest of these is the minimum Kibana version
# (`banwave kibana import` checks it). Lens state is written as after Lens's 8.9.0 migration.
TYPE_VERSIONS = {"index-pattern": "8.0.0", "search": "8.0.0", "lens": "8.9.0", "dashboard": "8.9.0"}
TIME_FIELD = "timeline_at"  # published, else crawled_at (pipelines/clean.py)
DOCS_VIEW, RUNS_VIEW = "banwave-docs-view", "banwave-runs-view"
WAVES_VIEW, ALERTS_VIEW = "banwave-waves-view", "banwave-alerts-view"
RELEVANT = "relevant : true"


def saved_object(type_: str, id_: str, attributes: dict, references: list[dict] | None = None) -> dict:
    return {"id": id_, "type": type_, "attributes": attributes, "references": references or [],
            "coreMigrationVersion": CORE_VERSION, "typeMigrationVersion": TYPE_VERSIONS[type_], "managed": False}


def data_view(id_: str, title: str, name: str, time_field: str, field_formats: dict | None = None,
              runtime_fields: dict | None = None) -> dict:
    return saved_object("index-pattern", id_, {
        "title": title, "name": name, "timeFieldName": time_field, "fields": "[]",
        "runtimeFieldMap": json.dumps(runtime_fields or {}),
        "fieldFormatMap": json.dumps(field_formats or {}), "fieldAttrs": "{}", "typeMeta": "{}",
        "allowNoIndex": True,
    })


def saved_search(id_: str, title: str, view: str, columns: list[str], sort: list[list[str]], query: str,
                 description: str) -> dict:
    source = {"query": {"language": "kuery", "query": query}, "filter": [], "highlightAll": True, "version": True,
              "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"}
    return saved_object("search", id_, {
        "title": title, "description": description, "columns": columns, "sort": sort, "hideChart": False,
        "grid": {}, "isTextBasedQuery": False,
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source, ensure_ascii=False)},
    }, [{"id": view, "type": "index-pattern", "name": "kibanaSavedObjectMeta.searchSourceJSON.index"}])


# --- Lens columns: (column id, definition); every one names its field in sourceField ---

def date_histogram(field: str, label: str) -> dict:
    return {"operationType": "date_histogram", "sourceField": field, "label": label, "dataType": "date",
            "isBucketed": True, "scale": "interval", "params": {"interval": "auto", "includeEmptyRows": True,
                                                                "dropPartials": False}}


def terms(field: str, label: str, size: int, order_by: str, other: bool = False) -> dict:
    return {"operationType": "terms", "sourceField": field, "label": label, "dataType": "string",
            "isBucketed": True, "scale": "ordinal", "customLabel": True,
            "params": {"size": size, "orderBy": {"type": "column", "columnId": order_by}, "orderDirection": "desc",
                       "otherBucket": other, "missingBucket": False, "parentFormat": {"id": "terms"}}}


def metric(operation: str, field: str, label: str, number_format: str = "number") -> dict:
    return {"operationType": operation, "sourceField": field, "label": label, "dataType": "number",
            "isBucketed": False, "scale": "ratio", "customLabel": True,
            "params": {"emptyAsNull": True, "format": {"id": number_format, "params": {"decimals": 0}}}}


def count(label: str = "Documents") -> dict:
    return {"operationType": "count", "sourceField": "___records___", "label": label, "dataType": "number",
            "isBucketed": False, "scale": "ratio", "customLabel": True, "params": {"emptyAsNull": False}}


def lens(id_: str, title: str, view: str, columns: dict[str, dict], visualization_type: str, visualization: dict,
         query: str = "", description: str = "") -> dict:
    layer = f"{id_}-layer"
    visualization = {"layerId": layer, "layerType": "data", **visualization}
    state = {
        "datasourceStates": {"formBased": {"layers": {layer: {
            "columns": columns, "columnOrder": _column_order(columns), "incompleteColumns": {}, "sampling": 1}}}},
        "visualization": visualization, "query": {"language": "kuery", "query": query}, "filters": [],
        "internalReferences": [], "adHocDataViews": {},
    }
    return saved_object("lens", id_, {"title": title, "description": description,
                                      "visualizationType": visualization_type, "state": state},
                        [{"id": view, "type": "index-pattern", "name": f"indexpattern-datasource-layer-{layer}"}])


def _column_order(columns: dict[str, dict]) -> list[str]:
    """Buckets first, in nesting order (outermost first), then metrics: Lens's own order."""
    return [k for k, c in columns.items() if c["isBucketed"]] + [k for k, c in columns.items() if not c["isBucketed"]]


def xy(series: str, x: str, ys: list[str], split: str | None = None, legend: bool = True) -> dict:
    """An lnsXY visualization with one data layer (layerId is filled in by ``lens``)."""
    layer = {"seriesType": series, "xAccessor": x, "accessors": ys, "palette": {"type": "palette", "name": "default"}}
    if split:
        layer["splitAccessor"] = split
    return {"legend": {"isVisible": legend, "position": "right"}, "valueLabels": "hide",
            "preferredSeriesType": series, "fittingFunction": "None", "layers": [layer]}


def _lift_layers(visualization: dict) -> dict:
    """XY keeps layerId/layerType per layer, not at the top: move them into the layer."""
    if "layers" in visualization:
        layer_id, layer_type = visualization.pop("layerId"), visualization.pop("layerType")
        for layer in visualization["layers"]:
            layer.update(layerId=layer_id, layerType=layer_type)
    return visualization


def table(id_: str, title: str, view: str, columns: dict[str, dict], query: str = "",
          description: str = "") -> dict:
    """An lnsDatatable with one column per Lens column, in their order."""
    return lens(id_, title, view, columns, "lnsDatatable",
                {"columns": [{"columnId": column} for column in _column_order(columns)]}, query, description)


def last_value(field: str, label: str, sort_field: str) -> dict:
    return {"operationType": "last_value", "sourceField": field, "label": label, "dataType": "string",
            "isBucketed": False, "scale": "ordinal", "customLabel": True,
            "params": {"sortField": sort_field, "showArrayValues": False}}


def bar_ranking(id_: str, title: str, field: str, label: str, size: int = 10, query: str = RELEVANT,
                view: str = DOCS_VIEW, value: dict | None = None, description: str = "") -> dict:
    columns = {"value": value or count(), "name": terms(field, label, size, "value")}
    return lens(id_, title, view, columns, "lnsXY", xy("bar_horizontal", "name", ["value"], legend=False), query,
                description)


# The entity fields hold what a document's own text names (docs/nlp.md "Own text and context").
OWN_TEXT = ("Relevant documents whose own text names each one; a forum reply does not count the names in its "
            "thread's title (those are in {0}).")


def wave_objects() -> list[dict]:
    docs_over_time = lens(
        "banwave-docs-over-time", "Documents over time, news and forum", DOCS_VIEW,
        {"kind": terms("source_kind", "Kind", 3, "docs"), "day": date_histogram(TIME_FIELD, "Published (or crawled)"),
         "docs": count()},
        "lnsXY", xy("bar_stacked", "day", ["docs"], split="kind"), RELEVANT,
        "Relevant documents per publication day, stacked by source kind (news, forum). Documents without a "
        "publication date count on their crawl day (published_estimated: true).")
    loss_over_time = lens(
        "banwave-loss-over-time", "Loss figures over time (CNY)", DOCS_VIEW,
        {"day": date_histogram(TIME_FIELD, "Published (or crawled)"),
         "largest": metric("max", "loss_cny", "Largest loss figure (CNY)")},
        "lnsXY", xy("bar", "day", ["largest"], legend=False), RELEVANT,
        "The largest loss, frozen-funds or fine figure reported per interval, in CNY (documents report the same "
        "estimate repeatedly, so the maximum is shown, never a sum).")
    # seller_loss_subject/seller_loss_cny: per document, its largest figure that belongs to a named seller
    # (figures[] is an object array: a filter on figures.subject would mix in an industry estimate)
    loss_by_seller = bar_ranking(
        "banwave-loss-by-seller", "Loss figures by seller (CNY)", "seller_loss_subject", "Seller",
        value=metric("max", "seller_loss_cny", "Largest stated loss, frozen funds or fine (CNY)"))
    stories = table(
        "banwave-stories", "Stories and their copies", DOCS_VIEW,
        {"story": terms("story_id", "Story", 20, "copies"),
         "title": last_value("title.raw", "Title (latest copy)", TIME_FIELD),
         "copies": count("Copies")},
        RELEVANT, "One row per story (syndicated and reposted copies share a story_id), most copies first.")
    sources = lens(
        "banwave-top-sources", "Top sources", DOCS_VIEW,
        {"source": terms("source", "Source", 10, "docs", other=True), "docs": count()},
        "lnsPie", {"shape": "donut", "layers": [{"primaryGroups": ["source"], "metrics": ["docs"],
                                                 "numberDisplay": "value", "categoryDisplay": "default",
                                                 "legendDisplay": "default", "nestedLegend": False}]}, RELEVANT)
    keywords = lens(
        "banwave-keyword-cloud", "Keywords", DOCS_VIEW,
        {"keyword": terms("keywords", "Keyword", 40, "docs"), "docs": count()},
        "lnsTagcloud", {"tagAccessor": "keyword", "valueAccessor": "docs", "maxFontSize": 60, "minFontSize": 14,
                        "orientation": "single", "showLabel": False}, RELEVANT)
    latest = saved_search(
        "banwave-latest-relevant", "Latest relevant documents", DOCS_VIEW,
        ["source", "source_kind", "title", "sellers", "governments", "loss_cny", "published_estimated", "url"],
        [[TIME_FIELD, "desc"]], RELEVANT,
        "Documents the NLP stage judged about store closures, newest first; published_estimated: true means the "
        "page gave no date and the crawl time stands in.")
    loss_docs = saved_search(
        "banwave-loss-documents", "Documents with loss figures", DOCS_VIEW,
        ["source", "title", "loss_cny", "stores_max", "sellers", "associations", "url"], [["loss_cny", "desc"]],
        "loss_cny : *", "Every document reporting a loss, frozen-funds or fine figure, largest first.")
    panels = [
        (docs_over_time, 0, 0, 32, 14), (sources, 32, 0, 16, 14),
        (bar_ranking("banwave-top-sellers", "Top sellers", "sellers", "Seller", 15,
                     description=OWN_TEXT.format("context_sellers")), 0, 14, 16, 15),
        (bar_ranking("banwave-top-associations", "Top associations", "associations", "Association",
                     description=OWN_TEXT.format("context_associations")), 16, 14, 16, 15),
        (bar_ranking("banwave-top-governments", "Top government bodies", "governments", "Government body",
                     description=OWN_TEXT.format("context_governments")),
         32, 14, 16, 15),
        (loss_over_time, 0, 29, 24, 14), (loss_by_seller, 24, 29, 24, 14),
        (keywords, 0, 43, 16, 16), (latest, 16, 43, 32, 16),
        (stories, 0, 59, 48, 16),
    ]
    dashboard = build_dashboard(
        "banwave-store-closure-wave", "Store-closure wave",
        "Who is hit, how hard, and what platforms, associations and authorities say: documents over time, "
        "sellers, associations and government bodies, loss figures in CNY, sources, keywords, latest documents.",
        panels, "now-2y")
    objects = [item for item, *_ in panels]
    return [*objects, loss_docs, dashboard]


def health_objects() -> list[dict]:
    runs_by_status = lens(
        "banwave-runs-by-status", "Crawl runs by status", RUNS_VIEW,
        {"status": terms("status", "Status", 5, "runs"), "time": date_histogram("started_at", "Started"),
         "runs": count("Runs")},
        "lnsXY", xy("bar_stacked", "time", ["runs"], split="status"))
    items_by_source = lens(
        "banwave-items-by-source", "Documents indexed per source", RUNS_VIEW,
        {"source": terms("source", "Source", 10, "indexed"), "time": date_histogram("started_at", "Started"),
         "indexed": metric("sum", "indexed", "Indexed")},
        "lnsXY", xy("line", "time", ["indexed"], split="source"))
    backlog = lens(
        "banwave-spool-backlog", "Spooled and dead-lettered documents", RUNS_VIEW,
        {"time": date_histogram("started_at", "Started"), "spooled": metric("sum", "spooled", "Spooled"),
         "dead": metric("sum", "dead_lettered", "Dead-lettered")},
        "lnsXY", xy("line", "time", ["spooled", "dead"]))
    errors = bar_ranking("banwave-error-kinds", "Error kinds", "error_kinds", "Error kind", query="",
                         view=RUNS_VIEW, value=count("Runs"))
    durations = bar_ranking("banwave-run-duration", "Average run duration per source (s)", "source", "Source",
                            query="", view=RUNS_VIEW, value=metric("average", "duration_s", "Average duration (s)"))
    latest_runs = saved_search(
        "banwave-latest-runs", "Latest crawl runs", RUNS_VIEW,
        ["source", "status", "pages", "items", "indexed", "errors_total", "error_kinds", "duration_s", "host"],
        [["started_at", "desc"]], "", "One row per crawl of one source, newest first.")
    coverage = table(
        "banwave-coverage", "Coverage: pages not fetched", RUNS_VIEW,
        {"page": terms("failed_pages", "Reason and page", 100, "runs"), "source": terms("source", "Source", 3, "runs"),
         "runs": count("Runs")},
        "failed_pages : *",
        "Pages crawls could not fetch, with the reason (too_large, timeout, robots, http_404 …): articles "
        "missing from search and the report.")
    panels = [
        (runs_by_status, 0, 0, 24, 14), (items_by_source, 24, 0, 24, 14),
        (errors, 0, 14, 16, 14), (durations, 16, 14, 16, 14), (backlog, 32, 14, 16, 14),
        (coverage, 0, 28, 48, 14), (latest_runs, 0, 42, 48, 16),
    ]
    dashboard = build_dashboard(
        "banwave-crawl-health", "Crawl health",
        "Are the crawls running and delivering: runs by status, documents indexed per source, errors, "
        "durations, spool backlog, pages not fetched, latest runs.", panels, "now-7d")
    return [*(item for item, *_ in panels), dashboard]


def waves_dashboard_objects() -> list[dict]:
    waves_over_time = lens(
        "banwave-waves-over-time", "Waves over time, by scope", WAVES_VIEW,
        {"kind": terms("scope_kind", "Scope", 4, "waves"), "onset": date_histogram("onset", "Onset"),
         "waves": count("Waves")},
        "lnsXY", xy("bar_stacked", "onset", ["waves"], split="kind"), "",
        "Waves by the day they began, stacked by scope (overall, platform, seller, source kind).")
    by_status = lens(
        "banwave-waves-by-status", "Waves by status", WAVES_VIEW,
        {"status": terms("status", "Status", 4, "waves"), "waves": count("Waves")},
        "lnsPie", {"shape": "donut", "layers": [{"primaryGroups": ["status"], "metrics": ["waves"],
                                                 "numberDisplay": "value", "categoryDisplay": "default",
                                                 "legendDisplay": "default", "nestedLegend": False}]})
    sellers_per_wave = bar_ranking(
        "banwave-sellers-per-wave", "Sellers hit per wave (overall, platform and source-kind waves)", "scope",
        "Wave scope", 10, query="not scope_kind : seller", view=WAVES_VIEW,
        value=metric("max", "sellers_count", "Sellers hit"))
    sellers_hit = bar_ranking("banwave-sellers-in-waves", "Sellers named in the most waves", "sellers", "Seller", 15,
                              query="", view=WAVES_VIEW, value=count("Waves"))
    current = saved_search(
        "banwave-current-waves", "Current waves", WAVES_VIEW,
        ["scope_kind", "scope", "status", "raised_on", "peak_day", "peak_count", "documents", "stories",
         "sellers_count", "sellers", "max_loss_cny", "first_report.url"], [["onset", "desc"]],
        "not status : over", "Waves not over yet, newest first: scope, status, peak, documents, sellers hit.")
    alert_log = saved_search(
        "banwave-alert-log", "Alert log", ALERTS_VIEW,
        ["event", "level", "scope_kind", "scope", "channel", "status", "attempts", "delivered_at", "last_error"],
        [["created_at", "desc"]], "", "Every alert per channel: pending, delivered, or failed with the reason.")
    panels = [
        (waves_over_time, 0, 0, 32, 14), (by_status, 32, 0, 16, 14),
        (current, 0, 14, 48, 16),
        (sellers_per_wave, 0, 30, 24, 15), (sellers_hit, 24, 30, 24, 15),
        (alert_log, 0, 45, 48, 16),
    ]
    dashboard = build_dashboard(
        "banwave-waves", "Waves",
        "Detected store-closure waves (banwave waves): when they began, which are still going and how big, "
        "the sellers they hit, and the alerts sent about them.", panels, "now-2y")
    return [*(item for item, *_ in panels), dashboard]


def build_dashboard(id_: str, title: str, description: str, panels: list[tuple], time_from: str) -> dict:
    panel_list, references = [], []
    for number, (item, x, y, w, h) in enumerate(panels):
        index = str(number)
        panel_list.append({"version": TYPE_VERSIONS["dashboard"], "type": item["type"], "panelIndex": index,
                           "panelRefName": f"panel_{index}",
                           "gridData": {"x": x, "y": y, "w": w, "h": h, "i": index},
                           "embeddableConfig": {"enhancements": {}}})
        references.append({"id": item["id"], "type": item["type"], "name": f"{index}:panel_{index}"})
    return saved_object("dashboard", id_, {
        "title": title, "description": description, "version": 1,
        "panelsJSON": json.dumps(panel_list),
        "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "syncCursor": True,
                                   "syncTooltips": False, "hidePanelTitles": False}),
        "timeRestore": True, "timeFrom": time_from, "timeTo": "now",
        "refreshInterval": {"pause": True, "value": 60000},
        "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps({"query": {"language": "kuery", "query": ""},
                                                                  "filter": []})},
    }, references)


def all_objects() -> list[dict]:
    """Every saved object, dependencies before dependents (data views first, dashboards last)."""
    views = [
        data_view(DOCS_VIEW, "banwave-docs", "banwave documents", TIME_FIELD,
                  {"loss_cny": {"id": "number", "params": {"pattern": "0,0"}}}),
        data_view(RUNS_VIEW, "banwave-runs", "banwave crawl runs", "started_at"),
        data_view(WAVES_VIEW, "banwave-waves", "banwave waves", "onset",
                  {"max_loss_cny": {"id": "number", "params": {"pattern": "0,0"}}}),
        data_view(ALERTS_VIEW, "banwave-alerts", "banwave alerts", "created_at"),
    ]
    objects = [*views, *wave_objects(), *health_objects(), *waves_dashboard_objects()]
    for item in objects:
        if item["type"] == "lens":
            _lift_layers(item["attributes"]["state"]["visualization"])
    return objects


def render() -> str:
    return "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in all_objects())


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")
