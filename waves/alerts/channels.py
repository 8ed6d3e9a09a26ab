"""Delivery to one channel: the request each kind of receiver expects, and what counts as accepted.

- ``webhook``: the whole alert as JSON (``idempotency_key``, event, wave summary,
  subject, text, link); headers ``Idempotency-Key`` and, with a secret,
  ``X-Banwave-Signature: sha256=<hex HMAC of the body>``. 2xx is accepted.
- ``slack``: ``{"text": ...}`` to an incoming-webhook URL (Slack, Mattermost, Rocket.Chat).
- ``feishu``/``lark``: ``{"msg_type": "text", ...}``; with a secret, ``timestamp`` and
  ``sign`` = base64(HMAC-SHA256 with key "timestamp\\nsecret" over an empty message);
  accepted when the answer's ``code`` (or ``StatusCode``) is 0.
- ``dingtalk``: ``{"msgtype": "text", ...}``; with a secret, ``timestamp`` (ms) and
  ``sign`` = base64(HMAC-SHA256 with key secret over "timestamp\\nsecret") in the URL;
  accepted when ``errcode`` is 0.
- ``wecom``: ``{"msgtype": "text", ...}``; accepted when ``errcode`` is 0.
- ``email``: SMTP (STARTTLS, SSL or plain), ``Message-ID`` derived from the
  idempotency key, which is also in an ``X-Banwave-Idempotency-Key`` header.

The group bots do not deduplicate by key; the idempotency key still travels
in every request (header and JSON where the format allows it) for receivers
that do. A failure raises :class:`DeliveryError`; ``permanent`` ones (HTTP 4xx
other than 408/429, a refused SMTP login) will not succeed by retrying.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.parse
from email.message import EmailMessage
from email.utils import formatdate

import urllib3

from waves.alerts.config import Channel, Secrets
from waves.alerts.messages import Message

_http = urllib3.PoolManager(retries=False)  # the outbox does the retrying, with backoff


class DeliveryError(RuntimeError):
    """A delivery attempt failed; the message is one line without secrets."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def send(channel: Channel, secrets: Secrets, message: Message, key: str, payload: dict, timeout: float) -> None:
    """Deliver ``message`` (``payload``: the webhook's JSON) to ``channel``; raise DeliveryError."""
    if channel.type == "email":
        _send_email(channel, secrets, message, key, timeout)
        return
    url, body = secrets.url, _body(channel, secrets, message, key, payload)
    if channel.type == "dingtalk" and secrets.secret:
        url = _dingtalk_signed(url, secrets.secret)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key,
               "User-Agent": "banwave-alerts/0.1"}
    if channel.type == "webhook" and secrets.secret:
        digest = hmac.new(secrets.secret.encode(), data, hashlib.sha256).hexdigest()
        headers["X-Banwave-Signature"] = f"sha256={digest}"
    try:
        response = _http.request("POST", url, body=data, headers=headers,
                                 timeout=urllib3.Timeout(total=timeout), redirect=False)
    except urllib3.exceptions.HTTPError as exc:
        reason = _reason(exc).replace(urllib.parse.urlsplit(url).path, "/...")  # the path may hold the token
        raise DeliveryError(f"{channel.type} {_host(url)}: {type(exc).__name__}: {reason}") from None
    if not 200 <= response.status < 300:
        permanent = 400 <= response.status < 500 and response.status not in (408, 429)
        raise DeliveryError(f"{channel.type} {_host(url)}: HTTP {response.status}", permanent=permanent)
    _check_answer(channel, url, response.data)


def _body(channel: Channel, secrets: Secrets, message: Message, key: str, payload: dict) -> dict:
    if channel.type == "webhook":
        return payload
    if channel.type == "slack":
        return {"text": message.text}
    if channel.type in ("feishu", "lark"):
        body: dict = {"msg_type": "text", "content": {"text": message.text}}
        if secrets.secret:
            timestamp = str(int(time.time()))
            sign = hmac.new(f"{timestamp}\n{secrets.secret}".encode(), b"", hashlib.sha256).digest()
            body.update(timestamp=timestamp, sign=base64.b64encode(sign).decode())
        return body
    # dingtalk and wecom share the shape
    return {"msgtype": "text", "text": {"content": message.text}}


def _dingtalk_signed(url: str, secret: str) -> str:
    timestamp = str(int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def _check_answer(channel: Channel, url: str, data: bytes) -> None:
    """Group bots answer HTTP 200 with an error code in the body when they refuse a message."""
    if channel.type not in ("feishu", "lark", "dingtalk", "wecom"):
        return
    try:
        answer = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DeliveryError(f"{channel.type} {_host(url)}: the answer is not JSON") from None
    code = answer.get("errcode") if channel.type in ("dingtalk", "wecom") else answer.get("code", answer.get("StatusCode"))
    if code != 0:
        reason = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        raise DeliveryError(f"{channel.type} {_host(url)}: refused, code {code} {reason}".rstrip())


def _send_email(channel: Channel, secrets: Secrets, message: Message, key: str, timeout: float) -> None:
    smtp = channel.smtp
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = channel.sender
    mail["To"] = ", ".join(channel.to)
    mail["Date"] = formatdate(localtime=False)
    # The same alert always has the same Message-ID: mail systems that dedupe by it show a resend once.
    mail["Message-ID"] = f"<{key}@banwave.alerts>"
    mail["X-Banwave-Idempotency-Key"] = key
    mail.set_content(message.text, charset="utf-8")
    try:
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, secrets.password)
            client.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"email {smtp.host}:{smtp.port}: login refused ({exc.smtp_code})", permanent=True) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"email {smtp.host}:{smtp.port}: {exc}", permanent=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"email {smtp.host}:{smtp.port}: {type(exc).__name__}: {_reason(exc)}") from None


def _host(url: str) -> str:
    """Where a request went, without the path or query (webhook URLs carry their tokens there)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "reason", None) or exc)
    return text.split("\n")[0][:200]
