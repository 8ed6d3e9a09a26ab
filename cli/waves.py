"""``banwave waves``: current waves, a run now, the backtest, the signals and the alert log."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from elasticsearch import ApiError, TransportError
from rich.console import Console
from rich.table import Table

import config
from config import Env
from pipelines.elastic import describe_error, make_client
from waves import records as wave_records
from waves.alerts.config import AlertsConfig, AlertsError, load_alerts
from waves.alerts.outbox import Journal, Outbox
from waves.config import WavesConfig, WavesConfigError
from waves.run import backtest, deliver_due, update
from waves.signals import SCOPE_KINDS, Scope, compute


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2021-06-01") from None


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "waves", help="store-closure waves: list, update, backtest, signals, alerts",
        description="Without an action: the current waves (not over) from <prefix>-waves. See docs/waves.md.")
    parser.add_argument("-s", "--set", metavar="NAME=VALUE", action="append", default=[],
                        help="override a WAVES_*/ALERTS_* setting, e.g. -s WAVES_DETECTOR=cusum (repeatable)")
    parser.add_argument("--all", action="store_true", help="also waves that are over")
    parser.add_argument("--scope", choices=SCOPE_KINDS, help="only waves of this scope kind")
    parser.set_defaults(func=run_list)
    actions = parser.add_subparsers(dest="waves_command", metavar="ACTION")
    run = actions.add_parser("update", help="track waves now: write <prefix>-waves, queue and deliver alerts")
    run.add_argument("--as-of", type=_day, metavar="DATE", help="pretend it is the end of DATE (replays, demos)")
    run.add_argument("--no-deliver", action="store_true", help="queue alerts but do not send them")
    run.set_defaults(func=run_update)
    test = actions.add_parser("backtest", help="replay a period: when would each wave have been raised?")
    test.add_argument("--since", type=_day, required=True, metavar="DATE")
    test.add_argument("--until", type=_day, required=True, metavar="DATE")
    test.add_argument("--scope", choices=SCOPE_KINDS, dest="backtest_scope", help="only this scope kind")
    test.add_argument("--json", action="store_true", help="one JSON object per wave")
    test.set_defaults(func=run_backtest)
    signals = actions.add_parser("signals", help="the daily (and recent hourly) counts the detector sees")
    signals.add_argument("--days", type=int, default=14, help="days up to today or --as-of (default 14)")
    signals.add_argument("--as-of", type=_day, metavar="DATE")
    signals.set_defaults(func=run_signals)
    log = actions.add_parser("alerts", help="the alert log from <prefix>-alerts, newest first")
    log.add_argument("--status", choices=("pending", "sending", "delivered", "failed"))
    log.add_argument("-n", type=int, default=30, metavar="N", help="rows (default 30)")
    log.set_defaults(func=run_alerts)
    deliver = actions.add_parser("deliver", help="send the due alerts now")
    deliver.set_defaults(func=run_deliver)
    check = actions.add_parser("check", help="validate the settings and the alerts file, list the channels")
    check.set_defaults(func=run_check)


def _config(args, env: Env) -> WavesConfig:
    return WavesConfig.from_settings(config.crawl_settings(env, config.parse_overrides(args.set)))


def _alerts(env: Env) -> AlertsConfig | None:
    return load_alerts(env.alerts) if env.alerts else None


def _as_of(cfg: WavesConfig, day: date | None) -> datetime | None:
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(cfg.timezone)) if day else None


def _guard(func):
    def wrapped(args, env: Env) -> int:
        try:
            return func(args, env)
        except (WavesConfigError, AlertsError) as exc:
            print(f"banwave: {exc}", file=sys.stderr)
            return 2
        except (ApiError, TransportError) as exc:
            print(f"banwave waves: Elasticsearch at {env.es_url}: {describe_error(exc)}", file=sys.stderr)
            return 1
    return wrapped


def wave_table(records: list[dict], title: str) -> Table:
    table = Table("scope", "status", "onset", "raised", "peak", "docs", "stories", "sellers", "first report",
                  title=title, title_justify="left")
    for r in records:
        first = r.get("first_report") or {}
        sellers = ", ".join(s["name"] for s in (r.get("sellers_hit") or [])[:4])
        table.add_row(f"{r['scope_kind']}: {r['scope']}", r["status"], r["onset"][:10], r["raised_on"][:10],
                      f"{r['peak_count']} on {r['peak_day'][:10]}", str(r["documents"]), str(r["stories"]),
                      sellers + (" ..." if r.get("sellers_count", 0) > 4 else ""),
                      (first.get("title") or "")[:40])
    return table


@_guard
def run_list(args, env: Env) -> int:
    client = make_client(env)
    filters = [] if args.all else [{"bool": {"must_not": {"term": {"status": "over"}}}}]
    if args.scope:
        filters.append({"term": {"scope_kind": args.scope}})
    found = wave_records.load(client, env.waves_alias, {"bool": {"filter": filters}})
    if not found:
        print(f"no {'' if args.all else 'current '}waves in {env.waves_alias}"
              + ("" if args.all else " (--all shows waves that are over)"))
        return 0
    Console().print(wave_table(found, f"{'Waves' if args.all else 'Current waves'} in {env.waves_alias}"))
    return 0


@_guard
def run_update(args, env: Env) -> int:
    cfg = _config(args, env)
    result = update(make_client(env), env, cfg, _alerts(env), now=_as_of(cfg, args.as_of),
                    deliver=not args.no_deliver)
    open_waves = [r for r in result.records if r["status"] != "over"]
    Console().print(wave_table(open_waves, f"{len(open_waves)} current wave(s), {len(result.records)} in "
                                           f"{len(result.signals.days)} days ({result.written} records written)"))
    if result.alerts_created or result.deliveries:
        sent = ", ".join(f"{n} {k}" for k, n in sorted(result.deliveries.items()))
        print(f"alerts: {result.alerts_created} queued" + (f"; {sent}" if sent else ""))
    return 0


@_guard
def run_backtest(args, env: Env) -> int:
    if args.until < args.since:
        print("banwave: --until is before --since", file=sys.stderr)
        return 2
    cfg = _config(args, env)
    found = backtest(make_client(env), env, cfg, args.since, args.until)
    if args.backtest_scope:
        found = [w for w in found if w.track.scope.kind == args.backtest_scope]
    if args.json:
        for w in found:
            print(json.dumps({"scope_kind": w.track.scope.kind, "scope": w.track.scope.value,
                              "onset": w.onset.isoformat(), "raised": w.raised.isoformat(), "delay_days": w.delay,
                              "peak_day": w.peak.isoformat(), "peak_count": w.peak_count, "documents": w.documents,
                              "status": w.track.status, "ended": w.ended.isoformat() if w.ended else None},
                             ensure_ascii=False))
        return 0
    table = Table("scope", "onset", "raised", "delay", "peak", "docs", "status at end", "over on",
                  title=f"Waves raised {args.since} .. {args.until} ({cfg.detector}, days in {cfg.timezone})",
                  title_justify="left")
    for w in found:
        table.add_row(str(w.track.scope), w.onset.isoformat(), w.raised.isoformat(), f"{w.delay} d",
                      f"{w.peak_count} on {w.peak}", str(w.documents), w.track.status,
                      w.ended.isoformat() if w.ended else "")
    Console().print(table if found else f"no waves raised {args.since} .. {args.until}")
    return 0


@_guard
def run_signals(args, env: Env) -> int:
    cfg = _config(args, env)
    now = _as_of(cfg, args.as_of) or datetime.now(ZoneInfo(cfg.timezone))
    until = now.date() + timedelta(days=1)
    signals = compute(make_client(env), env.docs_alias, until - timedelta(days=args.days), until, cfg.timezone,
                      max_scopes=cfg.max_scopes, hourly_days=cfg.hourly_days, now=now)
    table = Table("day", "docs", "news", "forum", "threads", "new sellers", "top sellers",
                  title=f"Relevant documents per day ({cfg.timezone})", title_justify="left")
    news, forum = (signals.series.get(Scope("source_kind", kind)) for kind in ("news", "forum"))
    for i, day in enumerate(signals.days):
        top = sorted(((int(c[i]), s.value) for s, c in signals.series.items() if s.kind == "seller" and c[i]),
                     reverse=True)[:3]
        table.add_row(day.isoformat(), str(signals.overall()[i]), str(news[i] if news is not None else 0),
                      str(forum[i] if forum is not None else 0), str(signals.threads[i]),
                      str(signals.new_sellers[i]), ", ".join(f"{name} ({n})" for n, name in top))
    console = Console()
    console.print(table)
    if len(signals.hours):
        busy = [(h, int(c)) for h, c in zip(signals.hours, signals.hourly) if c]
        console.print(f"last {cfg.hourly_days} days per hour: {int(signals.hourly.sum())} documents; busiest hours: "
                      + (", ".join(f"{h:%m-%d %H}h {c}" for h, c in sorted(busy, key=lambda x: -x[1])[:5]) or "none"))
    return 0


@_guard
def run_alerts(args, env: Env) -> int:
    client = make_client(env)
    query = {"term": {"status": args.status}} if args.status else {"match_all": {}}
    if not client.indices.exists_alias(name=env.alerts_alias):
        print(f"{env.alerts_alias} does not exist: run `banwave es setup`")
        return 1
    hits = client.search(index=env.alerts_alias, query=query, size=args.n, sort=[{"created_at": "desc"}])["hits"]
    table = Table("created", "event", "scope", "channel", "status", "attempts", "delivered", "last error",
                  title=f"Alerts in {env.alerts_alias} ({hits['total']['value']})", title_justify="left")
    for hit in hits["hits"]:
        a = hit["_source"]
        event = a["event"] + (f" {a['level']}" if a["event"] == "escalated" else "")
        table.add_row(a["created_at"][:16], event, f"{a['scope_kind']}: {a['scope']}", a["channel"], a["status"],
                      str(a["attempts"]), (a.get("delivered_at") or "")[:16], (a.get("last_error") or "")[:50])
    Console().print(table)
    return 0


@_guard
def run_deliver(args, env: Env) -> int:
    cfg, alerts = _config(args, env), _alerts(env)
    if alerts is None or not alerts.channels:
        print("no alert channels (BANWAVE_ALERTS is empty or the file has no channels)")
        return 0
    journal = Journal(env.data_dir / "alerts" / "journal.sqlite")
    try:
        outcome = deliver_due(Outbox(make_client(env), env.alerts_alias, journal, cfg.lease_seconds), alerts, cfg)
    finally:
        journal.close()
    print("alerts: " + (", ".join(f"{n} {k}" for k, n in sorted(outcome.items())) or "none due"))
    return 0


@_guard
def run_check(args, env: Env) -> int:
    cfg, alerts = _config(args, env), _alerts(env)
    print(f"detector {cfg.detector} (alpha {cfg.alpha:g}, at least {cfg.min_count} documents a day), "
          f"scopes {', '.join(cfg.scopes)}, days in {cfg.timezone}, {cfg.history_days} days of history")
    if alerts is None:
        print("alerts: none (BANWAVE_ALERTS is empty)")
        return 0
    print(f"alerts file {env.alerts}: {len(alerts.channels)} channel(s); link "
          f"{alerts.kibana_url or 'the first report of each wave'}")
    for c in alerts.channels:
        print(f"  {c.name}: {c.type}, {c.lang}, events {', '.join(c.events)}, scopes {', '.join(c.scopes)}"
              + (f", at least {c.min_documents} documents" if c.min_documents else ""))
    return 0
