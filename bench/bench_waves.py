"""Wave detection on synthetic histories: the standard outbreak-detection metrics per detector.

Histories come from waves/synthetic.py: negative binomial daily counts around
a baseline with a weekday profile and background chatter, with one injected
wave (step: at its peak from the onset day; ramp: peak on day 3) of a chosen
size (peak daily volume as a multiple of the baseline). Quiet histories (no
wave) measure false alarms. Per detector and wave size:

- POD: share of waves with an alarm within 14 days of the onset;
- POD<=1d: share raised on the onset day or the day after (the issue's target);
- delay: median days from onset to the first alarm, over detected waves;
- FA/90d: false alerts per 90 days of a quiet series: alarm days with no alarm in
  the 7 days before (later alarm days would extend the same wave, not raise a new
  one; see waves/tracker.py).

The naive reference, in the same run on the same series, is ``fixed``: a
fixed daily threshold set at twice the series' true mean (at least 3), i.e.
a hand-set alert that even knows the baseline.

Run:  .venv/bin/python bench/bench_waves.py [--reps 100] [--seed 7]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import config  # noqa: E402
from waves.config import WavesConfig  # noqa: E402
from waves.detectors import DETECTORS, FixedThreshold, make_detector  # noqa: E402
from waves.synthetic import SHAPES, InjectedWave, generate  # noqa: E402

BASELINES = (1.0, 3.0, 10.0, 30.0)   # documents per day: a small scope, a platform, the overall series
SIZES = (2.0, 3.0, 5.0, 10.0)
WARMUP = 120                          # days of history before the onset
QUIET_DAYS = 360                      # length of a quiet series; alarms counted after the warm-up
REFRACTORY = 7                        # an alarm within this many days of the last one is the same alert
WINDOW = 14                           # an alarm this many days after the onset still detects the wave


# the configured alpha and minimum count (settings.py, built the project's way)
SETTINGS = WavesConfig.from_settings(config.crawl_settings(config.load({}, env_file="/nonexistent/.env")))


def detector_for(name: str, baseline: float):
    if name == "fixed":
        return FixedThreshold(max(3, math.ceil(2 * baseline)))
    return make_detector(name, alpha=SETTINGS.alpha, min_count=SETTINGS.min_count)


def false_alerts(alarm: np.ndarray) -> int:
    days = np.flatnonzero(alarm)
    return int(np.sum(np.diff(days, prepend=-REFRACTORY - 1) > REFRACTORY))


def first_alarm(alarm: np.ndarray, onset: int) -> int | None:
    hits = np.flatnonzero(alarm[onset: onset + WINDOW])
    return int(hits[0]) if len(hits) else None


def measure(reps: int, seed: int, dispersion: float) -> dict:
    rng = np.random.default_rng(seed)
    quiet = {b: [generate(rng, QUIET_DAYS, b, dispersion=dispersion) for _ in range(reps)] for b in BASELINES}
    waves = {(b, s, shape): [generate(rng, WARMUP + 30, b, dispersion=dispersion,
                                      waves=(InjectedWave(WARMUP, s, shape),))
                             for _ in range(reps)]
             for b in BASELINES for s in SIZES for shape in SHAPES}
    results = {}
    for name in DETECTORS:
        began = time.perf_counter()
        alarms = {b: sum(false_alerts(detector_for(name, b).run(h.counts, h.weekdays).alarm[WARMUP:]) for h in hs)
                  for b, hs in quiet.items()}
        fa = {b: alarms[b] / (reps * (QUIET_DAYS - WARMUP)) * 90 for b in BASELINES}
        delays = {key: [first_alarm(detector_for(name, key[0]).run(h.counts, h.weekdays).alarm, WARMUP)
                        for h in hs] for key, hs in waves.items()}
        results[name] = {"fa": fa, "delays": delays, "seconds": time.perf_counter() - began}
    return results


def summarise(delays: list[int | None]) -> tuple[float, float, float]:
    found = [d for d in delays if d is not None]
    pod = len(found) / len(delays)
    within = sum(d <= 1 for d in found) / len(delays)
    return pod, within, float(np.median(found)) if found else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100, help="series per baseline, size and shape (default 100)")
    parser.add_argument("--seed", type=int, default=7, help="detector defaults were tuned on seed 1 (default 7)")
    parser.add_argument("--dispersion", type=float, default=0.1,
                        help="the background's negative binomial dispersion (default 0.1)")
    args = parser.parse_args()
    results = measure(args.reps, args.seed, args.dispersion)
    print(f"{args.reps} series per baseline x size x shape; baselines {', '.join(f'{b:g}' for b in BASELINES)} "
          f"docs/day; dispersion {args.dispersion:g}; shapes {', '.join(SHAPES)}; quiet series {QUIET_DAYS - WARMUP} days after a "
          f"{WARMUP}-day warm-up")
    print("\nPer detector and wave size, pooled over baselines and shapes "
          "(FA/90d: quiet series, mean over baselines)")
    print(f"{'detector':9} {'size':>5} {'POD':>6} {'POD<=1d':>8} {'delay':>6} {'FA/90d':>7}")
    for name, result in results.items():
        fa = np.mean(list(result["fa"].values()))
        for size in SIZES:
            pooled = [d for (b, s, _), ds in result["delays"].items() if s == size for d in ds]
            pod, within, delay = summarise(pooled)
            print(f"{name:9} {size:4g}x {pod:6.2f} {within:8.2f} {delay:6.1f} {fa:7.2f}")
    print("\nPer baseline (docs/day): POD<=1d for 3x waves (the target), by shape; FA/90d")
    header = "".join(f"  b={b:<4g}step ramp   FA" for b in BASELINES)
    print(f"{'detector':9}{header}")
    for name, result in results.items():
        cells = []
        for b in BASELINES:
            by_shape = [summarise([d for (bb, s, sh), ds in result["delays"].items()
                                   if bb == b and s == 3 and sh == shape for d in ds])[1] for shape in SHAPES]
            cells.append(f"  {'':6}{by_shape[0]:4.2f} {by_shape[1]:4.2f} {result['fa'][b]:4.2f}")
        print(f"{name:9}{''.join(cells)}   ({result['seconds']:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
