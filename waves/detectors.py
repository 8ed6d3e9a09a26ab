"""Outbreak detectors for daily document counts, after the algorithms of public-health surveillance.

Each detector looks at a whole daily series but is *online*: its verdict on
day t uses only the counts of days up to t, so running it over a history
gives exactly the alarms a daily run would have raised (``banwave waves
backtest`` relies on that). ``run(counts, weekdays)`` returns a
:class:`Detection` with the expected count, the alarm threshold and the
alarm of every day.

Implemented (bench/bench_waves.py measures them side by side; docs/waves.md
has the figures and the reasons for the default):

- ``fixed``: a fixed count threshold, the naive reference.
- ``ears-c1``/``-c2``/``-c3``: CDC's Early Aberration Reporting System
  (Hutwagner et al., J Urban Health 80 (2003) i89-96; definitions as in
  Fricker, Hegler & Dunfee, Stat Med 27 (2008) 3407-29): a 7-day moving mean
  and standard deviation, C2 with a 2-day lag, C3 summing the last three C2
  excesses.
- ``cusum``: a Poisson likelihood-ratio CUSUM (Lucas, Technometrics 27 (1985)
  129-44) against the robust baseline below, tuned to detect a tripling.
- ``negbin``: a negative binomial tail test of today's count (and of the last
  two days together) against a robust rolling baseline with a weekday effect,
  in the spirit of the improved Farrington method (Noufaily et al., Stat Med
  32 (2013) 1206-22): negative binomial counts, past outbreaks damped in the
  baseline (winsorised here), a guard band between baseline and today.

Every detector but ``fixed`` also requires ``min_count`` documents on the
day: a seller with no history must not raise a wave on one post.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats


@dataclass(frozen=True)
class Detection:
    """Per day: expected count (nan before enough history), alarm threshold (count from which it
    alarms), and the alarm."""

    expected: np.ndarray
    upper: np.ndarray
    alarm: np.ndarray


def _windows(values: np.ndarray, width: int, end_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """For each day t, the ``width`` values ending ``end_lag`` days before t (rows), and a mask of
    the days that have such a full window."""
    n = len(values)
    rows = np.full((n, width), np.nan)
    first = width + end_lag
    if n > first - 1:
        view = sliding_window_view(values.astype(float), width)  # view[i] = values[i:i+width]
        rows[first:] = view[: n - first]
    valid = np.arange(n) >= first
    return rows, valid


def _gate(alarm: np.ndarray, counts: np.ndarray, min_count: int) -> np.ndarray:
    return alarm & (counts >= min_count)


class FixedThreshold:
    """Alarm on every day with at least ``threshold`` documents: what a hand-set Kibana alert does."""

    name = "fixed"

    def __init__(self, threshold: int = 5):
        self.threshold = threshold

    def run(self, counts: np.ndarray, weekdays: np.ndarray) -> Detection:
        upper = np.full(len(counts), float(self.threshold))
        return Detection(np.full(len(counts), np.nan), upper, counts >= self.threshold)


class EarsC:
    """CDC EARS C1 (baseline the 7 days before t), C2 (the 7 days ending 3 days before t),
    C3 (sum over t-2..t of max(0, C2 statistic - 1), alarm above 2).

    The standard deviation is floored at ``min_sigma`` (an all-zero baseline would
    otherwise make any document infinitely surprising).
    """

    def __init__(self, method: str = "C1", baseline: int = 7, k: float = 3.0, min_sigma: float = 0.5,
                 min_count: int = 3):
        if method not in ("C1", "C2", "C3"):
            raise ValueError(f"EARS method must be C1, C2 or C3, not {method!r}")
        self.method, self.baseline, self.k, self.min_sigma, self.min_count = method, baseline, k, min_sigma, min_count
        self.name = f"ears-{method.lower()}"

    def run(self, counts: np.ndarray, weekdays: np.ndarray) -> Detection:
        counts = np.asarray(counts)
        lag = 0 if self.method == "C1" else 2
        rows, valid = _windows(counts, self.baseline, lag)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # rows before the baseline is full are all nan
            mean = np.nanmean(rows, axis=1) if valid.any() else np.full(len(counts), np.nan)
            sigma = np.maximum(np.nanstd(rows, axis=1, ddof=1), self.min_sigma) if valid.any() else mean
        mean, sigma = np.where(valid, mean, np.nan), np.where(valid, sigma, np.nan)
        statistic = (counts - mean) / sigma
        if self.method == "C3":
            excess = np.nan_to_num(np.maximum(statistic - 1.0, 0.0))
            c3 = excess + np.concatenate([[0], excess[:-1]]) + np.concatenate([[0, 0], excess[:-2]])
            valid = valid & (np.arange(len(counts)) >= self.baseline + 4)
            alarm = valid & (c3 > 2.0)
            # today's count at which C3 would pass 2, given the two previous days
            upper = mean + sigma * (1.0 + np.maximum(2.0 - (c3 - excess), 0.0))
        else:
            alarm = valid & (statistic > self.k)
            upper = mean + self.k * sigma
        return Detection(mean, np.where(valid, upper, np.nan), _gate(alarm, counts, self.min_count))


@dataclass(frozen=True)
class Baseline:
    """The robust rolling baseline shared by ``negbin`` and ``cusum``: expected count per day and
    the negative binomial dispersion (variance = mu + dispersion * mu^2)."""

    expected: np.ndarray
    dispersion: np.ndarray
    valid: np.ndarray


def robust_baseline(counts: np.ndarray, weekdays: np.ndarray, *, days: int = 28, guard: int = 1,
                    weekday_days: int = 84, dispersion_days: int = 84, shrink: float = 4.0, floor: float = 0.2,
                    max_dispersion: float = 1.0, min_history: int = 14) -> Baseline:
    """Level of the ``days`` days ending ``guard`` days before t, times a weekday factor.

    Weekday factors come from up to ``weekday_days`` days, shrunk towards 1 by
    ``shrink`` pseudo-days at the overall mean (a few weeks of sparse counts say
    little about weekdays). The level is the mean of the deseasonalised counts
    winsorised at median + 3 sqrt(max(median, 1)), so a past wave or a chatty day
    inside the window barely lifts it. The expected count never drops below
    ``floor``. Days with fewer than ``min_history`` days of history are not valid.
    """
    counts = np.asarray(counts, dtype=float)
    n = len(counts)
    # weekday sums over the trailing weekday window (ending guard days before t)
    onehot = np.zeros((n + 1, 7))
    onehot[1:][np.arange(n), weekdays] = counts
    days_onehot = np.zeros((n + 1, 7))
    days_onehot[1:][np.arange(n), weekdays] = 1.0
    csum, cdays = np.cumsum(onehot, axis=0), np.cumsum(days_onehot, axis=0)
    end = np.clip(np.arange(n) - guard, 0, n)          # exclusive end index of the history used for t
    start = np.clip(end - weekday_days, 0, n)
    sums, ndays = csum[end] - csum[start], cdays[end] - cdays[start]
    overall = sums.sum(axis=1) / np.maximum(ndays.sum(axis=1), 1.0)
    factors = (sums + shrink * overall[:, None]) / np.maximum((ndays + shrink) * overall[:, None], 1e-12)
    factors = np.where(overall[:, None] > 0, factors, 1.0)
    factors = factors / factors.mean(axis=1, keepdims=True)

    # the span before the guard band, deseasonalised with day t's factors
    span = max(days, dispersion_days)
    padded = np.concatenate([np.full(span, np.nan), counts])
    padded_wd = np.concatenate([np.zeros(span, dtype=int), weekdays])
    idx = end[:, None] + np.arange(span)[None, :]       # padded[end + j] = counts[end - span + j]
    deseason = padded[idx] / np.take_along_axis(factors, padded_wd[idx], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nan rows before the history starts
        recent = deseason[:, -days:]
        median = np.nanmedian(recent, axis=1)
        mad = 1.4826 * np.nanmedian(np.abs(recent - median[:, None]), axis=1)
        cap = median + 3.0 * np.maximum(mad, np.sqrt(np.maximum(median, 1.0)))
        clipped = np.minimum(deseason, cap[:, None])
        level = np.nanmean(clipped[:, -days:], axis=1)
        spread_mean = np.nanmean(clipped, axis=1)
        var = np.nanvar(clipped, axis=1, ddof=1)
    dispersion = np.clip(np.where(spread_mean > 0, (var - spread_mean) / np.maximum(spread_mean, 1e-12) ** 2, 0.0),
                         0.0, max_dispersion)
    expected = np.maximum(level * factors[np.arange(n), weekdays], floor)
    valid = end >= min_history
    return Baseline(np.where(valid, expected, np.nan), np.nan_to_num(dispersion), valid)


def nb_upper(mu: np.ndarray, dispersion: np.ndarray, alpha: float) -> np.ndarray:
    """Smallest count x with P(X >= x) <= alpha for X negative binomial (Poisson when dispersion is 0)."""
    mu = np.asarray(mu, dtype=float)
    dispersion = np.broadcast_to(np.asarray(dispersion, dtype=float), mu.shape)
    poisson = dispersion < 1e-6
    size = np.where(poisson, 1.0, 1.0 / np.maximum(dispersion, 1e-6))
    with np.errstate(invalid="ignore", divide="ignore"):
        upper = np.where(poisson, stats.poisson.isf(alpha, mu),
                         stats.nbinom.isf(alpha, size, size / (size + mu)))
    return upper + 1.0  # isf gives the largest x with P(X > x) > alpha ... P(X >= upper) <= alpha


class NegBin:
    """Negative binomial tail test against the robust weekday baseline (see module docstring).

    Alarm when today's count, or the sum of yesterday's and today's, lies in the
    upper ``alpha`` tail of its negative binomial distribution (each test at
    alpha/2), and today has at least ``min_count`` documents.
    """

    name = "negbin"

    def __init__(self, alpha: float = 0.002, min_count: int = 3, two_day: bool = True, **baseline):
        self.alpha, self.min_count, self.two_day, self.baseline = alpha, min_count, two_day, baseline

    def run(self, counts: np.ndarray, weekdays: np.ndarray) -> Detection:
        counts = np.asarray(counts)
        base = robust_baseline(counts, weekdays, **self.baseline)
        mu = np.nan_to_num(base.expected)
        alpha = self.alpha / 2 if self.two_day else self.alpha
        upper = nb_upper(mu, base.dispersion, alpha)
        alarm = counts >= upper
        if self.two_day:
            # yesterday's expectation as seen from today's baseline, the sum's dispersion for NB(2r)-like sums
            mu_prev = np.concatenate([[0.0], mu[:-1]])
            pair_mu = mu + mu_prev
            pair_disp = base.dispersion * (mu ** 2 + mu_prev ** 2) / np.maximum(pair_mu ** 2, 1e-12)
            pair = counts + np.concatenate([[0], counts[:-1]])
            alarm |= pair >= nb_upper(pair_mu, pair_disp, alpha)
        alarm = base.valid & alarm
        return Detection(base.expected, np.where(base.valid, upper, np.nan), _gate(alarm, counts, self.min_count))


class PoissonCusum:
    """Poisson CUSUM for a shift from mu0 (the robust baseline) to ``ratio`` x mu0 (defaults tuned on
    bench_waves.py's seed 1):
    S_t = max(0, S_t-1 + x_t ln(ratio) - (ratio - 1) mu0_t), alarm when S_t > h, then S restarts at 0."""

    name = "cusum"

    def __init__(self, ratio: float = 3.0, h: float = 6.0, min_count: int = 3, **baseline):
        self.ratio, self.h, self.min_count, self.baseline = ratio, h, min_count, baseline

    def run(self, counts: np.ndarray, weekdays: np.ndarray) -> Detection:
        counts = np.asarray(counts)
        base = robust_baseline(counts, weekdays, **self.baseline)
        mu = np.nan_to_num(base.expected)
        log_ratio = np.log(self.ratio)
        score, alarm, upper = 0.0, np.zeros(len(counts), dtype=bool), np.full(len(counts), np.nan)
        for t in np.flatnonzero(base.valid):
            drift = (self.ratio - 1.0) * mu[t]
            upper[t] = np.floor((self.h - score + drift) / log_ratio) + 1  # smallest x_t that alarms
            score = max(0.0, score + counts[t] * log_ratio - drift)
            if score > self.h and counts[t] >= self.min_count:
                alarm[t] = True
                score = 0.0
        return Detection(base.expected, upper, alarm)


def make_detector(name: str, *, alpha: float, min_count: int):
    """A detector by name (the WAVES_DETECTOR setting); ``alpha`` is negbin's tail probability,
    ``min_count`` the documents a day needs to alarm (the fixed detector's threshold)."""
    if name == "negbin":
        return NegBin(alpha=alpha, min_count=min_count)
    if name == "cusum":
        return PoissonCusum(min_count=min_count)
    if name.startswith("ears-") and name[5:].upper() in ("C1", "C2", "C3"):
        return EarsC(name[5:].upper(), min_count=min_count)
    if name == "fixed":
        return FixedThreshold(min_count)
    raise ValueError(f"unknown detector {name!r} (use {', '.join(DETECTORS)})")


DETECTORS = ("negbin", "cusum", "ears-c1", "ears-c2", "ears-c3", "fixed")
