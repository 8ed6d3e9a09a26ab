"""``banwave kibana import``: load the dashboards into Kibana through its saved-objects API.

Reads the NDJSON files under ``deploy/kibana/`` (Kibana 8 export format),
renames the data views ``banwave-docs``/``banwave-runs`` to the configured
aliases (``BANWAVE_INDEX_PREFIX``), and posts them as one multipart upload to
``/api/saved_objects/_import?overwrite=true``, so a re-import replaces the
objects in place. Before that it asks Kibana its version (``GET /api/status``)
and refuses, in one line, one older than the highest migration version the
objects declare (Kibana would refuse them), and sets the time range of the
dashboards on the documents to the data's: first and last ``timeline_at`` in
the index (publication date, else crawl time), or ``--from``/``--to``. Authentication: ``BANWAVE_KIBANA_API_KEY``, else the
Elasticsearch basic-auth user. Plain ``urllib``: Kibana is not Elasticsearch,
and the official client would refuse it.
"""
from __future__ import annotations

import base64
import json
import logging
import sys
import uuid
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from cli.kibana_setup import (RangeError, data_time_range, docs_dashboards, minimum_version, set_time_range,
                               time_bound, version_tuple)
from config import REPO_ROOT, ConfigError, Env
from pipelines.elastic import make_client

logger = logging.getLogger(__name__)

OBJECTS_DIR = REPO_ROOT / "deploy" / "kibana"
IMPORT_PATH = "/api/saved_objects/_import?overwrite=true"
STATUS_PATH = "/api/status"
# data view title in the files -> Env property naming the configured alias
VIEW_TITLES = {"banwave-docs": "docs_alias", "banwave-runs": "runs_alias", "banwave-waves": "waves_alias",
               "banwave-alerts": "alerts_alias"}


class KibanaError(RuntimeError):
    """Kibana is unreachable or refused the import; the message is one line."""


def register(subparsers) -> None:
    kibana = subparsers.add_parser("kibana", help="Kibana dashboards")
    actions = kibana.add_subparsers(dest="kibana_command", metavar="ACTION", required=True)
    load = actions.add_parser("import", help="import the saved objects in deploy/kibana into Kibana (overwrite)")
    load.add_argument("files", nargs="*", type=Path, metavar="FILE",
                      help="NDJSON files to import (default: deploy/kibana/*.ndjson)")
    load.add_argument("--from", dest="time_from", type=time_bound, metavar="WHEN",
                      help="start of the wave dashboard's time range: a date, a date-time or Kibana date math "
                           "(now-30d); default: the first document's timeline_at in the index")
    load.add_argument("--to", dest="time_to", type=time_bound, metavar="WHEN",
                      help="end of the range (default: the last document's timeline_at)")
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
    if env.kibana_api_key:
        return {"Authorization": f"ApiKey {env.kibana_api_key}"}
    if env.es_username:
        token = base64.b64encode(f"{env.es_username}:{env.es_password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {}


def import_objects(env: Env, objects: list[dict]) -> dict:
    """POST the objects to Kibana; returns its JSON answer, or raises KibanaError."""
    if not env.kibana_url:
        raise ConfigError("BANWAVE_KIBANA_URL is not set: give the Kibana URL, e.g. http://127.0.0.1:5601")
    body, content_type = multipart(objects)
    request = Request(env.kibana_url + IMPORT_PATH, data=body, method="POST",
                      headers={"kbn-xsrf": "true", "Content-Type": content_type, **auth_header(env)})
    logger.info("importing %s saved objects into %s", len(objects), env.kibana_url)
    try:
        with urlopen(request, timeout=env.es_timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except HTTPError as exc:
        raise KibanaError(f"Kibana at {env.kibana_url} answered HTTP {exc.code}: {_message(exc)}") from None
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise KibanaError(f"cannot reach Kibana at {env.kibana_url}: {reason}") from None
    except ValueError:
        raise KibanaError(f"Kibana at {env.kibana_url} answered something that is not JSON") from None
    return answer


def kibana_version(env: Env) -> str:
    """Kibana's version number from ``GET /api/status``, or raises KibanaError."""
    if not env.kibana_url:
        raise ConfigError("BANWAVE_KIBANA_URL is not set: give the Kibana URL, e.g. http://127.0.0.1:5601")
    request = Request(env.kibana_url + STATUS_PATH, method="GET", headers=auth_header(env))
    try:
        with urlopen(request, timeout=env.es_timeout) as response:
            return str(json.loads(response.read().decode("utf-8"))["version"]["number"])
    except HTTPError as exc:
        raise KibanaError(f"Kibana at {env.kibana_url} answered HTTP {exc.code}: {_message(exc)}") from None
    except (URLError, OSError) as exc:
        raise KibanaError(f"cannot reach Kibana at {env.kibana_url}: {getattr(exc, 'reason', exc)}") from None
    except (ValueError, KeyError, TypeError):
        raise KibanaError(f"Kibana at {env.kibana_url} did not say its version (GET {STATUS_PATH})") from None


def check_version(env: Env, objects: list[dict]) -> str:
    """Kibana's version, or KibanaError when it is older than the objects need."""
    version, needed = kibana_version(env), minimum_version(objects)
    if version_tuple(version) < version_tuple(needed):
        raise KibanaError(f"Kibana at {env.kibana_url} is {version}; banwave's saved objects need Kibana {needed} "
                          "or later (deploy/kibana/README.md)")
    return version


def time_range(args, env: Env) -> tuple[str, str] | None:
    """--from/--to, the missing ends taken from the index; None when neither is given and the index
    has no dated document."""
    if args.time_from and args.time_to:
        return args.time_from, args.time_to
    if not env.es_url:
        raise RangeError("BANWAVE_ES_URL is not set: the dashboards' time range is read from the index; "
                         "set it, or give --from and --to")
    client = make_client(env)
    try:
        found = data_time_range(client, env.docs_alias)
    finally:
        client.close()
    if found is None:
        return (args.time_from, args.time_to or "now") if args.time_from else None
    return args.time_from or found[0], args.time_to or found[1]


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
        version = check_version(env, objects)
        dashboards = docs_dashboards(objects, env.docs_alias)
        span = time_range(args, env) if dashboards else None
        if span:
            set_time_range(dashboards, *span)
        answer = import_objects(env, objects)
    except (KibanaError, RangeError, OSError) as exc:
        print(f"banwave: {exc}", file=sys.stderr)
        return 1
    errors = describe_errors(answer)
    for line in errors:
        print(f"banwave: not imported: {line}", file=sys.stderr)
    if not answer.get("success") or errors:
        print(f"banwave: Kibana imported {answer.get('successCount', 0)} of {len(objects)} saved objects",
              file=sys.stderr)
        return 1
    print(f"imported {answer.get('successCount', len(objects))} saved objects into Kibana {version} at "
          f"{env.kibana_url} (data views {env.docs_alias}, {env.runs_alias}, {env.waves_alias}, {env.alerts_alias}; "
          "existing objects overwritten)")
    titles = ", ".join(repr(d["attributes"]["title"]) for d in dashboards)
    if span:
        given = "as given" if args.time_from and args.time_to else f"first and last timeline_at in {env.docs_alias}"
        print(f"{titles} open on {span[0]} to {span[1]} ({given})")
    elif dashboards:
        print(f"{titles} keep their saved time range: {env.docs_alias} has no dated document yet")
    return 0
