"""The alerts file: channels and their thresholds, validated like the sources file.

``load_alerts(path)`` reads YAML of the form ``{kibana_url: ..., channels: [...]}``
(see alerts.example.yaml and docs/waves.md) and returns :class:`AlertsConfig`
with every channel's secrets resolved from the environment variables it
names (``url_env``, ``secret_env``, ``smtp.password_env``; read through
``config.secret``, never from the file). Any problem raises
:class:`AlertsError` whose message is one line naming the file, the channel
and the field, e.g. ``alerts.yaml: channel 'ops': field 'lang': must be zh or en``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

import config
from crawlers.sources import _describe, _FieldProblem
from waves.signals import SCOPE_KINDS
from waves.tracker import EVENTS

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
ENV_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
HTTP_TYPES = ("webhook", "slack", "feishu", "lark", "dingtalk", "wecom")
SIGNED_TYPES = ("webhook", "feishu", "lark", "dingtalk")  # the ones that can sign with a secret


class AlertsError(ValueError):
    """The alerts file is unreadable or invalid, or a secret it names is not set; one line."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _env_name(value: str | None) -> str | None:
    if value is not None and not ENV_NAME_RE.match(value):
        raise ValueError(f"{value!r} is not an environment variable name (A-Z, 0-9 and _)")
    return value


class Smtp(_Model):
    """The mail server of an email channel; its password comes from the variable ``password_env``."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None

    @field_validator("password_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        return _env_name(value)

    @model_validator(mode="after")
    def _login_pair(self) -> "Smtp":
        if bool(self.username) != bool(self.password_env):
            raise _FieldProblem("password_env", "give username and password_env together")
        return self


class Channel(_Model):
    """One place alerts go; ``events``/``scopes``/``min_documents`` are its thresholds."""

    name: str
    type: Literal["webhook", "slack", "feishu", "lark", "dingtalk", "wecom", "email"]
    lang: Literal["zh", "en"]
    url_env: str | None = None
    secret_env: str | None = None
    smtp: Smtp | None = None
    sender: str | None = Field(default=None, alias="from")
    to: list[str] = []
    events: list[Literal["emerging", "active", "subsiding", "escalated", "over"]] = ["emerging", "escalated", "over"]
    scopes: list[Literal["overall", "platform", "seller", "source_kind"]] = list(SCOPE_KINDS)
    min_documents: int = Field(default=0, ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("url_env", "secret_env")
    @classmethod
    def _envs(cls, value: str | None) -> str | None:
        return _env_name(value)

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not NAME_RE.match(name):
            raise ValueError("must be a slug: lowercase letters, digits and '-', at most 40 characters")
        return name

    @field_validator("to")
    @classmethod
    def _addresses(cls, to: list[str]) -> list[str]:
        for i, address in enumerate(to):
            if "@" not in address or " " in address.strip():
                raise _FieldProblem(f"[{i}]", f"{address!r} is not an email address")
        return to

    @model_validator(mode="after")
    def _fits_type(self) -> "Channel":
        if self.type == "email":
            if self.smtp is None:
                raise _FieldProblem("smtp", "an email channel needs smtp: {host: ...}")
            if not self.sender or "@" not in self.sender:
                raise _FieldProblem("from", "an email channel needs a from address")
            if not self.to:
                raise _FieldProblem("to", "an email channel needs at least one address")
            if self.url_env or self.secret_env:
                raise _FieldProblem("url_env", "url_env and secret_env are for webhook-style channels")
        else:
            if not self.url_env:
                raise _FieldProblem("url_env", f"a {self.type} channel needs url_env, the variable holding its URL")
            if self.smtp or self.sender or self.to:
                raise _FieldProblem("smtp", "smtp, from and to are for email channels")
            if self.secret_env and self.type not in SIGNED_TYPES:
                raise _FieldProblem("secret_env", f"{self.type} has no signing secret (only {', '.join(SIGNED_TYPES)})")
        if not self.events:
            raise _FieldProblem("events", f"give at least one of {', '.join(EVENTS)}")
        return self


class AlertsFile(_Model):
    kibana_url: str | None = None
    channels: list[Channel] = []

    @field_validator("kibana_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) URL")
            return url.rstrip("/")
        return url


@dataclass(frozen=True)
class Secrets:
    """A channel's resolved secrets: never printed (repr hides them)."""

    url: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class AlertsConfig:
    kibana_url: str | None
    channels: list[Channel]
    secrets: dict[str, Secrets] = field(repr=False)

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)


def load_alerts(path: str | Path, environ: Mapping[str, str] | None = None) -> AlertsConfig:
    """Read and validate an alerts file and resolve its channels' secrets; raise AlertsError."""
    path = Path(path)
    label = path.name
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise AlertsError(f"{path}: cannot read the alerts file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise AlertsError(f"{label}: {where}invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise AlertsError(f"{label}: expected a mapping with a 'channels' list at the top")
    unknown = {key for key in data if key not in ("channels", "kibana_url") and not str(key).startswith("x-")}
    if unknown:
        raise AlertsError(f"{label}: unknown top-level key {sorted(unknown)[0]!r}")
    raw_channels = data.get("channels") or []
    if not isinstance(raw_channels, list):
        raise AlertsError(f"{label}: 'channels' must be a list")
    try:
        top = AlertsFile.model_validate({"kibana_url": data.get("kibana_url")})
    except ValidationError as exc:
        raise AlertsError(f"{label}: {_describe(exc)}") from None
    channels, secrets = [], {}
    for i, raw in enumerate(raw_channels):
        who = f"channel {raw.get('name')!r}" if isinstance(raw, dict) and raw.get("name") else f"channel #{i + 1}"
        if not isinstance(raw, dict):
            raise AlertsError(f"{label}: {who}: expected a mapping of fields")
        try:
            channel = Channel.model_validate(raw)
        except ValidationError as exc:
            raise AlertsError(f"{label}: {who}: {_describe(exc)}") from None
        if channel.name in secrets:
            raise AlertsError(f"{label}: {who}: field 'name': duplicate channel name")
        secrets[channel.name] = _resolve(label, who, channel, environ)
        channels.append(channel)
    return AlertsConfig(kibana_url=top.kibana_url, channels=channels, secrets=secrets)


def _resolve(label: str, who: str, channel: Channel, environ: Mapping[str, str] | None) -> Secrets:
    def get(field_name: str, name: str | None) -> str:
        if not name:
            return ""
        try:
            return config.secret(name, environ)
        except config.ConfigError as exc:
            raise AlertsError(f"{label}: {who}: field {field_name!r}: {exc}") from None

    url = get("url_env", channel.url_env)
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AlertsError(f"{label}: {who}: field 'url_env': {channel.url_env} does not hold an http(s) URL")
    return Secrets(url=url, secret=get("secret_env", channel.secret_env),
                   password=get("smtp.password_env", channel.smtp.password_env if channel.smtp else None))
