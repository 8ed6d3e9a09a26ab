"""``banwave kibana import``: load the dashboards into Kibana through its saved-objects API.

Reads the NDJSON files under ``deploy/kibana/`` (Kibana 8 export format),
renames the data views ``banwave-docs``/``banwave-runs`` to the configured
aliases (``BANWAVE_INDEX_PREFIX``), and posts them as one multipart upload to
``/api/saved_objects/_import?overwrite=true``, so a re-import replaces the
objects in place. Plain ``urllib``: Kibana is not Elasticsearch, and the
official client would refuse it.

Credentials, the first that is set: ``BANWAVE_KIBANA_API_KEY``,
``BANWAVE_KIBANA_USERNAME``/``PASSWORD``, then, with a warning, the
Elasticsearch API key or user (often the ``elastic`` superuser). They are
never sent in the clear to another machine: plain HTTP is refused unless the
host is this machine (loopback) or ``--insecure`` is given; HTTPS is verified
against ``BANWAVE_KIBANA_CA_CERT`` (else the system's CAs); a redirect is
never followed, since it would carry the credentials elsewhere.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import logging
import ssl
import sys
import uuid
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, HTTPSHandler, Request, build_opener

from config import REPO_ROOT, ConfigError, Env

logger = logging.getLogger(__name__)

OBJECTS_DIR = REPO_ROOT / "deploy" / "kibana"
IMPORT_PATH = "/api/saved_objects/_import?overwrite=true"
# data view title in the files -> Env property naming the configured alias
VIEW_TITLES = {"banwave-docs": "docs_alias", "banwave-runs": "runs_alias"}


class KibanaError(RuntimeError):
    """Kibana is unreachable or refused the import; the message is one line."""


def register(subparsers) -> None:
    kibana = subparsers.add_parser("kibana", help="Kibana dashboards")
    actions = kibana.add_subparsers(dest="kibana_command", metavar="ACTION", required=True)
    load = actions.add_parser("import", help="import the saved objects in deploy/kibana into Kibana (overwrite)")
    load.add_argument("files", nargs="*", type=Path, metavar="FILE",
                      help="NDJSON files to import (default: deploy/kibana/*.ndjson)")
    load.add_argument("--insecure", action="store_true",
                      help="allow plain HTTP to a Kibana on another machine (credentials travel unencrypted)")
    load.set_defaults(func=run_import)


def load_objects(files: list[Path], env: Env) -> list[dict]:
    """Saved objects from NDJSON files, data view titles renamed for the configured prefix."""
    objects = []
    for path in files:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise KibanaError(f"{path}:{number}: not JSON ({exc.msg})") from None
            title = item.get("attributes", {}).get("title")
            if item.get("type") == "index-pattern" and title in VIEW_TITLES:
                item["attributes"]["title"] = getattr(env, VIEW_TITLES[title])
            objects.append(item)
    return objects


def multipart(objects: list[dict]) -> tuple[bytes, str]:
    """The import API's request body: one file field named ``file`` holding NDJSON."""
    boundary = f"banwave-{uuid.uuid4().hex}"
    ndjson = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in objects).encode("utf-8")
    body = (f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="banwave.ndjson"\r\n'
            "Content-Type: application/ndjson\r\n\r\n").encode() + ndjson + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def auth_header(env: Env) -> dict[str, str]:
    """The Authorization header: a Kibana credential if one is set, else the Elasticsearch one (warned)."""
    if env.kibana_api_key:
        return {"Authorization": f"ApiKey {env.kibana_api_key}"}
    if env.kibana_username:
        return {"Authorization": _basic(env.kibana_username, env.kibana_password)}
    if env.es_api_key or env.es_username:
        logger.warning("no Kibana credential set: using the Elasticsearch %s for Kibana; give the import its own "
                       "with BANWAVE_KIBANA_API_KEY or BANWAVE_KIBANA_USERNAME/PASSWORD",
                       "API key" if env.es_api_key else f"user {env.es_username!r}")
        if env.es_api_key:
            return {"Authorization": f"ApiKey {env.es_api_key}"}
        return {"Authorization": _basic(env.es_username, env.es_password)}
    return {}


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def check_transport(url: str, insecure: bool) -> None:
    """Refuse plain HTTP to another machine unless ``insecure``: the credentials would be readable on the way."""
    parts = urlsplit(url)
    if parts.scheme == "http" and not _loopback(parts.hostname or "") and not insecure:
        raise KibanaError(f"refusing plain HTTP to {parts.hostname}: credentials would travel unencrypted; use an "
                          "https:// BANWAVE_KIBANA_URL (BANWAVE_KIBANA_CA_CERT for its CA) or --insecure")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoRedirect(HTTPRedirectHandler):
    """A redirect would carry the Authorization header to wherever it points: stop there instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise KibanaError(f"Kibana at {req.full_url.split('/api/')[0]} answered HTTP {code} redirecting to "
                          f"{newurl}; not followed with the credentials: set BANWAVE_KIBANA_URL to the final address")


def import_objects(env: Env, objects: list[dict], insecure: bool = False) -> dict:
    """POST the objects to Kibana; returns its JSON answer, or raises KibanaError."""
    if not env.kibana_url:
        raise ConfigError("BANWAVE_KIBANA_URL is not set: give the Kibana URL, e.g. http://127.0.0.1:5601")
    check_transport(env.kibana_url, insecure)
    body, content_type = multipart(objects)
    request = Request(env.kibana_url + IMPORT_PATH, data=body, method="POST",
                      headers={"kbn-xsrf": "true", "Content-Type": content_type, **auth_header(env)})
    tls = ssl.create_default_context(cafile=env.kibana_ca_cert or None)
    opener = build_opener(HTTPSHandler(context=tls), _NoRedirect())
    logger.info("importing %s saved objects into %s", len(objects), env.kibana_url)
    try:
        with opener.open(request, timeout=env.es_timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except HTTPError as exc:
        raise KibanaError(f"Kibana at {env.kibana_url} answered HTTP {exc.code}: {_message(exc)}") from None
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise KibanaError(f"cannot reach Kibana at {env.kibana_url}: {reason}") from None
    except ValueError:
        raise KibanaError(f"Kibana at {env.kibana_url} answered something that is not JSON") from None
    return answer


def _message(error: HTTPError) -> str:
    try:
        body = json.loads(error.read().decode("utf-8"))
    except (ValueError, OSError):
        return error.reason
    return str(body.get("message") or body.get("error") or error.reason).splitlines()[0]


def describe_errors(answer: dict) -> list[str]:
    """One line per object Kibana did not import."""
    lines = []
    for error in answer.get("errors") or []:
        detail = error.get("error", {})
        what = detail.get("type", "error")
        if what == "missing_references":
            what += ": " + ", ".join(f"{r.get('type')} {r.get('id')}" for r in detail.get("references", []))
        elif detail.get("message"):
            what += f": {detail['message']}"
        title = (error.get("meta") or {}).get("title") or error.get("title") or ""
        lines.append(f"{error.get('type')} {error.get('id')} {title!r}: {what}")
    return lines


def run_import(args, env) -> int:
    files = args.files or sorted(OBJECTS_DIR.glob("*.ndjson"))
    try:
        objects = load_objects(files, env)
        answer = import_objects(env, objects, insecure=args.insecure)
    except (KibanaError, OSError) as exc:
        print(f"banwave: {exc}", file=sys.stderr)
        return 1
    errors = describe_errors(answer)
    for line in errors:
        print(f"banwave: not imported: {line}", file=sys.stderr)
    if not answer.get("success") or errors:
        print(f"banwave: Kibana imported {answer.get('successCount', 0)} of {len(objects)} saved objects",
              file=sys.stderr)
        return 1
    print(f"imported {answer.get('successCount', len(objects))} saved objects into {env.kibana_url} "
          f"(data views {env.docs_alias}, {env.runs_alias}; existing objects overwritten)")
    return 0
