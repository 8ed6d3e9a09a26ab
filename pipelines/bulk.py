"""Sending batches to Elasticsearch and sorting every document's outcome.

``BulkSender.send(actions)`` writes ``(index, id, doc)`` actions with
``helpers.streaming_bulk`` and returns an :class:`Outcome` that puts each
action in exactly one of four lists:

- ``indexed``: acknowledged by Elasticsearch;
- ``unchanged``: a document with this id and the same ``content_hash`` is
  already in the index, so it is not rewritten (one ``mget`` of the batch's
  stored hashes before writing; painless upserts are not available everywhere,
  see docs/indexing.md);
- ``transient``: not taken for a reason that passes (unreachable, timeout,
  429/5xx after the retries, missing alias): spool and retry later;
- ``permanent``: rejected for what the document is (mapping conflict,
  malformed value): dead-letter with the reason.

Two retry layers, each with the same exponential backoff and ``max_retries``:
``streaming_bulk`` retries documents answered with 429, 502, 503 or 504
(``retry_on_status``); ``send`` retries the documents that got no answer at
all (connection refused, timeout). Bulk requests use ``require_alias`` so a
missing alias never auto-creates an index with a guessed mapping.

Documents of the docs alias go where its :class:`~pipelines.partition.DocsLayout`
places them (``INDEX_PARTITION``): the stored copies are looked up in every
index behind the alias; with ``year`` each document is written by name into its
year's index (created behind the alias first), and a copy left in another index
by a change of year is deleted once the new one is acknowledged (a second bulk
request, only for such moves: bulk requests are not atomic, so deleting in the
same request could lose the document from the index when its write fails).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch.helpers import streaming_bulk

from pipelines.elastic import describe_error
from pipelines.partition import DocsLayout, Placement, stored_hashes

logger = logging.getLogger(__name__)

Action = tuple[str, str, dict]  # (index or alias, _id, document)
TRANSIENT_STATUSES = frozenset({404, 408, 429, 500, 502, 503, 504})  # 404: alias missing until `banwave es setup`
RETRY_STATUSES = (429, 502, 503, 504)  # retried by streaming_bulk before they count as transient
MAX_ID_BYTES = 512  # Elasticsearch's limit for an _id; a longer one fails the whole bulk request


def action_problem(index: object, doc_id: object, doc: object) -> str | None:
    """Why ``(index, id, doc)`` cannot be sent as an index action, or None when it can.

    Checked before sending: Elasticsearch rejects a whole bulk request for one
    empty or over-long id, and a missing id would be replaced by a random one.
    """
    if not isinstance(index, str) or not index:
        return "no target index"
    if not isinstance(doc_id, str) or not doc_id:
        return "no document id" if doc_id in (None, "") else f"document id {doc_id!r} is not a string"
    if len(doc_id.encode("utf-8")) > MAX_ID_BYTES:
        return f"document id longer than {MAX_ID_BYTES} bytes"
    if not isinstance(doc, dict):
        return f"the document is a JSON {type(doc).__name__}, not an object"
    return None


@dataclass
class Outcome:
    indexed: list[Action] = field(default_factory=list)
    unchanged: list[Action] = field(default_factory=list)
    transient: list[tuple[Action, str]] = field(default_factory=list)
    permanent: list[tuple[Action, str]] = field(default_factory=list)


@dataclass
class BulkSender:
    client: Elasticsearch
    chunk_docs: int = 500
    chunk_bytes: int = 10 * 1024 * 1024
    max_retries: int = 3
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    skip_unchanged: bool = True
    layout: DocsLayout | None = None  # the docs alias's indices (INDEX_PARTITION); None: every index as given

    def send(self, actions: list[Action], retries: int | None = None) -> Outcome:
        """Write the actions; those without any answer are sent again ``retries`` times (default max_retries)."""
        retries = self.max_retries if retries is None else retries
        outcome = Outcome()
        unanswered = []
        for action in actions:
            problem = action_problem(*action)
            if problem:
                outcome.permanent.append((action, problem))
            else:
                unanswered.append((action, ""))
        for attempt in range(retries + 1):
            if attempt:
                delay = min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1))
                logger.info("retrying %s document(s) in %.1fs: %s", len(unanswered), delay, unanswered[0][1])
                time.sleep(delay)
            result, unanswered = self._attempt([action for action, _ in unanswered])
            outcome.indexed += result.indexed
            outcome.unchanged += result.unchanged
            outcome.permanent += result.permanent
            outcome.transient += result.transient
            if not unanswered:
                break
        outcome.transient += unanswered
        return outcome

    def _attempt(self, actions: list[Action]) -> tuple[Outcome, list[tuple[Action, str]]]:
        """One try: the outcome of every answered action, and the actions that got no answer."""
        outcome = Outcome()
        try:
            placed, problems = self._place(actions)
        except (ApiError, TransportError) as exc:
            return outcome, [(action, describe_error(exc)) for action in actions]
        outcome.permanent += problems
        moving: list[tuple[Action, Placement]] = []  # written or unchanged, with older copies still to delete
        to_write = []
        for action, placement in placed:
            if placement.write:
                to_write.append((action, placement))
            elif placement.stale:
                moving.append((action, placement))
            else:
                outcome.unchanged.append(action)
        unanswered: list[tuple[Action, str]] = []
        # Year indices are written by name (require_alias off), everything else through its alias.
        for require_alias in (True, False):
            group = [(action, placement) for action, placement in to_write
                     if (placement.target == action[0]) == require_alias]
            if group and not unanswered:
                unanswered = self._write(group, require_alias, outcome, moving)
            elif group:
                unanswered += [(action, unanswered[0][1]) for action, _ in group]
        if unanswered:  # a move whose delete was not sent is completed by the next attempt or the replay
            return outcome, unanswered + [(action, unanswered[0][1]) for action, _ in moving]
        return outcome, self._delete_stale(moving, outcome)

    def _place(self, actions: list[Action]) -> tuple[list[tuple[Action, Placement]], list[tuple[Action, str]]]:
        """Where each action goes, after looking up the stored copies; the ones that cannot go anywhere."""
        layout = self.layout
        docs = [action for action in actions if layout is not None and action[0] == layout.alias]
        others = [action for action in actions if layout is None or action[0] != layout.alias]
        hashed = [(index, doc_id) for index, doc_id, doc in others if doc.get("content_hash")]
        stored = stored_hashes(self.client, hashed, self.chunk_docs) if self.skip_unchanged else {}
        placed, problems = [], []
        for action in others:  # the action objects themselves: Delivery.replay matches them by identity
            index, doc_id, doc = action
            known = stored.get((index, doc_id))
            unchanged = known is not None and known == doc.get("content_hash")
            placed.append((action, Placement(index, not unchanged)))
        if docs:
            indices, write_index = layout.indices()
            look = layout.partition != "none" or self.skip_unchanged or len(indices) > 1
            copies = layout.stored_copies(indices, [doc_id for _, doc_id, _ in docs], self.chunk_docs) if look else {}
            for action in docs:
                try:
                    placed.append((action, layout.place(action[2], copies.get(action[1], {}), write_index,
                                                        self.skip_unchanged)))
                except ValueError as exc:
                    problems.append((action, str(exc)))
            for target in sorted({p.target for a, p in placed if p.write and p.target != a[0]} - set(indices)):
                layout.create(target)
        return placed, problems

    def _write(self, group: list[tuple[Action, Placement]], require_alias: bool, outcome: Outcome,
               moving: list[tuple[Action, Placement]]) -> list[tuple[Action, str]]:
        """Index the group's documents; an acknowledged one with older copies joins ``moving``.
        Returns the actions that got no answer."""
        pending: dict[str, list[tuple[Action, Placement]]] = {}
        for action, placement in group:
            pending.setdefault(action[1], []).append((action, placement))
        try:
            for ok, info in streaming_bulk(
                self.client, ({"_op_type": "index", "_index": p.target, "_id": d, "_source": doc}
                              for (_, d, doc), p in group),
                chunk_size=self.chunk_docs, max_chunk_bytes=self.chunk_bytes, raise_on_error=False,
                raise_on_exception=False, max_retries=self.max_retries, initial_backoff=self.initial_backoff,
                max_backoff=self.max_backoff, retry_on_status=RETRY_STATUSES, require_alias=require_alias,
            ):
                result = next(iter(info.values()))
                action, placement = pending[result["_id"]].pop(0)
                if ok and placement.stale:
                    moving.append((action, placement))
                elif ok:
                    outcome.indexed.append(action)
                else:
                    status, reason = _error(result)
                    target = outcome.transient if _is_transient(status) else outcome.permanent
                    target.append((action, f"{status} {reason}"))
                    if target is outcome.transient:  # permanent ones are logged where they are dead-lettered
                        logger.info("document %s not indexed yet: %s %s", action[1], status, reason)
        except (ApiError, TransportError) as exc:  # no answer (connection, timeout) for the rest of the batch
            reason = describe_error(exc)
            return [(action, reason) for left in pending.values() for action, _ in left]
        return []

    def _delete_stale(self, moving: list[tuple[Action, Placement]], outcome: Outcome) -> list[tuple[Action, str]]:
        """Delete the older copies of moved documents (their new copy is acknowledged); a document
        counts as indexed once all are gone. Returns the others, with the reason, to be tried again."""
        if not moving:
            return []
        pending: dict[tuple[str, str], list[int]] = {}
        for n, (action, placement) in enumerate(moving):
            for index in placement.stale:
                pending.setdefault((index, action[1]), []).append(n)
        deletes = [{"_op_type": "delete", "_index": index, "_id": doc_id}
                   for (index, doc_id), ns in pending.items() for _ in ns]
        failed: dict[int, str] = {}
        try:
            for ok, info in streaming_bulk(
                self.client, deletes, chunk_size=self.chunk_docs, raise_on_error=False, raise_on_exception=False,
                max_retries=self.max_retries, initial_backoff=self.initial_backoff, max_backoff=self.max_backoff,
                retry_on_status=RETRY_STATUSES,
            ):
                result = next(iter(info.values()))
                n = pending[(result["_index"], result["_id"])].pop(0)
                if not ok and result.get("status") != 404:  # 404: already gone
                    status, reason = _error(result)
                    failed[n] = f"older copy in {result['_index']} not deleted: {status} {reason}"
        except (ApiError, TransportError) as exc:  # no answer: those still pending are retried
            reason = describe_error(exc)
            for n in {n for ns in pending.values() for n in ns} - set(failed):
                failed[n] = reason
        unanswered = []
        for n, (action, _) in enumerate(moving):
            if n in failed:  # written, but not yet alone: retried, then spooled; the replay deletes the older copy
                unanswered.append((action, failed[n]))
            else:
                outcome.indexed.append(action)
        return unanswered


def _error(result: dict) -> tuple[object, str]:
    error = result.get("error")
    if isinstance(error, dict):
        reason = f"{error.get('type')}: {error.get('reason')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            reason += f" ({cause['reason']})"
        return result.get("status"), reason
    return result.get("status"), str(error)


def _is_transient(status: object) -> bool:
    return not isinstance(status, int) or status in TRANSIENT_STATUSES
