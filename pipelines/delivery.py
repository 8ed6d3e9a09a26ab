"""Getting actions into Elasticsearch or, failing that, safely onto disk.

:class:`Delivery` joins a :class:`~pipelines.bulk.BulkSender` (None when no
Elasticsearch is configured) and the :class:`~pipelines.spool.Spool`:
``deliver`` sends a batch, spools what was not taken for a transient reason
and dead-letters what was rejected for good; every action ends up in exactly
one place before it returns. When a whole batch fails to reach Elasticsearch,
the backend counts as down: one WARNING says so with the count and the spool
path, and later batches go straight to the spool (no request, no backoff
waits) until ``pause`` seconds have passed, so a dead cluster never stalls
the crawl. ``replay`` sends the spool and removes only what was acknowledged;
unreadable spool lines are dead-lettered first (``Spool.quarantine``).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from pipelines.bulk import Action, BulkSender, Outcome
from pipelines.spool import Spool

logger = logging.getLogger(__name__)

NO_ELASTICSEARCH = "no Elasticsearch configured (BANWAVE_ES_URL is empty)"


@dataclass
class ReplayResult:
    sent: int = 0          # written by Elasticsearch
    unchanged: int = 0     # already there with the same content hash
    dead_lettered: int = 0
    unreadable: int = 0    # spool lines that were no valid action, moved to the dead letters
    left: int = 0          # still in the spool (Elasticsearch unreachable or a transient error)


class Delivery:
    def __init__(self, sender: BulkSender | None, spool: Spool, pause: float = 30.0):
        self.sender = sender
        self.spool = spool
        self.pause = pause
        self._down_until = 0.0   # monotonic time until which batches skip Elasticsearch
        self._down = False

    def deliver(self, actions: list[Action]) -> Outcome:
        """Index, spool or dead-letter every action; raises only if the disk itself fails."""
        if self.sender is None:
            return self._spool_all(actions, NO_ELASTICSEARCH)
        if self._down and time.monotonic() < self._down_until:
            return self._spool_all(actions, "Elasticsearch was unreachable moments ago")
        outcome = self.sender.send(actions, retries=0 if self._down else None)
        self._file(outcome)
        reached = outcome.indexed or outcome.unchanged or outcome.permanent
        if outcome.transient and not reached:
            self.mark_down(outcome.transient[0][1], len(outcome.transient))
        elif self._down:
            self._down = False
            logger.info("Elasticsearch answers again; indexing resumed")
        return outcome

    def mark_down(self, reason: str, spooled: int = 0) -> None:
        """Spool without trying for ``pause`` seconds; the first time, say so in one WARNING."""
        if not self._down:
            logger.warning("Elasticsearch is not taking documents (%s): %s spooled to %s; the crawl goes on and "
                           "spools until it answers again; `banwave index replay` sends the spool", reason,
                           f"{spooled} document(s)" if spooled else "documents are", self.spool.path)
        self._down, self._down_until = True, time.monotonic() + self.pause

    def _spool_all(self, actions: list[Action], reason: str) -> Outcome:
        outcome = Outcome(transient=[(action, reason) for action in actions])
        self.spool.append(actions, reason)
        return outcome

    def _file(self, outcome: Outcome) -> None:
        if outcome.transient:
            self.spool.append([action for action, _ in outcome.transient], outcome.transient[0][1])
        if outcome.permanent:
            self.spool.dead_letter([(*action, reason) for action, reason in outcome.permanent])
            for (_, doc_id, _), reason in outcome.permanent:
                logger.error("document %s rejected by Elasticsearch, dead-lettered in %s: %s",
                             doc_id, self.spool.dead_letter_path, reason)

    def replay(self, batch_size: int = 500) -> ReplayResult:
        """Send the spool in batches; remove acknowledged and dead-lettered lines after each batch.

        Unreadable lines go to the dead letters first, so they never block the good ones.
        """
        result = ReplayResult(unreadable=self.spool.quarantine())
        spooled = self.spool.read()
        if self.sender is None or not spooled:
            result.left = len(spooled)
            return result
        for start in range(0, len(spooled), batch_size):
            batch = spooled[start:start + batch_size]
            actions = [(s.index, s.id, s.doc) for s in batch]
            line_of = {id(action): s for action, s in zip(actions, batch)}
            outcome = self.sender.send(actions)
            if outcome.permanent:
                self.spool.dead_letter([(*action, reason) for action, reason in outcome.permanent])
            done = [line_of[id(a)] for a in outcome.indexed + outcome.unchanged]
            done += [line_of[id(a)] for a, _ in outcome.permanent]
            self.spool.remove(done)
            result.sent += len(outcome.indexed)
            result.unchanged += len(outcome.unchanged)
            result.dead_lettered += len(outcome.permanent)
            result.left += len(outcome.transient)
            if outcome.transient and not (outcome.indexed or outcome.unchanged or outcome.permanent):
                result.left += len(spooled) - start - len(batch)  # unreachable: keep the rest for next time
                logger.warning("replay stopped, Elasticsearch is not taking documents (%s); %s line(s) stay in %s",
                               outcome.transient[0][1], result.left, self.spool.path)
                break
        return result
