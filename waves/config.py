"""The WAVES_* and ALERTS_* settings (settings.py), read once with typed getters and checked.

The settings come the project's one way, ``config.crawl_settings(env, overrides)``.

An invalid value raises :class:`WavesConfigError` naming the setting; it is
never quietly replaced by a default (the defaults live in settings.py only).
"""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scrapy.settings import BaseSettings

from waves.detectors import DETECTORS, make_detector
from waves.signals import SCOPE_KINDS
from waves.tracker import Policy


class WavesConfigError(ValueError):
    """A WAVES_*/ALERTS_* setting or the alerts file is invalid; the message is one line naming it."""


@dataclass(frozen=True)
class WavesConfig:
    enabled: bool
    timezone: str
    history_days: int
    hourly_days: int
    max_scopes: int
    scopes: tuple[str, ...]
    detector: str
    alpha: float
    min_count: int
    policy: Policy
    interval_minutes: int
    alert_max_age_days: int
    alert_timeout: float
    backoff_base: float
    backoff_max: float
    lease_seconds: float

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> "WavesConfig":
        def positive(name: str, value: float) -> float:
            if value <= 0:
                raise WavesConfigError(f"{name}={value!r} must be greater than 0")
            return value

        def typed(getter, name: str):
            try:
                return getter(name)
            except (TypeError, ValueError):
                raise WavesConfigError(f"{name}={settings.get(name)!r} is not a valid value") from None

        timezone = settings.get("WAVES_TIMEZONE")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise WavesConfigError(f"WAVES_TIMEZONE={timezone!r} is not a time zone name such as Asia/Shanghai") from None
        scopes = tuple(typed(settings.getlist, "WAVES_SCOPES"))
        unknown = [s for s in scopes if s not in SCOPE_KINDS]
        if unknown or not scopes:
            raise WavesConfigError(f"WAVES_SCOPES={list(scopes)!r}: use some of {', '.join(SCOPE_KINDS)}")
        detector = settings.get("WAVES_DETECTOR")
        if detector not in DETECTORS:
            raise WavesConfigError(f"WAVES_DETECTOR={detector!r}: use one of {', '.join(DETECTORS)}")
        alpha = typed(settings.getfloat, "WAVES_ALPHA")
        if not 0 < alpha < 0.5:
            raise WavesConfigError(f"WAVES_ALPHA={alpha!r} must be between 0 and 0.5")
        levels = tuple(int(x) for x in typed(settings.getlist, "WAVES_ESCALATION_DOCUMENTS"))
        if list(levels) != sorted(set(levels)) or any(x <= 0 for x in levels):
            raise WavesConfigError(f"WAVES_ESCALATION_DOCUMENTS={list(levels)!r} must be increasing positive counts")
        ratio = typed(settings.getfloat, "WAVES_SUBSIDE_RATIO")
        if not 0 < ratio < 1:
            raise WavesConfigError(f"WAVES_SUBSIDE_RATIO={ratio!r} must be between 0 and 1")
        ints = {name: int(positive(name, typed(settings.getint, name))) for name in (
            "WAVES_HISTORY_DAYS", "WAVES_MAX_SCOPES", "WAVES_MIN_COUNT", "WAVES_QUIET_DAYS",
            "WAVES_ONSET_LOOKBACK", "WAVES_INTERVAL_MINUTES", "ALERTS_MAX_AGE_DAYS")}
        floats = {name: positive(name, typed(settings.getfloat, name)) for name in (
            "ALERTS_TIMEOUT", "ALERTS_BACKOFF_BASE", "ALERTS_BACKOFF_MAX", "ALERTS_LEASE_SECONDS")}
        hourly_days = typed(settings.getint, "WAVES_HOURLY_DAYS")
        if hourly_days < 0:
            raise WavesConfigError(f"WAVES_HOURLY_DAYS={hourly_days!r} must be 0 or more")
        return cls(
            enabled=typed(settings.getbool, "WAVES_ENABLED"), timezone=timezone,
            history_days=ints["WAVES_HISTORY_DAYS"], hourly_days=hourly_days, max_scopes=ints["WAVES_MAX_SCOPES"],
            scopes=scopes, detector=detector, alpha=alpha, min_count=ints["WAVES_MIN_COUNT"],
            policy=Policy(quiet_days=ints["WAVES_QUIET_DAYS"], subside_ratio=ratio,
                          onset_lookback=ints["WAVES_ONSET_LOOKBACK"], escalation=levels),
            interval_minutes=ints["WAVES_INTERVAL_MINUTES"], alert_max_age_days=ints["ALERTS_MAX_AGE_DAYS"],
            alert_timeout=floats["ALERTS_TIMEOUT"], backoff_base=floats["ALERTS_BACKOFF_BASE"],
            backoff_max=floats["ALERTS_BACKOFF_MAX"], lease_seconds=floats["ALERTS_LEASE_SECONDS"])

    def make_detector(self):
        return make_detector(self.detector, alpha=self.alpha, min_count=self.min_count)
