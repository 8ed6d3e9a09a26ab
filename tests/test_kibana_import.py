"""`banwave kibana import` against a stand-in for Kibana's status and saved-objects import endpoints.

Kibana cannot run here. The stand-in implements just the contract the command relies on:
``GET /api/status`` answering ``{"version": {"number": …}}``, and
``POST /api/saved_objects/_import?overwrite=true`` with ``kbn-xsrf`` required, multipart form
with one ``file`` field of NDJSON, ``missing_references`` errors for references to objects
neither in the upload nor already stored, and the ``{"success", "successCount", "errors"}``
answer. The dashboards' time range is read from documents in the real Elasticsearch.
"""
from __future__ import annotations

import base64
import json
import socket
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from cli.kibana import OBJECTS_DIR
from cli.kibana_setup import minimum_version, version_tuple
from cli.main import main
from searchdata import index_documents

pytestmark = pytest.mark.slow  # a stand-in Kibana server


class StandIn(BaseHTTPRequestHandler):
    """The import endpoint; records each request on the server object."""

    def log_message(self, *args):  # keep test output clean
        pass

    def _answer(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        url = urlsplit(self.path)
        self.server.requests.append({"method": "GET", "path": url.path, "headers": dict(self.headers.items())})
        if url.path != "/api/status":
            return self._answer(404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"})
        if self.server.required_auth and self.headers.get("Authorization") != self.server.required_auth:
            return self._answer(401, {"statusCode": 401, "error": "Unauthorized",
                                      "message": "[security_exception]: missing authentication credentials"})
        self._answer(200, {"name": "kibana", "version": {"number": self.server.version, "build_snapshot": False},
                           "status": {"overall": {"level": "available"}}})

    def do_POST(self):
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.requests.append({"method": "POST", "path": url.path, "query": parse_qs(url.query),
                                     "headers": headers})
        if url.path != "/api/saved_objects/_import":
            return self._answer(404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"})
        if self.server.required_auth and self.headers.get("Authorization") != self.server.required_auth:
            return self._answer(401, {"statusCode": 401, "error": "Unauthorized",
                                      "message": "[security_exception]: missing authentication credentials"})
        if "kbn-xsrf" not in {k.lower() for k in self.headers}:
            return self._answer(400, {"statusCode": 400, "error": "Bad Request",
                                      "message": 'Request must contain a kbn-xsrf header.'})
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
        files = [part for part in message.iter_parts() if part.get_param("name", header="content-disposition") == "file"]
        if len(files) != 1 or not files[0].get_filename().endswith(".ndjson"):
            return self._answer(415, {"statusCode": 415, "error": "Unsupported Media Type",
                                      "message": "Invalid file extension"})
        objects = [json.loads(line) for line in files[0].get_payload(decode=True).decode().splitlines() if line]
        self.server.uploaded.append(objects)
        known = {(o["type"], o["id"]) for o in objects} | self.server.stored
        errors, imported = [], []
        for obj in objects:
            missing = [{"type": r["type"], "id": r["id"]} for r in obj.get("references", [])
                       if (r["type"], r["id"]) not in known]
            if missing:
                errors.append({"id": obj["id"], "type": obj["type"], "meta": {"title": obj["attributes"].get("title")},
                               "error": {"type": "missing_references", "references": missing}})
            elif (obj["type"], obj["id"]) in self.server.stored and "true" not in url.query:
                errors.append({"id": obj["id"], "type": obj["type"], "error": {"type": "conflict"}})
            else:
                imported.append({"type": obj["type"], "id": obj["id"], "meta": {"title": obj["attributes"]["title"]}})
        self.server.stored |= {(i["type"], i["id"]) for i in imported}
        body = {"success": not errors, "successCount": len(imported), "successResults": imported}
        self._answer(200, {**body, "errors": errors} if errors else body)


@pytest.fixture
def kibana():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    server.requests, server.uploaded, server.stored, server.required_auth = [], [], set(), None
    server.version = "8.19.2"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("BANWAVE_KIBANA_API_KEY", "BANWAVE_ES_USERNAME", "BANWAVE_ES_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BANWAVE_INDEX_PREFIX", "acme")
    return monkeypatch


def use(env, kibana):
    env.setenv("BANWAVE_KIBANA_URL", f"http://127.0.0.1:{kibana.server_port}")


RANGE = ["--from", "2021-04-01", "--to", "2021-11-01"]  # given: no Elasticsearch needed


def posts(kibana) -> list[dict]:
    return [r for r in kibana.requests if r["method"] == "POST"]


def dashboard(uploaded: list[dict], id_: str) -> dict:
    return next(o for o in uploaded if o["id"] == id_)["attributes"]


def test_import_posts_every_object_with_overwrite_and_prefixed_views(env, kibana, capsys):
    use(env, kibana)
    env.setenv("BANWAVE_KIBANA_API_KEY", "a2V5aWQ6c2VjcmV0")
    kibana.required_auth = "ApiKey a2V5aWQ6c2VjcmV0"
    assert main(["kibana", "import", *RANGE]) == 0
    out, err = capsys.readouterr()
    expected = [json.loads(line) for path in sorted(OBJECTS_DIR.glob("*.ndjson")) for line in path.read_text().splitlines()]
    assert f"imported {len(expected)} saved objects into Kibana 8.19.2 at http://127.0.0.1:{kibana.server_port}" in out
    assert "'Store-closure wave' open on 2021-04-01 to 2021-11-01 (as given)" in out
    assert "a2V5aWQ6c2VjcmV0" not in out + err  # never echo secrets
    status, request = kibana.requests
    assert status["path"] == "/api/status" and status["headers"]["Authorization"] == kibana.required_auth
    assert request["query"] == {"overwrite": ["true"]} and request["headers"]["kbn-xsrf"] == "true"
    (uploaded,) = kibana.uploaded
    assert [(o["type"], o["id"]) for o in uploaded] == [(o["type"], o["id"]) for o in expected]
    titles = {o["attributes"]["title"] for o in uploaded if o["type"] == "index-pattern"}
    assert titles == {"acme-docs", "acme-runs", "acme-waves", "acme-alerts"}  # the configured aliases, not banwave-*
    wave = dashboard(uploaded, "banwave-store-closure-wave")
    assert (wave["timeRestore"], wave["timeFrom"], wave["timeTo"]) == (True, "2021-04-01", "2021-11-01")
    assert dashboard(uploaded, "banwave-crawl-health")["timeFrom"] == "now-7d"  # runs: not the documents' range
    # a second import overwrites in place
    assert main(["kibana", "import", *RANGE]) == 0
    assert len(posts(kibana)) == 2 and posts(kibana)[1]["query"] == {"overwrite": ["true"]}


def test_basic_auth_from_the_elasticsearch_credentials(env, kibana, capsys):
    use(env, kibana)
    env.setenv("BANWAVE_ES_USERNAME", "elastic")
    env.setenv("BANWAVE_ES_PASSWORD", "s3cret")
    kibana.required_auth = "Basic " + base64.b64encode(b"elastic:s3cret").decode()
    assert main(["kibana", "import", *RANGE]) == 0
    env.setenv("BANWAVE_ES_PASSWORD", "wrong")
    assert main(["kibana", "import", *RANGE]) == 1
    err = capsys.readouterr().err
    assert err.strip().endswith("answered HTTP 401: [security_exception]: missing authentication credentials")
    assert "wrong" not in err and "s3cret" not in err


def test_objects_kibana_refuses_are_listed(env, kibana, capsys, tmp_path):
    use(env, kibana)
    # a dashboard alone: its visualisations are neither uploaded nor stored
    lines = (OBJECTS_DIR / "banwave.ndjson").read_text().splitlines()
    only_dashboard = tmp_path / "one.ndjson"
    only_dashboard.write_text(next(line for line in lines if '"type": "dashboard"' in line) + "\n")
    assert main(["kibana", "import", str(only_dashboard)]) == 1
    err = capsys.readouterr().err
    assert "not imported: dashboard banwave-store-closure-wave 'Store-closure wave': missing_references: lens" in err
    assert "Kibana imported 0 of 1 saved objects" in err


def test_unreachable_kibana_is_one_line_and_exit_1(env, capsys):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env.setenv("BANWAVE_KIBANA_URL", f"http://127.0.0.1:{port}")
    assert main(["kibana", "import", *RANGE]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"banwave: cannot reach Kibana at http://127.0.0.1:{port}: ") and err.count("\n") == 1


def test_older_kibana_is_refused_in_one_line_before_any_import(env, kibana, capsys):
    use(env, kibana)
    kibana.version = "8.8.2"
    assert main(["kibana", "import", *RANGE]) == 1
    err = capsys.readouterr().err
    assert err == (f"banwave: Kibana at http://127.0.0.1:{kibana.server_port} is 8.8.2; banwave's saved objects "
                   "need Kibana 8.9.0 or later (deploy/kibana/README.md)\n")
    assert posts(kibana) == []
    kibana.version = "8.9.0"
    assert main(["kibana", "import", *RANGE]) == 0


def test_minimum_version_is_the_highest_declared_migration_version():
    objects = [json.loads(line) for line in (OBJECTS_DIR / "banwave.ndjson").read_text().splitlines()]
    declared = {o[key] for o in objects for key in ("typeMigrationVersion", "coreMigrationVersion")}
    assert minimum_version(objects) == max(declared, key=version_tuple) == "8.9.0"
    assert "Kibana 8.9.0 or later" in (OBJECTS_DIR / "README.md").read_text()  # stated where users read it
    assert version_tuple("8.10.0") > version_tuple("8.9.0") and version_tuple("9.0.0-SNAPSHOT") == (9, 0, 0)


@pytest.fixture
def kibana_and_es(es_env, kibana, monkeypatch, tmp_path):
    """The stand-in Kibana and a real documents index (es_env's prefix)."""
    monkeypatch.chdir(tmp_path)
    for name in ("BANWAVE_KIBANA_API_KEY", "BANWAVE_ES_USERNAME", "BANWAVE_ES_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BANWAVE_KIBANA_URL", f"http://127.0.0.1:{kibana.server_port}")
    return es_env


def test_time_range_comes_from_the_documents(kibana_and_es, kibana, es, capsys):
    documents = [  # timeline_at: published, or the crawl time of an undated post
        {"id": "a", "timeline_at": "2021-04-20T09:00:00+08:00", "published": "2021-04-20T09:00:00+08:00"},
        {"id": "b", "timeline_at": "2021-07-23T10:00:00+08:00", "published": "2021-07-23T10:00:00+08:00"},
        {"id": "c", "timeline_at": "2021-10-20T23:30:00+08:00", "published_estimated": True}]
    index_documents(es, kibana_and_es.index_prefix, documents)
    assert main(["kibana", "import"]) == 0
    out = capsys.readouterr().out
    wave = dashboard(kibana.uploaded[-1], "banwave-store-closure-wave")
    assert (wave["timeRestore"], wave["timeFrom"], wave["timeTo"]) == (True, "2021-04-20", "2021-10-21")
    assert f"open on 2021-04-20 to 2021-10-21 (first and last timeline_at in {kibana_and_es.docs_alias})" in out
    # one end given: the other from the index
    assert main(["kibana", "import", "--from", "now-5y"]) == 0
    wave = dashboard(kibana.uploaded[-1], "banwave-store-closure-wave")
    assert (wave["timeFrom"], wave["timeTo"]) == ("now-5y", "2021-10-21")


def test_empty_index_keeps_the_saved_range(kibana_and_es, kibana, es, capsys):
    index_documents(es, kibana_and_es.index_prefix, [])
    assert main(["kibana", "import"]) == 0
    assert "keep their saved time range" in capsys.readouterr().out
    assert dashboard(kibana.uploaded[-1], "banwave-store-closure-wave")["timeFrom"] == "now-2y"


def test_unreadable_index_or_bad_bounds_are_one_line(env, kibana, capsys):
    use(env, kibana)
    env.setenv("BANWAVE_ES_URL", "http://127.0.0.1:9")
    assert main(["kibana", "import"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("banwave: reading the time range from acme-docs: cannot reach Elasticsearch")
    assert err.count("\n") == 1 and posts(kibana) == []
    with pytest.raises(SystemExit):
        main(["kibana", "import", "--from", "June"])
    assert "is not a date (2021-06-01), a date-time or date math" in capsys.readouterr().err
