"""``banwave index``: the spool and dead letters of the index stage.

    banwave index status    # spool and dead-letter counts (by target and by reason)
    banwave index replay    # send the spool; remove only what Elasticsearch acknowledged

Unreadable spool lines (no valid action) are counted by ``status`` and moved
to the dead letters by ``replay``, so they never block the good ones.

``replay`` exits 1 when lines stay in the spool (Elasticsearch still
unreachable or refusing them for a transient reason), else 0.
"""
from __future__ import annotations

import sys
from collections import Counter

from elasticsearch import ApiError, TransportError

import config
from pipelines.elastic import ElasticError, describe_error, setup_indices
from pipelines.index import build_delivery
from pipelines.spool import Spool


def register(subparsers) -> None:
    index = subparsers.add_parser("index", help="spool and dead letters of the index stage")
    actions = index.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="spool and dead-letter counts")
    status.set_defaults(func=run_status)
    replay = actions.add_parser("replay", help="send the spool to Elasticsearch, keep what it did not take")
    replay.set_defaults(func=run_replay)


def run_status(args, env) -> int:
    spool = Spool(env.data_dir)
    actions, unreadable = spool.scan()
    targets = Counter(action.index for action in actions)
    parts = [f"{n} for {index}" for index, n in sorted(targets.items())]
    parts += [f"{len(unreadable)} unreadable"] if unreadable else []
    detail = f" ({', '.join(parts)})" if parts else ""
    print(f"spool: {len(actions) + len(unreadable)} line(s){detail} in {spool.path}")
    reasons = spool.dead_letter_reasons()
    by_reason = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
    print(f"dead letters: {sum(reasons.values())} document(s){f' ({by_reason})' if by_reason else ''} "
          f"in {spool.dead_letter_path}")
    return 0


def run_replay(args, env) -> int:
    env.require_es()
    settings = config.crawl_settings(env)
    delivery = build_delivery(settings, env)
    client = delivery.sender.client
    try:
        if not client.indices.exists_alias(name=env.docs_alias):  # spooled before the cluster was set up
            setup_indices(client, env.index_prefix, settings)
    except (ElasticError, ApiError, TransportError) as exc:
        print(f"banwave: {describe_error(exc)}", file=sys.stderr)
        return 1
    result = delivery.replay(settings.getint("INDEX_BATCH_DOCS"))
    print(f"replayed: {result.sent} sent, {result.unchanged} unchanged, {result.dead_lettered} dead-lettered, "
          f"{result.unreadable} unreadable (dead-lettered), {result.left} left in {delivery.spool.path}")
    if result.left:
        print("banwave: some lines stay in the spool; run `banwave index replay` again later", file=sys.stderr)
        return 1
    return 0
