"""The end of ``banwave demo``: the waves of the demo web's history, and the alert analysts would have got.

The demo web holds quiet months before and after the 2021 wave. This step
replays that history (``waves.run.backtest``), then runs the tracker as the
scheduler would have on the day the first overall wave was raised, with the
alerts of alerts.demo.yaml going to a JSON webhook served here on 127.0.0.1,
and prints what arrived; a last run at the end of the history leaves the
wave records in ``<prefix>-waves`` for ``banwave waves --all`` and Kibana.
"""
from __future__ import annotations

import json
import logging
import threading
from datetime import date, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

from elasticsearch import Elasticsearch
from rich.console import Console
from rich.table import Table

import config
from config import REPO_ROOT, Env
from waves.alerts.config import load_alerts
from waves.config import WavesConfig
from waves.run import WARMUP_DAYS, backtest, update

DEMO_ALERTS = REPO_ROOT / "alerts.demo.yaml"
HISTORY = (date(2021, 1, 1), date(2022, 2, 28))  # the demo web's dated history


class Receiver:
    """A JSON webhook receiver on a free port of 127.0.0.1 that keeps what it is sent."""

    def __init__(self):
        self.received: list[dict] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/banwave"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def demo_waves(console: Console, client: Elasticsearch, env: Env) -> list[dict]:
    """Print the demo web's waves and the first alert; return the waves as JSON-able rows."""
    # the whole history in each run (a live run looks back WAVES_HISTORY_DAYS from today)
    days = (HISTORY[1] - HISTORY[0]).days + 1 + WARMUP_DAYS
    cfg = WavesConfig.from_settings(config.crawl_settings(env, {"WAVES_HISTORY_DAYS": days}))
    console.rule("banwave waves")
    logging.getLogger("waves").setLevel(logging.WARNING)  # what the runs found is printed below
    found = backtest(client, env, cfg, *HISTORY)
    rows = [{"scope_kind": w.track.scope.kind, "scope": w.track.scope.value, "onset": w.onset.isoformat(),
             "raised": w.raised.isoformat(), "peak_day": w.peak.isoformat(), "peak_count": w.peak_count,
             "documents": w.documents, "over_on": w.ended.isoformat() if w.ended else None} for w in found]
    table = Table("scope", "onset", "raised", "peak", "documents", "over on",
                  title=f"Waves in the demo web's history, {HISTORY[0]} to {HISTORY[1]} "
                        f"(backtest: when daily runs would have raised them)", title_justify="left")
    for row in rows:
        table.add_row(f"{row['scope_kind']}: {row['scope']}", row["onset"], row["raised"],
                      f"{row['peak_count']} on {row['peak_day']}", str(row["documents"]), row["over_on"] or "")
    console.print(table if rows else "no waves found in the demo web's history")
    first = next((w for w in found if w.track.scope.kind == "overall"), None)
    zone = ZoneInfo(cfg.timezone)
    with Receiver() as receiver:
        alerts = load_alerts(DEMO_ALERTS, {"BANWAVE_DEMO_WEBHOOK": receiver.url})
        if first:  # the scheduler's run at the end of the day the wave was raised
            update(client, env, cfg, alerts, now=datetime.combine(first.raised, time(23, 59), zone))
        final = update(client, env, cfg, alerts, now=datetime.combine(HISTORY[1], time(23, 59), zone))
    for message in receiver.received:
        console.print(f"[bold]Alert to demo-webhook ({message['event']}, {message['event_day'][:10]}):[/]\n"
                      f"{message['text']}")
    if first and not receiver.received:
        console.print(f"(the alerts of {first.raised} were sent by an earlier demo run: "
                      f"`banwave waves alerts` lists them)")
    console.print(f"{len(final.records)} wave records in {env.waves_alias}; list them with "
                  f"[bold]banwave waves --all[/], the alert log with [bold]banwave waves alerts[/]")
    return rows
