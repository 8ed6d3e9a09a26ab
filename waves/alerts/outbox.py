"""The alert outbox and its sender: at-least-once delivery with an idempotency key.

Each wave event a channel wants becomes one document in ``<prefix>-alerts``
whose ``_id`` is the idempotency key, sha1(wave id, event, level, channel):
a rerun over the same history creates nothing new (``create`` answers 409).
A document goes ``pending`` -> ``sending`` (claimed with optimistic
concurrency, so two senders never both take it; the claim is a lease of
ALERTS_LEASE_SECONDS) -> ``delivered``, or back to ``pending`` with the next
attempt ALERTS_BACKOFF_BASE x 2^(attempts-1) seconds later (at most
ALERTS_BACKOFF_MAX; never given up), or ``failed`` when the receiver refused
it for good (HTTP 4xx but 408/429, a refused SMTP login). When Elasticsearch
cannot take a write, the document goes to a SQLite journal in the data
directory (``alerts/journal.sqlite``), written back at the next run; a down
channel's remaining alerts wait for the next run, the other channels go on.

What is guaranteed: every alert recorded is delivered at least once, however
often the sender, a channel or Elasticsearch fails. A sender that dies after
a receiver accepted an alert but before ``delivered`` was recorded sends it
again when the lease runs out, with the same key (``Idempotency-Key`` header,
``idempotency_key`` in the webhook JSON, the email's Message-ID): a receiver
that honours the key shows it once; the group bots, which do not, show it twice.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import streaming_bulk

from pipelines.sqlite import open_store
from waves.alerts import channels
from waves.alerts.config import AlertsConfig
from waves.alerts.messages import Message, compose

logger = logging.getLogger(__name__)

PENDING, SENDING, DELIVERED, FAILED = "pending", "sending", "delivered", "failed"
WAVE_SUMMARY = ("wave_id", "scope_kind", "scope", "status", "onset", "raised_on", "peak_day", "peak_count",
                "documents", "news", "forum", "stories", "threads", "sellers_count", "sellers_hit", "losses",
                "max_loss_cny", "keywords", "stories_top", "first_report", "last_report", "baseline")
ES_DOWN = (TransportError,)


def alert_id(wave_id: str, event: str, level: int, channel: str) -> str:
    return hashlib.sha1(f"{wave_id}\x1f{event}\x1f{level}\x1f{channel}".encode()).hexdigest()


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def make_alerts(records: list[dict], alerts: AlertsConfig, escalation: tuple[int, ...], not_before: datetime,
                now: datetime) -> list[dict]:
    """Outbox documents for the events of ``records`` on or after ``not_before`` that a channel wants."""
    made = []
    for record in records:
        for event in record["events"]:
            if datetime.fromisoformat(event["day"]) < not_before:
                continue  # an old event (a first run over history): recorded in the wave, not sent
            for channel in alerts.channels:
                if (event["event"] not in channel.events or record["scope_kind"] not in channel.scopes
                        or record["documents"] < channel.min_documents):
                    continue
                key = alert_id(record["wave_id"], event["event"], event["level"], channel.name)
                message = compose(event["event"], event["level"], record, channel.lang, alerts.kibana_url, escalation)
                payload = {"idempotency_key": key, "event": event["event"], "level": event["level"],
                           "event_day": event["day"], "lang": channel.lang, "subject": message.subject,
                           "text": message.text, "link": message.link,
                           "wave": {k: record.get(k) for k in WAVE_SUMMARY}}
                made.append({
                    "alert_id": key, "wave_id": record["wave_id"], "event": event["event"], "level": event["level"],
                    "event_day": event["day"], "scope_kind": record["scope_kind"], "scope": record["scope"],
                    "channel": channel.name, "channel_type": channel.type, "lang": channel.lang,
                    "status": PENDING, "attempts": 0, "created_at": iso(now), "next_attempt_at": iso(now),
                    "lease_until": None, "delivered_at": None, "last_error": None,
                    "subject": message.subject, "text": message.text, "message": payload})
    return made


class Journal:
    """Alert documents Elasticsearch could not take, kept on disk until it can."""

    def __init__(self, path: Path):
        self.db = open_store(path, "CREATE TABLE IF NOT EXISTS alerts (alert_id TEXT PRIMARY KEY, doc TEXT NOT NULL);")

    def put(self, doc: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO alerts VALUES (?, ?)", (doc["alert_id"], json.dumps(doc)))

    def docs(self) -> list[dict]:
        return [json.loads(row[0]) for row in self.db.execute("SELECT doc FROM alerts ORDER BY rowid")]

    def drop(self, alert_id_: str) -> None:
        self.db.execute("DELETE FROM alerts WHERE alert_id = ?", (alert_id_,))

    def close(self) -> None:
        self.db.close()


class Outbox:
    """Alert documents in ``<prefix>-alerts``, with the journal for when Elasticsearch is down."""

    def __init__(self, client: Elasticsearch, alias: str, journal: Journal, lease_seconds: float):
        self.client, self.alias, self.journal, self.lease = client, alias, journal, lease_seconds

    def enqueue(self, alerts: list[dict]) -> int:
        """Create the alerts that do not exist yet; the number created (journalled ones included)."""
        if not alerts:
            return 0
        actions = ({"_op_type": "create", "_index": self.alias, "_id": a["alert_id"], "_source": a} for a in alerts)
        created, by_id = 0, {a["alert_id"]: a for a in alerts}
        try:
            for ok, item in streaming_bulk(self.client, actions, raise_on_error=False, max_retries=2):
                result = item["create"]
                if ok:
                    created += 1
                    by_id.pop(result["_id"])
                elif result.get("status") == 409:
                    by_id.pop(result["_id"])  # recorded by an earlier run: the same alert, nothing new
            if by_id:
                logger.error("alerts: %d not accepted by %s; kept in the journal", len(by_id), self.alias)
            self.client.indices.refresh(index=self.alias)
        except ES_DOWN as exc:
            logger.warning("alerts: Elasticsearch unreachable (%s); %d alert(s) kept in the journal",
                           type(exc).__name__, len(by_id))
        for doc in by_id.values():
            self.journal.put(doc)
            created += 1
        return created

    def sync_journal(self) -> None:
        """Write journalled documents back to Elasticsearch (never turning a delivered one back)."""
        for doc in self.journal.docs():
            try:
                current = self.client.get(index=self.alias, id=doc["alert_id"])["_source"]
            except NotFoundError:
                current = None
            except ES_DOWN:
                return
            if not (current and current["status"] in (DELIVERED, FAILED) and doc["status"] not in (DELIVERED, FAILED)):
                try:
                    self.client.index(index=self.alias, id=doc["alert_id"], document=doc, refresh=True)
                except ES_DOWN:
                    return
            self.journal.drop(doc["alert_id"])

    def due(self, now: datetime) -> list[tuple[dict, int | None, int | None]]:
        """(document, seq_no, primary_term) of the alerts to send now, oldest first; journal-only ones
        (Elasticsearch down) have no seq_no."""
        query = {"bool": {"should": [
            {"bool": {"filter": [{"term": {"status": PENDING}}, {"range": {"next_attempt_at": {"lte": iso(now)}}}]}},
            {"bool": {"filter": [{"term": {"status": SENDING}}, {"range": {"lease_until": {"lte": iso(now)}}}]}}],
            "minimum_should_match": 1}}
        due = []
        try:
            response = self.client.search(index=self.alias, query=query, size=500, seq_no_primary_term=True,
                                          sort=[{"created_at": "asc"}])
            due = [(hit["_source"], hit["_seq_no"], hit["_primary_term"]) for hit in response["hits"]["hits"]]
        except NotFoundError:
            pass
        except ES_DOWN:
            logger.warning("alerts: Elasticsearch unreachable; sending from the journal only")
        known = {doc["alert_id"] for doc, _, _ in due}
        for doc in self.journal.docs():
            moment = doc["next_attempt_at"] if doc["status"] == PENDING else doc.get("lease_until")
            if doc["alert_id"] not in known and doc["status"] in (PENDING, SENDING) and moment and moment <= iso(now):
                due.append((doc, None, None))
        return due

    def claim(self, doc: dict, seq_no: int | None, primary_term: int | None, now: datetime) -> bool:
        """Mark ``doc`` as being sent by this sender (a lease, and the attempt counted); False if another
        sender took it."""
        doc.update(status=SENDING, lease_until=iso(now + timedelta(seconds=self.lease)),
                   attempts=doc.get("attempts", 0) + 1)
        if seq_no is None:
            self.journal.put(doc)
            return True
        try:
            self.client.update(index=self.alias, id=doc["alert_id"], if_seq_no=seq_no, if_primary_term=primary_term,
                               doc={"status": SENDING, "lease_until": doc["lease_until"], "attempts": doc["attempts"]})
        except ConflictError:
            return False
        except ES_DOWN:
            self.journal.put(doc)
        return True

    def record(self, doc: dict) -> None:
        """Store the outcome of an attempt (Elasticsearch, else the journal)."""
        try:
            self.client.index(index=self.alias, id=doc["alert_id"], document=doc, refresh=True)
        except (ES_DOWN + (ApiError,)) as exc:
            logger.warning("alerts: cannot record %s in %s (%s); kept in the journal", doc["alert_id"], self.alias,
                           type(exc).__name__)
            self.journal.put(doc)


class Sender:
    """Delivers the due alerts of an outbox to their channels."""

    def __init__(self, outbox: Outbox, alerts: AlertsConfig, timeout: float, backoff_base: float,
                 backoff_max: float, send: Callable = channels.send):
        self.outbox, self.alerts, self.timeout = outbox, alerts, timeout
        self.backoff_base, self.backoff_max, self.send = backoff_base, backoff_max, send

    def backoff(self, attempts: int) -> float:
        return min(self.backoff_base * 2 ** max(attempts - 1, 0), self.backoff_max)

    def deliver_due(self, now: datetime | None = None) -> Counter:
        """One pass over the due alerts; counts of delivered, retry, failed, skipped."""
        now = now or datetime.now(timezone.utc)
        outcome: Counter = Counter()
        self.outbox.sync_journal()
        down: set[str] = set()
        for doc, seq_no, primary_term in self.outbox.due(now):
            channel = self.alerts.channel(doc["channel"])
            if channel is None or doc["channel"] in down:
                outcome["skipped"] += 1  # channel gone from the alerts file, or down this pass: stays due
                continue
            if not self.outbox.claim(doc, seq_no, primary_term, now):
                continue
            try:
                self.send(channel, self.alerts.secrets[channel.name], _message(doc), doc["alert_id"], doc["message"],
                          self.timeout)
            except channels.DeliveryError as exc:
                doc["last_error"] = str(exc)
                if exc.permanent:
                    doc.update(status=FAILED, lease_until=None)
                    logger.error("alert %s to %s refused for good: %s", doc["alert_id"][:12], channel.name, exc)
                    outcome["failed"] += 1
                else:
                    wait = self.backoff(doc["attempts"])
                    doc.update(status=PENDING, lease_until=None, next_attempt_at=iso(now + timedelta(seconds=wait)))
                    logger.warning("alert %s to %s: %s; retry in %.0fs (attempt %d)", doc["alert_id"][:12],
                                   channel.name, exc, wait, doc["attempts"])
                    down.add(channel.name)
                    outcome["retry"] += 1
            else:
                doc.update(status=DELIVERED, lease_until=None, last_error=None,
                           delivered_at=iso(datetime.now(timezone.utc)))
                logger.info("alert %s delivered to %s (%s %s)", doc["alert_id"][:12], channel.name, doc["event"],
                            doc["scope"])
                outcome["delivered"] += 1
            self.outbox.record(doc)
        return outcome


def _message(doc: dict) -> Message:
    return Message(subject=doc["subject"], text=doc["text"], link=doc["message"].get("link"))
