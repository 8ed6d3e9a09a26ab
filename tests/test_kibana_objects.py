"""The Kibana saved objects in deploy/kibana: well-formed for Kibana 8's import API, and every
field they use exists in the real index mapping, aggregatable where it is aggregated.

Kibana cannot run here, so the import API's input rules are checked directly: one JSON object
per line, known types, references that resolve inside the file, the JSON-in-string attributes
parse, Lens layers reference their data view, dashboard panels reference their objects.
"""
from __future__ import annotations

import json
import re
from itertools import combinations

import pytest

from config import REPO_ROOT
from conftest import load_script
from pipelines.elastic import setup_indices

KIBANA_DIR = REPO_ROOT / "deploy" / "kibana"
NDJSON = KIBANA_DIR / "banwave.ndjson"
TYPES = {"index-pattern", "search", "lens", "dashboard"}
NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"}
# Lens operation -> field types it accepts (all of them aggregate the field)
OPERATION_TYPES = {
    "date_histogram": {"date"},
    "terms": {"keyword", "boolean", "ip"} | NUMERIC,
    **{op: NUMERIC for op in ("sum", "max", "min", "average", "median", "percentile", "standard_deviation")},
    **{op: NUMERIC | {"date", "keyword", "boolean"} for op in ("unique_count", "last_value", "count")},
}
KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*:")


def load_objects() -> list[dict]:
    return [json.loads(line) for line in NDJSON.read_text("utf-8").splitlines() if line.strip()]


OBJECTS = load_objects()
BY_KEY = {(o["type"], o["id"]): o for o in OBJECTS}


def of_type(type_: str) -> list[dict]:
    return [o for o in OBJECTS if o["type"] == type_]


def view_title(obj: dict, ref_name: str) -> str:
    ref = next(r for r in obj["references"] if r["name"] == ref_name)
    return BY_KEY[("index-pattern", ref["id"])]["attributes"]["title"]


def test_ndjson_is_the_build_script_output():
    build = load_script(KIBANA_DIR / "build.py")
    assert NDJSON.read_text("utf-8") == build.render(), "run: .venv/bin/python deploy/kibana/build.py"


def test_objects_are_well_formed_for_the_import_api():
    assert len(BY_KEY) == len(OBJECTS), "duplicate type/id"
    for obj in OBJECTS:
        assert isinstance(obj["id"], str) and obj["id"] and obj["type"] in TYPES, obj.get("id")
        assert isinstance(obj["attributes"], dict) and obj["attributes"]["title"]
        names = [ref["name"] for ref in obj["references"]]
        assert len(names) == len(set(names)), obj["id"]
        for ref in obj["references"]:
            assert set(ref) == {"id", "type", "name"}, ref
            # Kibana rejects the import with missing_references otherwise
            assert (ref["type"], ref["id"]) in BY_KEY, (obj["id"], ref)
    for view in of_type("index-pattern"):
        for key in ("fields", "fieldFormatMap", "runtimeFieldMap", "fieldAttrs", "typeMeta"):
            json.loads(view["attributes"][key])
    titles = {v["attributes"]["title"]: v["attributes"]["timeFieldName"] for v in of_type("index-pattern")}
    # timeline_at: published, else the crawl time, so undated posts show in time-filtered panels
    assert titles == {"banwave-docs": "timeline_at", "banwave-runs": "started_at", "banwave-waves": "onset",
                      "banwave-alerts": "created_at"}
    for search in of_type("search"):
        source = json.loads(search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        assert source["indexRefName"] in {r["name"] for r in search["references"]}
        assert source["query"]["language"] == "kuery"


def test_lens_layers_reference_their_data_view_and_columns():
    for lens in of_type("lens"):
        state = lens["attributes"]["state"]
        layers = state["datasourceStates"]["formBased"]["layers"]
        refs = {r["name"] for r in lens["references"]}
        visualization = state["visualization"]
        accessors = set()
        for layer_id, layer in layers.items():
            assert f"indexpattern-datasource-layer-{layer_id}" in refs, lens["id"]
            assert sorted(layer["columnOrder"]) == sorted(layer["columns"]), lens["id"]
            buckets = [c for c in layer["columnOrder"] if layer["columns"][c]["isBucketed"]]
            assert layer["columnOrder"][:len(buckets)] == buckets, lens["id"]  # buckets before metrics
            for column in layer["columns"].values():
                order = column.get("params", {}).get("orderBy", {})
                assert order.get("type") != "column" or order["columnId"] in layer["columns"], lens["id"]
        for layer in visualization.get("layers", [visualization]):
            assert layer["layerId"] in layers and layer["layerType"] == "data", lens["id"]
            for key in ("xAccessor", "splitAccessor", "tagAccessor", "valueAccessor"):
                if key in layer:
                    accessors.add(layer[key])
            accessors.update(layer.get("accessors", []) + layer.get("primaryGroups", []) + layer.get("metrics", []))
            accessors.update(column["columnId"] for column in layer.get("columns", []))  # lnsDatatable
        columns = {c for layer in layers.values() for c in layer["columns"]}
        assert accessors == columns, (lens["id"], accessors, columns)


def test_dashboards_reference_every_panel():
    dashboards = {d["attributes"]["title"]: d for d in of_type("dashboard")}
    assert set(dashboards) == {"Store-closure wave", "Crawl health", "Waves"}
    for dashboard in dashboards.values():
        panels = json.loads(dashboard["attributes"]["panelsJSON"])
        json.loads(dashboard["attributes"]["optionsJSON"])
        json.loads(dashboard["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        refs = {r["name"]: r for r in dashboard["references"]}
        assert len(refs) == len(panels)
        for panel in panels:
            ref = refs[f"{panel['panelIndex']}:{panel['panelRefName']}"]
            assert ref["type"] == panel["type"]
            grid = panel["gridData"]
            assert grid["i"] == panel["panelIndex"] and 0 <= grid["x"] and grid["x"] + grid["w"] <= 48
        for a, b in combinations([p["gridData"] for p in panels], 2):
            apart = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"] or a["y"] + a["h"] <= b["y"] \
                or b["y"] + b["h"] <= a["y"]
            assert apart, (dashboard["id"], a, b)
    wave = dashboards["Store-closure wave"]
    shown = {BY_KEY[(r["type"], r["id"])]["attributes"]["title"] for r in wave["references"]}
    assert shown >= {"Documents over time, news and forum", "Top sellers", "Top associations",
                     "Top government bodies", "Loss figures over time (CNY)", "Loss figures by seller (CNY)",
                     "Top sources", "Keywords", "Latest relevant documents", "Stories and their copies"}
    health = dashboards["Crawl health"]
    assert "Coverage: pages not fetched" in {BY_KEY[(r["type"], r["id"])]["attributes"]["title"]
                                             for r in health["references"]}
    waves = dashboards["Waves"]
    shown = {BY_KEY[(r["type"], r["id"])]["attributes"]["title"] for r in waves["references"]}
    assert shown >= {"Waves over time, by scope", "Current waves", "Alert log",
                     "Sellers hit per wave (overall, platform and source-kind waves)"}


def used_fields() -> list[tuple[str, str, str, str]]:
    """(object id, data view title, field, how it is used) for every field any object uses."""
    uses = []
    for lens in of_type("lens"):
        state = lens["attributes"]["state"]
        for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
            title = view_title(lens, f"indexpattern-datasource-layer-{layer_id}")
            for column in layer["columns"].values():
                if column["sourceField"] != "___records___":
                    uses.append((lens["id"], title, column["sourceField"], column["operationType"]))
                if "sortField" in column.get("params", {}):
                    uses.append((lens["id"], title, column["params"]["sortField"], "sort"))
            uses += [(lens["id"], title, f, "query") for f in KQL_FIELD.findall(state["query"]["query"])]
    for search in of_type("search"):
        title = view_title(search, "kibanaSavedObjectMeta.searchSourceJSON.index")
        query = json.loads(search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
        uses += [(search["id"], title, f, "column") for f in search["attributes"]["columns"]]
        uses += [(search["id"], title, f, "sort") for f, _ in search["attributes"]["sort"]]
        uses += [(search["id"], title, f, "query") for f in KQL_FIELD.findall(query)]
    for view in of_type("index-pattern"):
        uses.append((view["id"], view["attributes"]["title"], view["attributes"]["timeFieldName"], "time"))
    return uses


def mapping_leaves(properties: dict, prefix: str = "") -> set[str]:
    leaves = set()
    for name, spec in properties.items():
        path = prefix + name
        if "properties" in spec or spec.get("type") == "object":
            leaves |= mapping_leaves(spec.get("properties", {}), path + ".")
        else:
            leaves.add(path)
            leaves |= {f"{path}.{sub}" for sub in spec.get("fields", {})}
    return leaves


@pytest.mark.es
def test_every_field_exists_in_the_real_mapping_and_aggregates(es, es_env):
    setup_indices(es, es_env.index_prefix)
    aliases = {"banwave-docs": es_env.docs_alias, "banwave-runs": es_env.runs_alias,
               "banwave-waves": es_env.waves_alias, "banwave-alerts": es_env.alerts_alias}
    caps = {}
    for title, alias in aliases.items():
        (mapping,) = es.indices.get_mapping(index=alias).values()
        fields = es.field_caps(index=alias, fields="*")["fields"]
        caps[title] = {name: next(iter(types.values())) for name, types in fields.items() if not name.startswith("_")}
        # field_caps describes exactly the mapping (dynamic: false, nothing else sneaks in)
        assert set(caps[title]) >= mapping_leaves(mapping["mappings"]["properties"])
    uses = used_fields()
    assert len(uses) > 30
    problems = []
    for obj_id, title, name, use in uses:
        cap = caps[title].get(name)
        if cap is None:
            problems.append(f"{obj_id}: {name} is not in the {title} mapping")
        elif use in OPERATION_TYPES or use == "sort":
            if not cap["aggregatable"]:
                problems.append(f"{obj_id}: {name} ({cap['type']}) is not aggregatable, used for {use}")
            elif use in OPERATION_TYPES and cap["type"] not in OPERATION_TYPES[use]:
                problems.append(f"{obj_id}: {name} is {cap['type']}, {use} needs {sorted(OPERATION_TYPES[use])}")
        elif use == "time" and cap["type"] != "date":
            problems.append(f"{obj_id}: time field {name} is {cap['type']}")
    assert not problems, "\n".join(problems)

