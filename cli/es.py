"""``banwave es``: set up and inspect the Elasticsearch indices."""
from __future__ import annotations

import sys

import config

from pipelines.elastic import ElasticError, health, make_client, setup_indices


def register(subparsers) -> None:
    es = subparsers.add_parser("es", help="Elasticsearch index setup and health")
    actions = es.add_subparsers(dest="es_command", metavar="ACTION", required=True)
    setup = actions.add_parser("setup", help="install index templates and create the aliased indices (idempotent)")
    setup.set_defaults(func=run_setup)
    status = actions.add_parser("health", help="print cluster name, version, health and document counts")
    status.set_defaults(func=run_health)


def run_setup(args, env) -> int:
    client = make_client(env)
    try:
        for line in setup_indices(client, env.index_prefix, config.crawl_settings(env)):
            print(line)
    except ElasticError as exc:
        print(f"banwave: {exc}", file=sys.stderr)
        return 1
    return 0


def run_health(args, env) -> int:
    client = make_client(env)
    try:
        info = health(client)
    except ElasticError as exc:
        print(f"banwave: {exc}", file=sys.stderr)
        return 1
    print(f"cluster {info['cluster']} (Elasticsearch {info['version']}): {info['status']}, {info['nodes']} node(s)")
    for alias in (env.docs_alias, env.runs_alias, env.waves_alias, env.alerts_alias):
        if client.indices.exists_alias(name=alias):
            print(f"{alias}: {client.count(index=alias)['count']} documents")
        else:
            print(f"{alias}: missing (run `banwave es setup`)")
    return 0
