"""Alert delivery against local receivers started in the test (an HTTP server, aiosmtpd) and the real
Elasticsearch outbox: formats, signatures, retries with backoff, the journal, crash between send and record."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from elasticsearch import Elasticsearch

from pipelines.elastic import setup_indices
from wavedata import history, index, noon, quiet, waves_config
from waves.alerts.config import AlertsError, load_alerts
from waves.alerts.outbox import DELIVERED, FAILED, PENDING, Journal, Outbox, Sender, make_alerts
from waves.run import update

NOW = datetime(2021, 5, 3, 12, tzinfo=timezone.utc)
RECORD = {
    "wave_id": "w1", "scope_kind": "seller", "scope": "傲基", "status": "active", "onset": "2021-05-01T00:00:00+08:00",
    "raised_on": "2021-05-01T00:00:00+08:00", "peak_day": "2021-05-02T00:00:00+08:00", "peak_count": 12,
    "last_active_day": "2021-05-03T00:00:00+08:00", "baseline": 0.2, "documents": 25, "news": 3, "forum": 22,
    "stories": 9, "threads": 4, "sellers_count": 2,
    "sellers_hit": [{"name": "傲基", "documents": 24}, {"name": "Mpow", "documents": 1}],
    "losses": [{"value_cny": 1e9, "role": "loss", "text": "10亿元", "url": "http://news.example/a/1"}],
    "stories_top": [{"story_id": "s1", "documents": 5, "title": "傲基产品大面积下架", "url": "http://news.example/a/2"}],
    "first_report": {"url": "http://forum.example/t/1", "title": "店铺被封", "time": "2021-05-01T09:00:00+08:00"},
    "events": [{"event": "emerging", "day": "2021-05-01T00:00:00+08:00", "level": 0},
               {"event": "escalated", "day": "2021-05-03T00:00:00+08:00", "level": 1}],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A local HTTP receiver: records every request; honours Idempotency-Key like a careful webhook consumer."""

    def __init__(self, port: int | None = None, status: int = 200, answer: dict | None = None):
        self.port, self.status, self.answer = port or free_port(), status, answer or {"ok": True}
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = {"path": self.path, "headers": dict(self.headers), "json": json.loads(body), "raw": body}
                outer.requests.append(request)
                key = self.headers.get("Idempotency-Key")
                if outer.status == 200 and key not in outer.accepted:
                    outer.accepted[key] = request
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(outer.answer).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook/SECRET-TOKEN"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def alerts_file(tmp_path, channels: str, kibana: str = "") -> object:
    path = tmp_path / "alerts.yaml"
    path.write_text((f"kibana_url: {kibana}\n" if kibana else "") + "channels:\n" + channels, "utf-8")
    return path


def outbox_for(es, es_env, tmp_path, lease: float = 300.0) -> Outbox:
    setup_indices(es, es_env.index_prefix)
    return Outbox(es, es_env.alerts_alias, Journal(tmp_path / "journal.sqlite"), lease)


def sender(outbox, alerts, base: float = 0.2, **kw) -> Sender:
    return Sender(outbox, alerts, timeout=2.0, backoff_base=base, backoff_max=5.0, **kw)


# ----------------------------------------------------------------------------- formats

@pytest.mark.es
@pytest.mark.slow
def test_each_channel_gets_its_format_and_signature(es, es_env, tmp_path):
    receivers = {name: Receiver(answer=answer) for name, answer in [
        ("webhook", {"ok": True}), ("slack", {"ok": True}), ("feishu", {"code": 0, "msg": "success"}),
        ("dingtalk", {"errcode": 0, "errmsg": "ok"}), ("wecom", {"errcode": 0, "errmsg": "ok"})]}
    environ = {f"URL_{n.upper()}": r.url for n, r in receivers.items()} | {"SIGN_KEY": "s3cret"}
    path = alerts_file(tmp_path, "".join(
        f"  - {{name: {n}, type: {n}, lang: {'en' if n in ('webhook', 'slack') else 'zh'}, url_env: URL_{n.upper()}"
        + (", secret_env: SIGN_KEY" if n in ("webhook", "feishu", "dingtalk") else "") + "}\n" for n in receivers),
        kibana="https://kibana.example.org")
    alerts = load_alerts(path, environ)
    outbox = outbox_for(es, es_env, tmp_path)
    made = make_alerts([RECORD], alerts, (25, 100), NOW - timedelta(days=5), NOW)
    assert len(made) == 2 * len(receivers)        # emerging and escalated, for each channel
    assert outbox.enqueue(made) == len(made)
    with receivers["webhook"], receivers["slack"], receivers["feishu"], receivers["dingtalk"], receivers["wecom"]:
        assert sender(outbox, alerts).deliver_due(NOW)["delivered"] == len(made)

    webhook = receivers["webhook"].requests[0]
    body = webhook["json"]
    assert webhook["headers"]["Idempotency-Key"] == body["idempotency_key"]
    assert body["event"] == "emerging" and body["wave"]["scope"] == "傲基" and body["wave"]["documents"] == 25
    expected = hmac.new(b"s3cret", webhook["raw"], hashlib.sha256).hexdigest()
    assert webhook["headers"]["X-Banwave-Signature"] == f"sha256={expected}"
    assert body["link"] == "https://kibana.example.org/app/dashboards#/view/banwave-waves"
    assert "Wave emerging: seller 傲基" in body["text"] and "25 documents since 2021-05-01" in body["text"]
    assert "傲基 (24), Mpow (1)" in body["text"] and "CNY 1.0 bn" in body["text"]

    slack = receivers["slack"].requests[1]["json"]
    assert set(slack) == {"text"} and "Wave past 25 documents" in slack["text"]

    feishu = receivers["feishu"].requests[0]["json"]
    assert feishu["msg_type"] == "text" and "封店潮预警" in feishu["content"]["text"]
    assert "卖家「傲基」" in feishu["content"]["text"] and "10亿元" in feishu["content"]["text"]
    key = f"{feishu['timestamp']}\ns3cret".encode()
    assert feishu["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert abs(int(feishu["timestamp"]) - time.time()) < 60

    ding = receivers["dingtalk"].requests[0]
    query = parse_qs(urlsplit(ding["path"]).query)
    timestamp = query["timestamp"][0]
    digest = hmac.new(b"s3cret", f"{timestamp}\ns3cret".encode(), hashlib.sha256).digest()
    assert query["sign"][0] == base64.b64encode(digest).decode()
    assert ding["json"]["msgtype"] == "text" and "涉及卖家（2家）：傲基 (24)、Mpow (1)" in ding["json"]["text"]["content"]

    wecom = receivers["wecom"].requests[0]["json"]
    assert wecom == {"msgtype": "text", "text": {"content": wecom["text"]["content"]}}
    assert "链接：https://kibana.example.org" in wecom["text"]["content"]
    states = {hit["_source"]["status"] for hit in es.search(index=es_env.alerts_alias, size=50)["hits"]["hits"]}
    assert states == {DELIVERED}


class Mailbox:
    def __init__(self):
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.mark.es
@pytest.mark.slow
def test_email_over_smtp_with_a_stable_message_id(es, es_env, tmp_path):
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        path = alerts_file(tmp_path, f"  - name: analysts\n    type: email\n    lang: zh\n    from: banwave@example.org\n"
                                     f"    to: [a@example.org, b@example.org]\n"
                                     f"    smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n"
                                     f"    events: [escalated]\n")
        alerts = load_alerts(path, {})
        outbox = outbox_for(es, es_env, tmp_path)
        made = make_alerts([RECORD], alerts, (25, 100), NOW - timedelta(days=5), NOW)
        assert [a["event"] for a in made] == ["escalated"]
        outbox.enqueue(made)
        assert sender(outbox, alerts).deliver_due(NOW)["delivered"] == 1
    finally:
        controller.stop()
    (raw,) = mailbox.messages
    mail = message_from_bytes(raw)
    assert str(make_header(decode_header(mail["Subject"]))) == "【banwave】封店潮升级：累计超过25篇：卖家「傲基」"
    assert mail["Message-ID"] == f"<{made[0]['alert_id']}@banwave.alerts>"
    assert mail["To"] == "a@example.org, b@example.org"
    text = mail.get_payload(decode=True).decode("utf-8")
    assert "自2021-05-01起相关文档25篇" in text and "链接：http://forum.example/t/1" in text


# ----------------------------------------------------------------------------- retries and failures

@pytest.mark.es
@pytest.mark.slow
def test_a_down_receiver_gets_the_alert_once_it_is_up_again(es, es_env, tmp_path, caplog):
    port = free_port()
    alerts = load_alerts(alerts_file(tmp_path, "  - {name: hook, type: webhook, lang: en, url_env: HOOK}\n"),
                         {"HOOK": f"http://127.0.0.1:{port}/hook/SECRET-TOKEN"})
    outbox = outbox_for(es, es_env, tmp_path)
    outbox.enqueue(make_alerts([RECORD], alerts, (25,), NOW - timedelta(days=5), NOW))
    send = sender(outbox, alerts, base=0.5)
    now = datetime.now(timezone.utc)
    assert send.deliver_due(now) == {"retry": 1, "skipped": 1}   # the channel is down: its second alert waits
    stored = [h["_source"] for h in es.search(index=es_env.alerts_alias)["hits"]["hits"]]
    failed = next(a for a in stored if a["attempts"] == 1)
    assert failed["status"] == PENDING and "Connection refused" in failed["last_error"]
    assert "SECRET-TOKEN" not in failed["last_error"] and "SECRET-TOKEN" not in caplog.text
    with Receiver(port) as receiver:
        assert send.deliver_due(now + timedelta(seconds=0.1)) == {"delivered": 1}   # not yet due: backoff
        assert send.deliver_due(now + timedelta(seconds=1)) == {"delivered": 1}
        assert send.deliver_due(now + timedelta(seconds=5)) == {}
    assert len(receiver.requests) == 2 and len(receiver.accepted) == 2
    assert {a["status"] for a in (h["_source"] for h in es.search(index=es_env.alerts_alias)["hits"]["hits"])} \
        == {DELIVERED}


@pytest.mark.es
@pytest.mark.slow
def test_refusals_a_bot_error_is_retried_a_4xx_is_failed_for_good(es, es_env, tmp_path):
    with Receiver(answer={"errcode": 310000, "errmsg": "sign not match"}) as bot, Receiver(status=404) as gone:
        alerts = load_alerts(alerts_file(tmp_path, "  - {name: bot, type: dingtalk, lang: zh, url_env: BOT, events: [emerging]}\n"
                                                   "  - {name: gone, type: slack, lang: en, url_env: GONE, events: [emerging]}\n"),
                             {"BOT": bot.url, "GONE": gone.url})
        outbox = outbox_for(es, es_env, tmp_path)
        outbox.enqueue(make_alerts([RECORD], alerts, (25,), NOW - timedelta(days=5), NOW))
        assert sender(outbox, alerts).deliver_due(NOW) == {"retry": 1, "failed": 1}
    stored = {h["_source"]["channel"]: h["_source"] for h in es.search(index=es_env.alerts_alias)["hits"]["hits"]}
    assert stored["bot"]["status"] == PENDING and "code 310000 sign not match" in stored["bot"]["last_error"]
    assert stored["gone"]["status"] == FAILED and stored["gone"]["last_error"].endswith("HTTP 404")


class Crash(Exception):
    """The sender process dying between the receiver's answer and the outbox write."""


@pytest.mark.es
@pytest.mark.slow
def test_a_crash_between_send_and_record_resends_with_the_same_key(es, es_env, tmp_path):
    """At least once: the alert is sent again after the crash. With the key: a receiver that honours it
    (this one) shows it once, although it got two requests."""
    with Receiver() as receiver:
        alerts = load_alerts(alerts_file(tmp_path, "  - {name: hook, type: webhook, lang: en, url_env: HOOK, events: [emerging]}\n"),
                             {"HOOK": receiver.url})
        outbox = outbox_for(es, es_env, tmp_path, lease=0.5)
        outbox.enqueue(make_alerts([RECORD], alerts, (25,), NOW - timedelta(days=5), NOW))

        class CrashingOutbox(Outbox):
            def record(self, doc):
                raise Crash()

        crashing = CrashingOutbox(es, es_env.alerts_alias, outbox.journal, 0.5)
        now = datetime.now(timezone.utc)
        with pytest.raises(Crash):
            sender(crashing, alerts).deliver_due(now)
        assert len(receiver.requests) == 1
        es.indices.refresh(index=es_env.alerts_alias)
        [claimed] = [h["_source"] for h in es.search(index=es_env.alerts_alias)["hits"]["hits"]]
        assert claimed["status"] == "sending"          # the claim was recorded, the delivery was not
        assert sender(outbox, alerts).deliver_due(now) == {}   # its lease still runs: nobody resends yet
        assert sender(outbox, alerts).deliver_due(now + timedelta(seconds=1)) == {"delivered": 1}
        assert sender(outbox, alerts).deliver_due(now + timedelta(seconds=60)) == {}
    first, second = receiver.requests
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]
    assert first["json"] == second["json"]
    assert len(receiver.accepted) == 1
    [stored] = [h["_source"] for h in es.search(index=es_env.alerts_alias)["hits"]["hits"]]
    assert stored["status"] == DELIVERED and stored["attempts"] == 1 + 1


@pytest.mark.es
@pytest.mark.slow
def test_elasticsearch_down_alerts_wait_in_the_journal_and_are_written_back(es, es_env, tmp_path):
    with Receiver() as receiver:
        alerts = load_alerts(alerts_file(tmp_path, "  - {name: hook, type: webhook, lang: en, url_env: HOOK}\n"),
                             {"HOOK": receiver.url})
        setup_indices(es, es_env.index_prefix)
        journal = Journal(tmp_path / "journal.sqlite")
        down = Elasticsearch(f"http://127.0.0.1:{free_port()}", request_timeout=1, max_retries=0)
        offline = Outbox(down, es_env.alerts_alias, journal, 300)
        made = make_alerts([RECORD], alerts, (25,), NOW - timedelta(days=5), NOW)
        assert offline.enqueue(made) == 2 and len(journal.docs()) == 2
        assert sender(offline, alerts).deliver_due(NOW) == {"delivered": 2}    # sent from the journal
        assert {d["status"] for d in journal.docs()} == {DELIVERED}
        online = Outbox(es, es_env.alerts_alias, journal, 300)
        assert sender(online, alerts).deliver_due(NOW) == {}                   # written back, nothing resent
        assert journal.docs() == [] and len(receiver.requests) == 2
    es.indices.refresh(index=es_env.alerts_alias)
    stored = [h["_source"] for h in es.search(index=es_env.alerts_alias)["hits"]["hits"]]
    assert sorted(a["alert_id"] for a in stored) == sorted(a["alert_id"] for a in made)
    assert {a["status"] for a in stored} == {DELIVERED}


# ----------------------------------------------------------------------------- end to end

@pytest.mark.es
@pytest.mark.slow
def test_update_alerts_recent_events_once_and_never_old_ones(es, es_env, tmp_path):
    from datetime import date
    start = date(2021, 1, 4)
    onset = start + timedelta(days=120)
    docs = history(start, quiet(150), kind="news")
    docs += history(onset, [4, 8, 12, 10, 7, 5, 3, 2], sellers=("傲基",), thread="t1")
    index(es, es_env, docs)
    cfg = waves_config()
    with Receiver() as receiver:
        alerts = load_alerts(alerts_file(tmp_path, "  - {name: hook, type: webhook, lang: en, url_env: HOOK, "
                                                   "scopes: [overall, seller]}\n"), {"HOOK": receiver.url})
        first = update(es, es_env, cfg, alerts, now=noon(onset + timedelta(days=1)))
        assert first.deliveries == {"delivered": 2}   # overall and seller emerging ("active" is not asked for)
        again = update(es, es_env, cfg, alerts, now=noon(onset + timedelta(days=1)))
        assert again.alerts_created == 0 and again.deliveries == {}
        escalated = update(es, es_env, cfg, alerts, now=noon(onset + timedelta(days=3)))
        assert escalated.deliveries == {"delivered": 2}   # 4 + 8 + 12 + 10 documents: past 25
        later = update(es, es_env, cfg, alerts, now=noon(onset + timedelta(days=40)))
        # 40 days on, the escalation and the end are weeks old: recorded in the waves, not sent
        assert later.alerts_created == 0
    events = sorted((r["json"]["wave"]["scope_kind"], r["json"]["event"]) for r in receiver.requests)
    assert events == [("overall", "emerging"), ("overall", "escalated"), ("seller", "emerging"), ("seller", "escalated")]
    assert len(receiver.accepted) == 4


# ----------------------------------------------------------------------------- the alerts file

@pytest.mark.parametrize("channels, environ, message", [
    ("  - {name: a, type: pager, lang: en, url_env: X}\n", {"X": "http://h"}, "channel 'a': field 'type': must be"),
    ("  - {name: a, type: slack, lang: fr, url_env: X}\n", {"X": "http://h"}, "channel 'a': field 'lang': must be zh or en"),
    ("  - {name: a, type: slack, lang: en}\n", {}, "channel 'a': field 'url_env': a slack channel needs url_env"),
    ("  - {name: a, type: slack, lang: en, url_env: X}\n", {}, "channel 'a': field 'url_env': X is not set"),
    ("  - {name: a, type: slack, lang: en, url_env: X}\n", {"X": "ftp://h"}, "X does not hold an http(s) URL"),
    ("  - {name: a, type: wecom, lang: zh, url_env: X, secret_env: Y}\n", {"X": "http://h", "Y": "s"},
     "field 'secret_env': wecom has no signing secret"),
    ("  - {name: a, type: email, lang: en, from: x@y.z, to: [q@y.z]}\n", {}, "field 'smtp': an email channel needs smtp"),
    ("  - {name: a, type: email, lang: en, from: x@y.z, to: [nobody], smtp: {host: h}}\n", {},
     "field 'to[0]': 'nobody' is not an email address"),
    ("  - {name: a, type: slack, lang: en, url_env: lower}\n", {}, "'lower' is not an environment variable name"),
    ("  - {name: a, type: slack, lang: en, url_env: X, events: [sometimes]}\n", {"X": "http://h"}, "field 'events[0]'"),
    ("  - {name: a, type: slack, lang: en, url_env: X}\n  - {name: a, type: slack, lang: en, url_env: X}\n",
     {"X": "http://h"}, "channel 'a': field 'name': duplicate channel name"),
])
def test_alerts_file_errors_are_one_line_naming_channel_and_field(tmp_path, channels, environ, message):
    with pytest.raises(AlertsError) as info:
        load_alerts(alerts_file(tmp_path, channels), environ)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith("alerts.yaml: ")


def test_alerts_example_and_demo_files_are_valid(tmp_path):
    from config import REPO_ROOT
    example = load_alerts(REPO_ROOT / "alerts.example.yaml", {
        "BANWAVE_WEBHOOK_URL": "https://hooks.example.org/banwave", "BANWAVE_WEBHOOK_SECRET": "x",
        "BANWAVE_FEISHU_WEBHOOK": "https://open.feishu.cn/open-apis/bot/v2/hook/x", "BANWAVE_FEISHU_SECRET": "y",
        "BANWAVE_DINGTALK_WEBHOOK": "https://oapi.dingtalk.com/robot/send?access_token=x",
        "BANWAVE_DINGTALK_SECRET": "z", "BANWAVE_WECOM_WEBHOOK": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
        "BANWAVE_SLACK_WEBHOOK": "https://hooks.slack.com/services/x", "BANWAVE_SMTP_PASSWORD": "p"})
    assert {c.type for c in example.channels} == {"webhook", "slack", "feishu", "dingtalk", "wecom", "email"}
    assert "https://hooks.example.org" not in repr(example)   # secrets are not in the repr
    demo = load_alerts(REPO_ROOT / "alerts.demo.yaml", {"BANWAVE_DEMO_WEBHOOK": "http://127.0.0.1:9/hook"})
    assert [c.type for c in demo.channels] == ["webhook"]
