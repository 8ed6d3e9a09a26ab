"""One waves run, and the backtest: signals -> detector -> tracker -> records -> alerts.

``update`` is what the scheduler runs after each crawl and on its own
schedule, and what ``banwave waves update`` runs: it counts the last
WAVES_HISTORY_DAYS days, tracks every scope, writes the wave records, puts
the alerts of recent events in the outbox and delivers what is due.
``backtest`` replays a period without writing anything and says when each
wave would have been raised.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch

from config import Env
from waves import records as wave_records
from waves.alerts.config import AlertsConfig
from waves.alerts.outbox import Journal, Outbox, Sender, make_alerts
from waves.config import WavesConfig
from waves.signals import Signals, compute
from waves.tracker import Track, track

logger = logging.getLogger(__name__)

WARMUP_DAYS = 112  # history the negbin baseline needs before its first verdict (84-day weekday window + 28)


@dataclass
class UpdateResult:
    signals: Signals
    records: list[dict]
    written: int
    alerts_created: int = 0
    deliveries: dict = field(default_factory=dict)


def track_signals(signals: Signals, cfg: WavesConfig) -> list[Track]:
    """Every wave of every followed scope in ``signals``."""
    detector = cfg.make_detector()
    weekdays = signals.weekdays
    tracks = []
    for scope, counts in sorted(signals.series.items()):
        if scope.kind in cfg.scopes:
            tracks += track(scope, counts, detector.run(counts, weekdays), cfg.policy)
    return tracks


def today(cfg: WavesConfig, now: datetime) -> date:
    return now.astimezone(ZoneInfo(cfg.timezone)).date()


def update(client: Elasticsearch, env: Env, cfg: WavesConfig, alerts: AlertsConfig | None,
           now: datetime | None = None, deliver: bool = True) -> UpdateResult:
    """Track the waves of the last WAVES_HISTORY_DAYS days up to ``now``, store them, alert."""
    now = now or datetime.now(timezone.utc)
    until = today(cfg, now) + timedelta(days=1)
    since = until - timedelta(days=cfg.history_days)
    signals = compute(client, env.docs_alias, since, until, cfg.timezone, max_scopes=cfg.max_scopes,
                      hourly_days=cfg.hourly_days, now=now)
    tracks = track_signals(signals, cfg)
    existing = wave_records.stored_by_scope(client, env.waves_alias, since)
    records = wave_records.build_records(client, env.docs_alias, signals, tracks, cfg.detector, existing, now)
    written = wave_records.save(client, env.waves_alias, records)
    logger.info("waves: %d wave(s) in %d series over %s .. %s (%d open)", len(records), len(signals.series),
                since, until - timedelta(days=1), sum(r["status"] != "over" for r in records))
    result = UpdateResult(signals=signals, records=records, written=written)
    if alerts is None or not alerts.channels:
        return result
    not_before = datetime.combine(today(cfg, now) - timedelta(days=cfg.alert_max_age_days), datetime.min.time(),
                                  ZoneInfo(cfg.timezone))
    journal = Journal(env.data_dir / "alerts" / "journal.sqlite")
    try:
        outbox = Outbox(client, env.alerts_alias, journal, cfg.lease_seconds)
        result.alerts_created = outbox.enqueue(make_alerts(records, alerts, cfg.policy.escalation, not_before, now))
        if deliver:
            result.deliveries = dict(deliver_due(outbox, alerts, cfg, now))
    finally:
        journal.close()
    return result


def deliver_due(outbox: Outbox, alerts: AlertsConfig, cfg: WavesConfig, now: datetime | None = None):
    return Sender(outbox, alerts, cfg.alert_timeout, cfg.backoff_base, cfg.backoff_max).deliver_due(now)


@dataclass(frozen=True)
class Replayed:
    """A wave found by the backtest, with the days as dates."""

    track: Track
    onset: date
    raised: date
    peak: date
    peak_count: int
    last_active: date
    ended: date | None
    documents: int

    @property
    def delay(self) -> int:
        return (self.raised - self.onset).days


def backtest(client: Elasticsearch, env: Env, cfg: WavesConfig, since: date, until: date) -> list[Replayed]:
    """The waves raised between ``since`` and ``until`` (inclusive), as daily runs would have raised
    them; the history before ``since`` warms the baselines up. Nothing is written."""
    start = since - timedelta(days=WARMUP_DAYS)
    signals = compute(client, env.docs_alias, start, until + timedelta(days=1), cfg.timezone,
                      max_scopes=cfg.max_scopes)
    days = signals.days
    found = []
    for wave in track_signals(signals, cfg):
        if days[wave.raised] < since:
            continue
        counts = signals.series[wave.scope]
        end = wave.end(len(days))
        found.append(Replayed(track=wave, onset=days[wave.onset], raised=days[wave.raised], peak=days[wave.peak],
                              peak_count=int(counts[wave.peak]), last_active=days[wave.last_active],
                              ended=days[wave.ended] if wave.ended is not None else None,
                              documents=int(counts[wave.onset: end + 1].sum())))
    return sorted(found, key=lambda r: (r.raised, r.track.scope))
