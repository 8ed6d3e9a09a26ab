"""``banwave demo`` end to end, as a subprocess, against a real Elasticsearch.

The demo's summary (``--summary-json``) is checked against the index with
queries of the test's own, and against the demo web's gold documents.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import config
import demo

REPO = Path(__file__).resolve().parent.parent
ES_SH = REPO / "deploy" / "dev-es" / "es.sh"
GOLD = demo.gold()

pytestmark = pytest.mark.es


def demo(tmp_path: Path, port: int, env: dict, run: int = 1) -> tuple[subprocess.CompletedProcess, dict]:
    summary = tmp_path / f"summary-{run}.json"
    result = subprocess.run([sys.executable, "-m", "cli.main", "demo", "--port", str(port), "--timeout", "240",
                             "--summary-json", str(summary)], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result, json.loads(summary.read_text("utf-8"))


def count(es, alias: str, **terms) -> int:
    return es.count(index=alias, query={"bool": {"filter": [{"term": {k: v}} for k, v in terms.items()]}})["count"]


def test_demo_crawls_the_demo_web_and_its_summary_matches_the_index(tmp_path, es_env, es):
    env = config.process_environ({"BANWAVE_ES_URL": es_env.es_url, "BANWAVE_INDEX_PREFIX": es_env.index_prefix,
                                  "BANWAVE_DATA_DIR": str(es_env.data_dir), "BANWAVE_ENV_FILE": "", "COLUMNS": "200"})
    result, summary = demo(tmp_path, 8781, env)
    alias = es_env.docs_alias
    es.indices.refresh(index=alias)

    assert summary["documents"] == es.count(index=alias)["count"] > 0
    gold = Counter((doc["site"], doc["doc_type"]) for doc in GOLD)
    assert {(s, k): n for s, kinds in summary["by_source"].items() for k, n in kinds.items()} == gold
    for source, kinds in summary["by_source"].items():
        for kind, n in kinds.items():
            assert count(es, alias, source=source, doc_type=kind) == n
    assert summary["relevant"] == count(es, alias, relevant=True) > 0
    assert summary["not_relevant"] == count(es, alias, relevant=False)
    for field in ("sellers", "associations", "governments"):
        assert summary[field], field
        for name, n in summary[field]:
            assert count(es, alias, **{field: name}) == n
    top = es.search(index=alias, size=0, aggs={"max": {"max": {"field": "loss_cny"}}})["aggregations"]["max"]["value"]
    losses = [loss["loss_cny"] for loss in summary["losses"]]
    assert losses[0] == top and losses == sorted(losses, reverse=True)
    stories = es.search(index=alias, size=0, aggs={"s": {"terms": {"field": "story_id", "size": 10000}}})
    assert summary["stories"] == len(stories["aggregations"]["s"]["buckets"])
    assert sorted(summary["runs"]) == ["cn-news", "en-news", "forum"]
    assert all(run["status"] in ("ok", "partial") for run in summary["runs"].values())

    out = result.stdout
    assert f"{summary['documents']} documents in {alias}" in out
    assert f"relevant {summary['relevant']}, not relevant {summary['not_relevant']}" in out
    assert "Store-closure wave" in out  # banwave report
    assert "banwave search 封店" in out and "make es-stop" not in out  # an Elasticsearch it did not start
    # the waves of the demo web's history: the 2021 wave raised on the forum's first reports, and the
    # alert a webhook got the day it was raised
    overall = [w for w in summary["waves"] if w["scope_kind"] == "overall"]
    assert overall[0]["onset"] == overall[0]["raised"] == "2021-04-20"
    assert "Alert to demo-webhook (emerging, 2021-04-20)" in out and "封店潮预警" in out
    assert es.count(index=es_env.waves_alias)["count"] >= len(summary["waves"]) > 0

    # Again: the crawl state remembers every page, so nothing is new and the summary is the same.
    result, again = demo(tmp_path, 8781, env, run=2)
    assert result.stdout.count("0 new documents") == 3
    assert "were sent by an earlier demo run" in result.stdout   # the same alert is not sent twice
    assert {k: v for k, v in again.items() if k != "runs"} == {k: v for k, v in summary.items() if k != "runs"}


def test_without_an_elasticsearch_the_demo_starts_the_dev_server_and_leaves_it_running(tmp_path, es_url):
    # es_url: the shared dev server is up, so jars are cached and the start is quick.
    es_env = config.process_environ({"BANWAVE_DEV_ES_HOME": str(tmp_path / "dev-es"), "BANWAVE_DEV_ES_PORT": "9260",
                                      "BANWAVE_DEV_ES_TRANSPORT_PORT": "9360"})
    env = {**es_env, "BANWAVE_ES_URL": "", "BANWAVE_DATA_DIR": str(tmp_path / "data"), "BANWAVE_ENV_FILE": "",
           "BANWAVE_INDEX_PREFIX": "demo-test"}
    try:
        result, summary = demo(tmp_path, 8791, env)
        assert summary["es_url"] == "http://127.0.0.1:9260" and summary["documents"] == len(GOLD)
        assert "make es-stop" in result.stdout
        assert subprocess.run([str(ES_SH), "status"], env=es_env, capture_output=True).returncode == 0
    finally:
        subprocess.run([str(ES_SH), "stop"], env=es_env, capture_output=True, timeout=120)
