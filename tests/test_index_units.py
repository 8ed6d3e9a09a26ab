"""BulkSender's retry loop and run records, without a server (the integration tests use a real one)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipelines.bulk import BulkSender, Outcome
from pipelines.runs import build_record, run_status


class FlakySender(BulkSender):
    """A BulkSender whose first ``failures`` attempts get an answer for one document only."""

    def __init__(self, failures: int):
        super().__init__(client=None, max_retries=2, initial_backoff=0)
        self.failures, self.attempts = failures, []

    def _attempt(self, actions):
        self.attempts.append([a[1] for a in actions])
        if len(self.attempts) <= self.failures:
            return Outcome(indexed=actions[:1]), [(a, "cannot reach Elasticsearch") for a in actions[1:]]
        return Outcome(indexed=list(actions)), []


ACTIONS = [("t-docs", f"d{i}", {"id": f"d{i}"}) for i in range(3)]


def test_retries_only_what_failed_and_reports_each_document_once():
    sender = FlakySender(failures=1)
    outcome = sender.send(ACTIONS)
    assert sender.attempts == [["d0", "d1", "d2"], ["d1", "d2"]]
    assert [a[1] for a in outcome.indexed] == ["d0", "d1", "d2"]
    assert outcome.transient == [] and outcome.permanent == [] and outcome.unchanged == []


def test_gives_up_after_max_retries():
    sender = FlakySender(failures=10)
    outcome = sender.send(ACTIONS)
    assert sender.attempts == [["d0", "d1", "d2"], ["d1", "d2"], ["d2"]]  # the first attempt and max_retries=2
    assert [a[1] for a in outcome.indexed] == ["d0", "d1", "d2"]
    outcome = FlakySender(failures=10).send(ACTIONS, retries=0)
    assert [a[1] for a in outcome.indexed] == ["d0"]
    assert outcome.transient == [(ACTIONS[1], "cannot reach Elasticsearch"), (ACTIONS[2], "cannot reach Elasticsearch")]


def test_run_record_from_stats():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    stats = {"banwave/pages/article": 20, "banwave/pages/thread": 2, "item_scraped_count": 30,
             "item_dropped_count": 1, "banwave/errors": 3, "banwave/errors/http_500": 2, "banwave/errors/timeout": 1,
             "index/indexed": 25, "index/spooled": 5, "response_received_count": 25}
    record = build_record(stats, "cn-news", "news", "finished", start, start + timedelta(seconds=90), "r1")
    assert record["pages"] == 22 and record["items"] == 30 and record["dropped"] == 1
    assert record["errors"] == {"http_500": 2, "timeout": 1} and record["error_kinds"] == ["http_500", "timeout"]
    assert record["errors_total"] == 3 and record["duration_s"] == 90
    assert (record["indexed"], record["spooled"], record["unchanged"], record["dead_lettered"]) == (25, 5, 0, 0)
    assert record["status"] == "partial"


def test_run_status():
    assert run_status({"response_received_count": 5}, "finished") == "ok"
    assert run_status({"response_received_count": 5, "banwave/errors": 1}, "finished") == "partial"
    assert run_status({"banwave/errors": 2}, "finished") == "failed"             # the site never answered
    assert run_status({"response_received_count": 5}, "shutdown") == "killed"    # stopped by a signal
    assert run_status({"response_received_count": 5}, "cancelled") == "failed"   # closed for another reason
    assert run_status({"response_received_count": 5, "index/lost_batches": 1}, "finished") == "failed"
    assert run_status({"response_received_count": 5}, "closespider_pagecount") == "ok"


def test_actions_elasticsearch_would_refuse_as_a_batch_are_permanent_and_never_sent():
    sender = FlakySender(failures=0)
    bad = [("t-docs", "", {"id": ""}), ("t-docs", "x" * 513, {}), ("t-docs", 7, {}), ("t-docs", "d9", "text"),
           ("", "d8", {})]
    outcome = sender.send([*bad, ACTIONS[0]])
    assert [a for a, _ in outcome.permanent] == bad
    assert [reason for _, reason in outcome.permanent] == [
        "no document id", "document id longer than 512 bytes", "document id 7 is not a string",
        "the document is a JSON str, not an object", "no target index"]
    assert sender.attempts == [["d0"]] and outcome.indexed == [ACTIONS[0]]
