"""Detectors, tracker, synthetic histories and the WAVES_* settings, without Elasticsearch."""
from __future__ import annotations

import numpy as np
import pytest

from wavedata import waves_config
from waves.config import WavesConfigError
from waves.detectors import DETECTORS, EarsC, NegBin, make_detector, nb_upper, robust_baseline
from waves.signals import Scope
from waves.synthetic import InjectedWave, generate
from waves.tracker import Policy, track

SCOPE = Scope("seller", "x")


def weekdays(n: int) -> np.ndarray:
    return np.arange(n) % 7


@pytest.mark.parametrize("name", DETECTORS)
def test_detectors_are_online(name):
    """The verdict on day t does not change when later days are added: backtests replay daily runs."""
    history = generate(np.random.default_rng(3), 200, 5.0, waves=(InjectedWave(150, 4.0),))
    detector = make_detector(name, alpha=0.002, min_count=3)
    full = detector.run(history.counts, history.weekdays)
    for cut in (120, 151, 160):
        part = detector.run(history.counts[:cut], history.weekdays[:cut])
        assert (part.alarm == full.alarm[:cut]).all(), (name, cut)
        np.testing.assert_allclose(part.expected, full.expected[:cut])


@pytest.mark.parametrize("name", [d for d in DETECTORS if d != "fixed"])
def test_no_history_one_or_two_posts_raise_nothing(name):
    counts = np.zeros(120, dtype=int)
    counts[100], counts[110], counts[111] = 1, 2, 2
    assert not make_detector(name, alpha=0.002, min_count=3).run(counts, weekdays(120)).alarm.any()


def test_negbin_raises_a_tripling_within_a_day_and_rarely_alarms_on_quiet_series():
    rng = np.random.default_rng(11)
    detector = NegBin(alpha=0.002, min_count=3)
    raised = [detector.run(h.counts, h.weekdays).alarm[160:162].any()
              for h in (generate(rng, 200, 20.0, waves=(InjectedWave(160, 3.0, "step"),)) for _ in range(20))]
    assert sum(raised) >= 19
    alerts = 0
    for _ in range(30):   # 30 quiet series, 240 days each after the warm-up
        days = np.flatnonzero(detector.run(*_quiet(rng)).alarm[120:])
        alerts += int(np.sum(np.diff(days, prepend=-99) > 7))
    assert alerts / (30 * 240) * 90 <= 1.0


def _quiet(rng):
    history = generate(rng, 360, 10.0)
    return history.counts, history.weekdays


def test_robust_baseline_learns_weekdays_and_ignores_a_past_spike():
    n = 140
    wd = weekdays(n)
    counts = np.where(wd >= 5, 2, 10)        # weekends at a fifth of weekdays
    counts[120] = 200                         # one enormous day inside the window
    base = robust_baseline(counts, wd)
    t = 130                                   # the week after t: its first weekday and first weekend day
    weekday, weekend = [t + k for k in range(7) if wd[t + k] < 5][0], [t + k for k in range(7) if wd[t + k] >= 5][0]
    assert 8 < base.expected[weekday] < 12 and 1 < base.expected[weekend] < 4
    assert not base.valid[10] and base.valid[30]


def test_nb_upper_is_the_smallest_count_in_the_tail():
    from scipy import stats
    for mu, disp in ((0.2, 0.0), (5.0, 0.0), (5.0, 0.3), (40.0, 0.1)):
        upper = int(nb_upper(np.array([mu]), np.array([disp]), 0.001)[0])
        tail = (lambda x: stats.poisson.sf(x - 1, mu)) if disp == 0 else \
            (lambda x: stats.nbinom.sf(x - 1, 1 / disp, (1 / disp) / (1 / disp + mu)))
        assert tail(upper) <= 0.001 < tail(upper - 1)


def test_ears_c1_uses_the_last_seven_days():
    counts = np.array([5, 5, 6, 4, 5, 5, 6, 20])
    result = EarsC("C1", min_count=3).run(counts, weekdays(8))
    assert result.alarm.tolist() == [False] * 7 + [True]
    assert result.expected[7] == pytest.approx(counts[:7].mean())


def test_tracker_follows_a_wave_through_every_status():
    counts = np.array([0] * 30 + [1, 4, 9, 15, 14, 12, 6, 3, 2, 1] + [0] * 20)
    alarm = np.zeros(len(counts), dtype=bool)
    alarm[[32, 33]] = True
    from waves.detectors import Detection
    detection = Detection(np.full(len(counts), 0.3), np.full(len(counts), 4.0), alarm)
    (wave,) = track(SCOPE, counts, detection, Policy(quiet_days=7, escalation=(10, 50, 200)))
    assert wave.onset == 30 and wave.raised == 32       # the first post came two days before the alarm
    assert wave.peak == 33 and wave.last_active == 38   # 2 documents still count against a 0.3 baseline
    events = [(e.event, e.day, e.level) for e in wave.events]
    assert events == [("emerging", 32, 1), ("active", 33, 0), ("escalated", 35, 2), ("subsiding", 38, 0),
                      ("over", 45, 0)]
    assert wave.status == "over" and wave.ended == 45


def test_a_wave_still_open_at_the_end_of_the_series():
    counts = np.array([0] * 20 + [5, 8])
    alarm = np.zeros(22, dtype=bool)
    alarm[20] = True
    from waves.detectors import Detection
    (wave,) = track(SCOPE, counts, Detection(np.full(22, 0.2), np.full(22, 3.0), alarm), Policy())
    assert wave.status == "emerging" and wave.ended is None and wave.end(22) == 21


def test_synthetic_waves_add_their_documents_on_top():
    quiet = generate(np.random.default_rng(5), 400, 10.0, dispersion=0, chatter_rate=0)
    assert abs(quiet.counts.mean() - 10) < 0.6
    weekend = quiet.counts[quiet.weekdays >= 5].mean()
    assert weekend < 0.8 * quiet.counts[quiet.weekdays < 5].mean()
    wave = InjectedWave(0, 3.0, "ramp")
    assert wave.excess(10.0)[:4].round(2).tolist() == [6.67, 13.33, 20.0, 17.41]


def test_settings_are_checked_and_name_the_setting():
    assert waves_config().detector == "negbin"
    for name, value, words in [("WAVES_DETECTOR", "magic", "WAVES_DETECTOR='magic'"),
                               ("WAVES_TIMEZONE", "Mars/Olympus", "WAVES_TIMEZONE"),
                               ("WAVES_SCOPES", "overall,galaxy", "WAVES_SCOPES"),
                               ("WAVES_ALPHA", "0.9", "WAVES_ALPHA"),
                               ("WAVES_MIN_COUNT", "0", "WAVES_MIN_COUNT=0 must be greater than 0"),
                               ("WAVES_ESCALATION_DOCUMENTS", "100,25", "WAVES_ESCALATION_DOCUMENTS"),
                               ("ALERTS_TIMEOUT", "soon", "ALERTS_TIMEOUT='soon' is not a valid value")]:
        with pytest.raises(WavesConfigError, match=words.replace("(", r"\(")):
            waves_config({name: value})
