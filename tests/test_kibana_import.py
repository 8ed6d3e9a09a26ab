"""`banwave kibana import` against a stand-in for Kibana's saved-objects import endpoint.

Kibana cannot run here. The stand-in implements just the contract of
``POST /api/saved_objects/_import?overwrite=true`` that the command relies on:
``kbn-xsrf`` required, multipart form with one ``file`` field of NDJSON,
``missing_references`` errors for references to objects neither in the upload
nor already stored, and the ``{"success", "successCount", "errors"}`` answer.
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
from cli.main import main

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

    def do_POST(self):
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.server.requests.append({"path": url.path, "query": parse_qs(url.query), "headers": headers})
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


def test_import_posts_every_object_with_overwrite_and_prefixed_views(env, kibana, capsys):
    use(env, kibana)
    env.setenv("BANWAVE_KIBANA_API_KEY", "a2V5aWQ6c2VjcmV0")
    kibana.required_auth = "ApiKey a2V5aWQ6c2VjcmV0"
    assert main(["kibana", "import"]) == 0
    out, err = capsys.readouterr()
    expected = [json.loads(line) for path in sorted(OBJECTS_DIR.glob("*.ndjson")) for line in path.read_text().splitlines()]
    assert f"imported {len(expected)} saved objects into http://127.0.0.1:{kibana.server_port}" in out
    assert "a2V5aWQ6c2VjcmV0" not in out + err  # never echo secrets
    (request,) = kibana.requests
    assert request["query"] == {"overwrite": ["true"]} and request["headers"]["kbn-xsrf"] == "true"
    (uploaded,) = kibana.uploaded
    assert [(o["type"], o["id"]) for o in uploaded] == [(o["type"], o["id"]) for o in expected]
    titles = {o["attributes"]["title"] for o in uploaded if o["type"] == "index-pattern"}
    assert titles == {"acme-docs", "acme-runs", "acme-waves", "acme-alerts"}  # the configured aliases, not banwave-*
    # a second import overwrites in place
    assert main(["kibana", "import"]) == 0
    assert len(kibana.requests) == 2 and kibana.requests[1]["query"] == {"overwrite": ["true"]}


def test_basic_auth_from_the_elasticsearch_credentials(env, kibana, capsys):
    use(env, kibana)
    env.setenv("BANWAVE_ES_USERNAME", "elastic")
    env.setenv("BANWAVE_ES_PASSWORD", "s3cret")
    kibana.required_auth = "Basic " + base64.b64encode(b"elastic:s3cret").decode()
    assert main(["kibana", "import"]) == 0
    env.setenv("BANWAVE_ES_PASSWORD", "wrong")
    assert main(["kibana", "import"]) == 1
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
    assert main(["kibana", "import"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"banwave: cannot reach Kibana at http://127.0.0.1:{port}: ") and err.count("\n") == 1
