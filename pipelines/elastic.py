"""Elasticsearch connection and index setup shared by the CLI and the index stage.

Mappings live as JSON index templates in ``deploy/elasticsearch/``, never in
code: this module only loads them, renames them for the configured index
prefix, and installs them. Each alias (``<prefix>-docs``, ``<prefix>-runs``)
points at a versioned concrete index (``<prefix>-docs-v1``) so a later mapping
change can reindex into ``-v2`` and move the alias without downtime.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from elasticsearch import ApiError, Elasticsearch, TransportError

from config import REPO_ROOT, Env

logger = logging.getLogger(__name__)

TEMPLATE_DIR = REPO_ROOT / "deploy" / "elasticsearch"
# Template file stem -> alias suffix; the concrete index is <alias>-v<template version>.
TEMPLATES = {"docs": "docs", "runs": "runs", "waves": "waves", "alerts": "alerts"}


class ElasticError(RuntimeError):
    """Elasticsearch is unreachable or refused a setup step; the message is one line."""


def make_client(env: Env, **overrides) -> Elasticsearch:
    """Build the official client from the environment (raises ConfigError if no URL).

    ``BANWAVE_ES_URL`` may name several nodes of one cluster: the client sends each
    request to the next live node (round robin) and, on a connection error, marks
    that node dead for a while (elastic_transport's NodePool) and retries the
    request on another one, up to ``max_retries`` times.
    """
    env.require_es()
    options: dict = {"request_timeout": env.es_timeout}
    if env.es_api_key:
        options["api_key"] = env.es_api_key
    elif env.es_username:
        options["basic_auth"] = (env.es_username, env.es_password)
    if env.es_ca_cert:
        options["ca_certs"] = env.es_ca_cert
    options.update(overrides)
    return Elasticsearch(env.es_urls, **options)


def describe_error(exc: Exception) -> str:
    """One line for an Elasticsearch failure, without credentials or a traceback."""
    if isinstance(exc, ApiError):
        error = exc.body.get("error", {}) if isinstance(exc.body, dict) else {}
        reason = error.get("reason") if isinstance(error, dict) else error
        return f"HTTP {exc.meta.status}: {reason or exc.message}"
    if isinstance(exc, TransportError):
        return f"cannot reach Elasticsearch: {exc.message}"
    return str(exc)


@dataclass(frozen=True)
class IndexTemplate:
    """One JSON template from deploy/elasticsearch, renamed for an index prefix."""

    name: str
    alias: str
    concrete_index: str
    body: dict


def load_template(kind: str, prefix: str, template_dir: Path = TEMPLATE_DIR, shards: int | None = None,
                  replicas: str | None = None) -> IndexTemplate:
    """Load ``<kind>.template.json`` and point its patterns at ``<prefix>-<kind>-*``; ``shards`` and
    ``replicas`` (INDEX_SHARDS, INDEX_REPLICAS: a count or an auto-expand range such as "0-1")
    replace the file's for indices created from now on."""
    path = template_dir / f"{kind}.template.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    index_settings = body["template"]["settings"]
    if shards is not None:
        index_settings["number_of_shards"] = int(shards)
    if replicas is not None:
        index_settings.pop("number_of_replicas", None)
        index_settings.pop("auto_expand_replicas", None)
        if "-" in str(replicas):
            index_settings["auto_expand_replicas"] = str(replicas)
        else:
            index_settings["number_of_replicas"] = int(replicas)
    alias = f"{prefix}-{TEMPLATES[kind]}"
    version = int(body["_meta"]["version"])
    body["index_patterns"] = [f"{alias}-*"]
    return IndexTemplate(name=alias, alias=alias, concrete_index=f"{alias}-v{version}", body=body)


def setup_indices(client: Elasticsearch, prefix: str, settings=None) -> list[str]:
    """Install templates and create aliased indices; safe to run any number of times.

    ``settings`` (Scrapy settings from config.crawl_settings) give INDEX_SHARDS and
    INDEX_REPLICAS; without them the template files' values hold. Returns one
    human-readable line per action taken.
    """
    report = []
    sizing = {"shards": settings.getint("INDEX_SHARDS"), "replicas": settings.get("INDEX_REPLICAS")} if settings else {}
    for kind in TEMPLATES:
        template = load_template(kind, prefix, **sizing)
        try:
            client.indices.put_index_template(name=template.name, **template.body)
            report.append(f"template {template.name}: installed")
            if client.indices.exists_alias(name=template.alias):
                targets = sorted(client.indices.get_alias(name=template.alias))
                # An existing index gets additive mapping changes; a conflicting
                # change fails here and needs a new versioned index and a reindex.
                client.indices.put_mapping(index=template.alias, **_mapping_update(template.body))
                report.append(f"alias {template.alias} -> {', '.join(targets)}: mapping up to date")
            elif client.indices.exists(index=template.alias):
                raise ElasticError(
                    f"{template.alias} is a concrete index, not an alias; move its data to "
                    f"{template.concrete_index} and delete it before running setup"
                )
            else:
                # Several workers may set up at once: an index another one just created is fine.
                created = client.options(ignore_status=400).indices.create(
                    index=template.concrete_index,
                    aliases={template.alias: {"is_write_index": True}},
                    wait_for_active_shards="1",
                )
                if created.meta.status == 400 and _error_type(created.body) != "resource_already_exists_exception":
                    raise ApiError(_error_type(created.body) or "create failed", created.meta, created.body)
                report.append(f"index {template.concrete_index} created behind alias {template.alias}"
                              if created.meta.status < 300 else f"index {template.concrete_index}: created by another process")
        except (ApiError, TransportError) as exc:
            raise ElasticError(f"setting up {template.alias}: {describe_error(exc)}") from exc
    return report


def _error_type(body) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("type", "") if isinstance(error, dict) else ""


def drop_indices(client: Elasticsearch, prefix: str) -> None:
    """Delete every index and index template under ``prefix`` (the inverse of setup; tests, benches)."""
    client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
    client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-*")


def _mapping_update(template_body: dict) -> dict:
    mappings = template_body["template"]["mappings"]
    return {key: mappings[key] for key in ("properties", "dynamic", "dynamic_templates", "_meta") if key in mappings}


def health(client: Elasticsearch) -> dict:
    """Cluster name, version and health status, or raise ElasticError."""
    try:
        info = client.info()
        status = client.cluster.health()
    except (ApiError, TransportError) as exc:
        raise ElasticError(describe_error(exc)) from exc
    return {
        "cluster": info["cluster_name"],
        "version": info["version"]["number"],
        "status": status["status"],
        "nodes": status["number_of_nodes"],
    }


