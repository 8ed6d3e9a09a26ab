"""Synthetic document-count histories: the test bed of the detectors (bench/bench_waves.py).

A history is a daily count series drawn as negative binomial counts around a
baseline with a weekday profile (sellers and editors post less at weekends),
plus background chatter (a short-lived discussion that adds a few documents
on one day, the kind of noise that must not raise a wave), plus injected
waves of a chosen size, shape and onset whose extra documents are added on
top. Everything comes from one ``numpy.random.Generator``, so a seed fixes
a history.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

# Relative volume Monday..Sunday (normalised to mean 1 below): forum and news
# output dips at weekends.
WEEKDAY_PROFILE = (1.15, 1.15, 1.1, 1.1, 1.05, 0.75, 0.7)
SHAPES = ("step", "ramp")


@dataclass(frozen=True)
class InjectedWave:
    """A wave added to a history: ``size`` is its peak daily volume as a multiple of the baseline.

    ``step`` waves are at their peak from the onset day on; ``ramp`` waves rise
    linearly and reach the peak on the third day. Both then decay with a half-life
    of ``half_life`` days; ``days`` is how long the excess lasts.
    """

    onset: int
    size: float
    shape: str = "step"
    days: int = 21
    half_life: float = 5.0

    def excess(self, baseline: float) -> np.ndarray:
        """Expected extra documents per day from the onset on (length ``days``)."""
        peak = (self.size - 1.0) * baseline
        t = np.arange(self.days, dtype=float)
        if self.shape == "step":
            rise = np.ones_like(t)
            top = 0
        elif self.shape == "ramp":
            rise = np.minimum((t + 1) / 3.0, 1.0)
            top = 2
        else:
            raise ValueError(f"unknown wave shape {self.shape!r} (use {', '.join(SHAPES)})")
        decay = np.where(t > top, 0.5 ** ((t - top) / self.half_life), 1.0)
        return peak * rise * decay


@dataclass(frozen=True)
class History:
    """A generated series: counts per day, the weekday of each day, and the waves it holds."""

    counts: np.ndarray
    weekdays: np.ndarray
    waves: tuple[InjectedWave, ...]
    start: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(len(self.counts))]


def generate(rng: np.random.Generator, days: int, baseline: float, *, waves: tuple[InjectedWave, ...] = (),
             dispersion: float = 0.1, chatter_rate: float = 0.03, chatter_size: float = 2.0,
             start: date = date(2021, 1, 4)) -> History:
    """Draw a history of ``days`` days around ``baseline`` documents per day.

    ``dispersion`` is the background's negative binomial 1/size (variance = mu +
    dispersion * mu^2; 0 gives Poisson counts); a wave's documents are Poisson around
    its curve, on top; ``chatter_rate`` is the chance per day of a burst of
    1 + Poisson(``chatter_size``) extra documents.
    """
    profile = np.asarray(WEEKDAY_PROFILE) / np.mean(WEEKDAY_PROFILE)
    weekdays = (start.weekday() + np.arange(days)) % 7
    mu = baseline * profile[weekdays]
    if dispersion > 0:
        # Gamma-Poisson mixture = negative binomial with mean mu and variance mu + dispersion * mu^2
        mu = rng.gamma(1.0 / dispersion, mu * dispersion)
    for wave in waves:  # a wave's own documents come on top, Poisson around its curve
        extra = wave.excess(baseline)[: max(0, days - wave.onset)]
        mu[wave.onset: wave.onset + len(extra)] += extra
    counts = rng.poisson(mu)
    chatter = rng.random(days) < chatter_rate
    counts = counts + chatter * (1 + rng.poisson(chatter_size, days))
    return History(counts=counts.astype(np.int64), weekdays=weekdays, waves=tuple(waves), start=start)
