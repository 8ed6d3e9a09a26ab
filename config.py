"""Environment configuration: the one place banwave reads ``os.environ``.

Every environment-specific value (Elasticsearch URL and credentials, index
prefix, data directory, Kibana URL, sources file) is read here, validated, and
handed to the rest of the code as a frozen :class:`Env`. A ``.env`` file in the
working directory (or the file named by ``BANWAVE_ENV_FILE``) is read first;
real environment variables win over it.

A wrong value raises :class:`ConfigError` whose message is one line naming the
variable; entry points print that line and exit 2 instead of a traceback.

Crawls get their configuration one way: ``crawl_settings(env, overrides)``
builds the Scrapy settings from settings.py's defaults (``get_project_settings``),
the validated :class:`Env` (setting ``BANWAVE_ENV``) and ``-s NAME=VALUE``
overrides, and components read the Env back with ``crawl_env(settings)``.
A crawl that Scrapy's own CLI starts (``scrapy crawl``) has no Env in its
settings until its spider reads the environment (``settings_with_env``). A
crawl subprocess receives its parent's Env as environment variables
(``child_environ``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import urlsplit

from dotenv import dotenv_values

if TYPE_CHECKING:
    from scrapy.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent

# name -> (default, one-line description); README's configuration table mirrors this.
VARIABLES: dict[str, tuple[str, str]] = {
    "BANWAVE_ES_URL": ("", "Elasticsearch URL, e.g. http://127.0.0.1:9200; empty = none configured (crawls spool to disk)"),
    "BANWAVE_ES_USERNAME": ("", "basic-auth user for Elasticsearch (with BANWAVE_ES_PASSWORD)"),
    "BANWAVE_ES_PASSWORD": ("", "basic-auth password for Elasticsearch (secret)"),
    "BANWAVE_ES_API_KEY": ("", "Elasticsearch API key, base64 'id:key' form (secret); wins over basic auth"),
    "BANWAVE_ES_CA_CERT": ("", "path to the CA certificate that signed Elasticsearch's HTTPS certificate"),
    "BANWAVE_ES_TIMEOUT": ("30", "Elasticsearch request timeout in seconds"),
    "BANWAVE_INDEX_PREFIX": ("banwave", "prefix of index, alias and template names (<prefix>-docs, <prefix>-runs)"),
    "BANWAVE_DATA_DIR": (".data", "directory for crawl state, spool, dead letters and the job store (relative to the working directory)"),
    "BANWAVE_SOURCES": ("sources.yaml", "path of the sources file"),
    "BANWAVE_ALERTS": ("", "path of the alerts file (channels and thresholds); empty = waves are tracked, no alerts sent"),
    "BANWAVE_KIBANA_URL": ("http://127.0.0.1:5601", "Kibana URL for `banwave kibana import`"),
    "BANWAVE_KIBANA_API_KEY": ("", "Kibana API key (secret); without it the Elasticsearch basic-auth credentials are used"),
    "BANWAVE_LOG_LEVEL": ("INFO", "log level of the entry points: DEBUG, INFO, WARNING or ERROR"),
}

_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,60}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message is one line naming it."""


@dataclass(frozen=True)
class Env:
    """Validated environment configuration."""

    es_url: str
    es_username: str
    es_password: str = field(repr=False)
    es_api_key: str = field(repr=False)
    es_ca_cert: str
    es_timeout: int
    index_prefix: str
    data_dir: Path
    sources: Path
    alerts: Path | None
    kibana_url: str
    kibana_api_key: str = field(repr=False)
    log_level: str

    @property
    def docs_alias(self) -> str:
        return f"{self.index_prefix}-docs"

    @property
    def runs_alias(self) -> str:
        return f"{self.index_prefix}-runs"

    @property
    def waves_alias(self) -> str:
        return f"{self.index_prefix}-waves"

    @property
    def alerts_alias(self) -> str:
        return f"{self.index_prefix}-alerts"

    def as_environ(self) -> dict[str, str]:
        """The variables that ``load`` turns back into this Env (for a crawl subprocess)."""
        return {
            "BANWAVE_ES_URL": self.es_url, "BANWAVE_ES_USERNAME": self.es_username,
            "BANWAVE_ES_PASSWORD": self.es_password, "BANWAVE_ES_API_KEY": self.es_api_key,
            "BANWAVE_ES_CA_CERT": self.es_ca_cert, "BANWAVE_ES_TIMEOUT": str(self.es_timeout),
            "BANWAVE_INDEX_PREFIX": self.index_prefix, "BANWAVE_DATA_DIR": str(self.data_dir),
            "BANWAVE_SOURCES": str(self.sources), "BANWAVE_ALERTS": str(self.alerts) if self.alerts else "",
            "BANWAVE_KIBANA_URL": self.kibana_url,
            "BANWAVE_KIBANA_API_KEY": self.kibana_api_key, "BANWAVE_LOG_LEVEL": self.log_level,
        }

    def require_es(self) -> str:
        """Return the Elasticsearch URL or raise if none is configured."""
        if not self.es_url:
            raise ConfigError("BANWAVE_ES_URL is not set: give the Elasticsearch URL, e.g. http://127.0.0.1:9200")
        return self.es_url


def _url(name: str, value: str, *, required: bool) -> str:
    if not value:
        if required:
            raise ConfigError(f"{name} is not set")
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}={value!r} is not an http(s) URL such as http://127.0.0.1:9200")
    if parts.username or parts.password:
        raise ConfigError(f"{name} must not carry credentials; use BANWAVE_ES_USERNAME/BANWAVE_ES_PASSWORD or an API key")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{name}={value!r} has an invalid port") from None
    return value.rstrip("/")


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if number <= 0:
        raise ConfigError(f"{name}={value!r} must be greater than 0")
    return number


def load(environ: Mapping[str, str] | None = None, *, env_file: str | os.PathLike | None = None) -> Env:
    """Read, validate and return the configuration.

    ``environ`` defaults to ``os.environ``; values from the ``.env`` file fill
    in only variables the environment does not set.
    """
    environ = os.environ if environ is None else environ
    path = Path(env_file or environ.get("BANWAVE_ENV_FILE") or ".env")
    file_values = {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}
    if environ.get("BANWAVE_ENV_FILE") and not path.is_file():
        raise ConfigError(f"BANWAVE_ENV_FILE={str(path)!r} does not exist")

    def get(name: str) -> str:
        return str(environ.get(name, file_values.get(name, VARIABLES[name][0]))).strip()

    ca_cert = get("BANWAVE_ES_CA_CERT")
    if ca_cert and not Path(ca_cert).is_file():
        raise ConfigError(f"BANWAVE_ES_CA_CERT={ca_cert!r} is not a readable file")
    username, password = get("BANWAVE_ES_USERNAME"), get("BANWAVE_ES_PASSWORD")
    if bool(username) != bool(password):
        raise ConfigError("BANWAVE_ES_USERNAME and BANWAVE_ES_PASSWORD must be set together")
    prefix = get("BANWAVE_INDEX_PREFIX")
    if not _PREFIX_RE.match(prefix):
        raise ConfigError(f"BANWAVE_INDEX_PREFIX={prefix!r} must be lowercase letters, digits, '-' or '_'")
    log_level = get("BANWAVE_LOG_LEVEL").upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"BANWAVE_LOG_LEVEL={log_level!r} must be one of {', '.join(_LOG_LEVELS)}")
    data_dir = get("BANWAVE_DATA_DIR")
    if not data_dir:
        raise ConfigError("BANWAVE_DATA_DIR is empty")

    return Env(
        es_url=_url("BANWAVE_ES_URL", get("BANWAVE_ES_URL"), required=False),
        es_username=username,
        es_password=password,
        es_api_key=get("BANWAVE_ES_API_KEY"),
        es_ca_cert=ca_cert,
        es_timeout=_positive_int("BANWAVE_ES_TIMEOUT", get("BANWAVE_ES_TIMEOUT")),
        index_prefix=prefix,
        data_dir=Path(data_dir).expanduser().resolve(),
        sources=Path(get("BANWAVE_SOURCES")).expanduser(),
        alerts=Path(get("BANWAVE_ALERTS")).expanduser() if get("BANWAVE_ALERTS") else None,
        kibana_url=_url("BANWAVE_KIBANA_URL", get("BANWAVE_KIBANA_URL"), required=False),
        kibana_api_key=get("BANWAVE_KIBANA_API_KEY"),
        log_level=log_level,
    )


_SECRET_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def secret(name: str, environ: Mapping[str, str] | None = None, *,
           env_file: str | os.PathLike | None = None) -> str:
    """The value of the environment variable ``name`` that a config file names for a secret
    (a webhook URL, an SMTP password, a bot's signing key); raise ConfigError if it is unset or empty.

    Like :func:`load`, a ``.env`` file fills in what the environment does not set.
    The value is never logged or put in a message.
    """
    if not _SECRET_NAME_RE.match(name):
        raise ConfigError(f"{name!r} is not an environment variable name (A-Z, 0-9 and _)")
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    if value is None:
        path = Path(env_file or environ.get("BANWAVE_ENV_FILE") or ".env")
        value = dotenv_values(path).get(name) if path.is_file() else None
    if not value or not value.strip():
        raise ConfigError(f"{name} is not set (named in the alerts file)")
    return value.strip()


def child_environ(env: Env) -> dict[str, str]:
    """The environment of a subprocess that must see exactly ``env`` (a crawl started by the
    scheduler or the demo): this process's environment with every one of ``env``'s variables on
    top, so a ``.env`` file can no longer change them."""
    return {**os.environ, **env.as_environ()}


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """``NAME=VALUE`` strings (``-s`` options) as a dict; a malformed one raises ConfigError."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"-s needs NAME=VALUE, got {pair!r}")
        overrides[name.strip()] = value
    return overrides


def crawl_settings(env: Env, overrides: Mapping[str, Any] | None = None) -> "Settings":
    """The Scrapy settings of a crawl: settings.py's defaults, ``env`` and its log level, then
    ``overrides`` (``-s NAME=VALUE``) on top. The one builder every banwave entry point uses."""
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.set("BANWAVE_ENV", env, priority="cmdline")
    settings.set("LOG_LEVEL", env.log_level, priority="cmdline")
    settings.setdict(dict(overrides or {}), priority="cmdline")
    return settings


def crawl_env(settings: "Settings") -> Env:
    """The Env a crawl was configured with (by ``crawl_settings`` or ``settings_with_env``)."""
    env = settings.get("BANWAVE_ENV")
    if not isinstance(env, Env):
        from scrapy.exceptions import NotConfigured

        raise NotConfigured("the BANWAVE_ENV setting holds no config.Env: build the settings with "
                            "config.crawl_settings()")
    return env


def settings_with_env(settings: "Settings") -> Env:
    """``crawl_env``, after reading the environment into settings that have no Env yet: a crawl
    started by Scrapy's own CLI (``scrapy crawl``) has only settings.py, and its ``-s
    BANWAVE_...=VALUE`` options stand in for those variables. Spiders call this first, while the
    settings can still change; banwave's own entry points have set the Env already."""
    if settings.get("BANWAVE_ENV") is None:
        given = {name: str(settings[name]) for name in VARIABLES if settings.get(name) is not None}
        env = load({**os.environ, **given})
        settings.set("BANWAVE_ENV", env, priority="project")
        settings.set("LOG_LEVEL", env.log_level, priority="project")
    return crawl_env(settings)
