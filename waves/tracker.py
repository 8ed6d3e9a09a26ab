"""Waves from alarms: a small state machine per scope over its daily series.

A wave opens on a detector alarm (status ``emerging``). Its onset is the
first day of the run of above-baseline days that ends at the alarm (at most
``onset_lookback`` days back): the first reports usually come a day or two
before they are many enough to be significant. The baseline is frozen at the
alarm, so the wave's own documents do not raise it. Then, day by day:

- another alarm day confirms it: ``active`` (also from ``subsiding``);
- an active wave whose last three days average less than ``subside_ratio``
  times the three days around its peak is ``subsiding``;
- ``quiet_days`` days in a row without an elevated day (a count in the upper
  5 % of the frozen baseline's Poisson distribution) end it: ``over``;
- its cumulative documents passing a level of ``escalation`` is an
  ``escalated`` event (levels reached on the day it was raised are part of
  the ``emerging`` news, not a separate event).

Every step uses only the days up to the current one, so tracking a history
replays what daily runs would have seen (``banwave waves backtest``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from waves.detectors import Detection
from waves.signals import Scope

STATUSES = ("emerging", "active", "subsiding", "over")
EVENTS = ("emerging", "active", "subsiding", "escalated", "over")


@dataclass(frozen=True)
class Policy:
    """How waves are followed (the WAVES_* settings)."""

    quiet_days: int = 14
    subside_ratio: float = 0.5
    onset_lookback: int = 7
    escalation: tuple[int, ...] = (25, 100, 500)


@dataclass(frozen=True)
class Event:
    """A status change or an escalation on day index ``day`` (``level``: escalation level, 1-based)."""

    event: str
    day: int
    level: int = 0


@dataclass
class Track:
    """One wave of one scope, as day indexes into the series it was tracked on."""

    scope: Scope
    onset: int
    raised: int
    baseline: float
    status: str = "emerging"
    peak: int = -1
    last_active: int = -1
    ended: int | None = None
    level: int = 0
    events: list[Event] = field(default_factory=list)

    def end(self, n_days: int) -> int:
        """Last day index that belongs to the wave (inclusive)."""
        return self.last_active if self.ended is not None else n_days - 1


def elevated_threshold(baseline: float) -> float:
    """Smallest count in the upper 5 % of Poisson(baseline): a day at least this high is still wave activity."""
    return float(stats.poisson.isf(0.05, max(baseline, 1e-9)) + 1)


def _mean3(counts: np.ndarray, t: int) -> float:
    return float(counts[max(0, t - 2): t + 1].mean())


def track(scope: Scope, counts: np.ndarray, detection: Detection, policy: Policy) -> list[Track]:
    """The waves of one series, in order; the last one may still be open (status not ``over``)."""
    counts = np.asarray(counts)
    tracks: list[Track] = []
    current: Track | None = None
    previous_end = -1
    for t in range(len(counts)):
        alarm = bool(detection.alarm[t])
        if current is None:
            if alarm:
                current = _open(scope, counts, detection, t, previous_end, policy)
            continue
        if counts[t] > counts[current.peak]:
            current.peak = t
        if alarm or counts[t] >= elevated_threshold(current.baseline):
            current.last_active = t
        if alarm and current.status in ("emerging", "subsiding"):
            current.status = "active"
            current.events.append(Event("active", t))
        elif (not alarm and current.status == "active"
              and _mean3(counts, t) < policy.subside_ratio * _mean3(counts, min(current.peak + 1, t))):
            current.status = "subsiding"
            current.events.append(Event("subsiding", t))
        level = _level(int(counts[current.onset: t + 1].sum()), policy.escalation)
        if level > current.level:
            current.level = level
            current.events.append(Event("escalated", t, level))
        if t - current.last_active >= policy.quiet_days:
            current.status, current.ended = "over", t
            current.events.append(Event("over", t))
            tracks.append(current)
            previous_end, current = current.last_active, None
    if current is not None:
        tracks.append(current)
    return tracks


def _open(scope: Scope, counts: np.ndarray, detection: Detection, t: int, previous_end: int,
          policy: Policy) -> Track:
    baseline = float(detection.expected[t]) if np.isfinite(detection.expected[t]) else 0.0
    onset = t
    while (onset - 1 > previous_end and t - (onset - 1) <= policy.onset_lookback
           and np.isfinite(detection.expected[onset - 1]) and counts[onset - 1] > detection.expected[onset - 1]):
        onset -= 1
    wave = Track(scope=scope, onset=onset, raised=t, baseline=baseline, peak=t, last_active=t)
    wave.peak = onset + int(np.argmax(counts[onset: t + 1]))
    wave.level = _level(int(counts[onset: t + 1].sum()), policy.escalation)
    wave.events.append(Event("emerging", t, wave.level))
    return wave


def _level(documents: int, levels: tuple[int, ...]) -> int:
    return sum(documents >= level for level in levels)
