"""Environment configuration: the one place banwave reads ``os.environ``.

Every environment-specific value (Elasticsearch URL and credentials, index
prefix, data directory, Kibana URL, sources file) is read here, validated, and
handed to the rest of the code as a frozen :class:`Env`. A ``.env`` file in the
working directory (or the file named by ``BANWAVE_ENV_FILE``) is read first;
real environment variables win over it.

A wrong value raises :class:`ConfigError` whose message is one line naming the
variable; entry points print that line and exit 2 instead of a traceback. The
same holds for Scrapy settings (``SETTING_RULES``, :class:`SettingError`):
every crawl's settings are checked when they are built, so a bad value stops
``banwave crawl``, ``banwave schedule`` and ``scrapy crawl`` at the start
instead of turning a stage off.

Crawls get their configuration one way: ``crawl_settings(env, overrides)``
builds the Scrapy settings from settings.py's defaults (the ``settings`` module),
the validated :class:`Env` (setting ``BANWAVE_ENV``) and ``-s NAME=VALUE``
overrides, and components read the Env back with ``crawl_env(settings)``.
A crawl that Scrapy's own CLI starts (``scrapy crawl``) has no Env in its
settings until its spider reads the environment (``settings_with_env``). A
crawl subprocess receives its parent's Env as environment variables
(``child_environ``).
"""
from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import urlsplit

from dotenv import dotenv_values
from dotenv.parser import parse_stream

if TYPE_CHECKING:
    from scrapy.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent

# name -> (default, one-line description); README's configuration table mirrors this.
VARIABLES: dict[str, tuple[str, str]] = {
    "BANWAVE_ES_URL": ("", "Elasticsearch URL, e.g. http://127.0.0.1:9200, or several nodes' URLs separated by commas; "
                           "empty = none configured (crawls spool to disk)"),
    "BANWAVE_ES_USERNAME": ("", "basic-auth user for Elasticsearch (with BANWAVE_ES_PASSWORD)"),
    "BANWAVE_ES_PASSWORD": ("", "basic-auth password for Elasticsearch (secret)"),
    "BANWAVE_ES_API_KEY": ("", "Elasticsearch API key, base64 'id:key' form (secret); wins over basic auth"),
    "BANWAVE_ES_CA_CERT": ("", "path to the CA certificate that signed Elasticsearch's HTTPS certificate"),
    "BANWAVE_REDIS_URL": ("", "Redis URL of the shared crawl frontier, e.g. redis://10.0.0.5:6379/0 (a password, if any, "
                              "in the URL: secret); empty = every crawl runs in one process (docs/scaling.md)"),
    "BANWAVE_ES_TIMEOUT": ("30", "Elasticsearch request timeout in seconds"),
    "BANWAVE_INDEX_PREFIX": ("banwave", "prefix of index, alias and template names (<prefix>-docs, <prefix>-runs)"),
    "BANWAVE_DATA_DIR": (".data", "directory for crawl state, spool, dead letters and the job store (relative to the working directory)"),
    "BANWAVE_SOURCES": ("sources.yaml", "path of the sources file"),
    "BANWAVE_ALERTS": ("", "path of the alerts file (channels and thresholds); empty = waves are tracked, no alerts sent"),
    "BANWAVE_KIBANA_URL": ("http://127.0.0.1:5601", "Kibana URL for `banwave kibana import`"),
    "BANWAVE_KIBANA_API_KEY": ("", "Kibana API key (secret); preferred over every other credential for Kibana"),
    "BANWAVE_KIBANA_USERNAME": ("", "Kibana user (with BANWAVE_KIBANA_PASSWORD); without a Kibana credential the "
                                    "Elasticsearch ones are used, with a warning"),
    "BANWAVE_KIBANA_PASSWORD": ("", "password of BANWAVE_KIBANA_USERNAME (secret)"),
    "BANWAVE_KIBANA_CA_CERT": ("", "path to the CA certificate that signed Kibana's HTTPS certificate"),
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
    redis_url: str = field(repr=False)  # may carry a password
    index_prefix: str
    data_dir: Path
    sources: Path
    alerts: Path | None
    kibana_url: str
    kibana_api_key: str = field(repr=False)
    kibana_username: str
    kibana_password: str = field(repr=False)
    kibana_ca_cert: str
    log_level: str

    @property
    def es_urls(self) -> list[str]:
        """The Elasticsearch nodes' URLs (``es_url`` is them joined by commas)."""
        return self.es_url.split(",") if self.es_url else []

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
            "BANWAVE_REDIS_URL": self.redis_url,
            "BANWAVE_INDEX_PREFIX": self.index_prefix, "BANWAVE_DATA_DIR": str(self.data_dir),
            "BANWAVE_SOURCES": str(self.sources), "BANWAVE_ALERTS": str(self.alerts) if self.alerts else "",
            "BANWAVE_KIBANA_URL": self.kibana_url,
            "BANWAVE_KIBANA_API_KEY": self.kibana_api_key, "BANWAVE_LOG_LEVEL": self.log_level,
            "BANWAVE_KIBANA_USERNAME": self.kibana_username, "BANWAVE_KIBANA_PASSWORD": self.kibana_password,
            "BANWAVE_KIBANA_CA_CERT": self.kibana_ca_cert,
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


def _urls(name: str, value: str) -> str:
    """One URL or several, separated by commas (the nodes of one cluster); normalised, joined by commas."""
    if not value:
        return ""
    parts = [part.strip() for part in value.split(",")]
    if not all(parts):
        raise ConfigError(f"{name}={value!r} has an empty entry between its commas")
    urls = [_url(name, part, required=True) for part in parts]
    if len(set(urls)) != len(urls):
        raise ConfigError(f"{name}={value!r} names a node twice")
    return ",".join(urls)


def _redis_url(name: str, value: str) -> str:
    """A redis:// or rediss:// URL with a host, or a unix:// socket path; empty = no Redis."""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"{name} is not a redis://, rediss:// or unix:// URL such as redis://127.0.0.1:6379/0")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{name} has an invalid port") from None
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(f"{name} names no host, e.g. redis://127.0.0.1:6379/0")
    if parts.scheme == "unix" and not parts.path:
        raise ConfigError(f"{name} names no socket path, e.g. unix:///run/redis/redis.sock")
    database = parts.path.strip("/") if parts.scheme != "unix" else ""
    if database and not database.isdigit():
        raise ConfigError(f"{name}: the database after the host must be a number (redis://host:6379/0)")
    return value


def _file(name: str, value: str) -> str:
    if value and not Path(value).is_file():
        raise ConfigError(f"{name}={value!r} is not a readable file")
    return value


def _directory(name: str, value: str) -> Path:
    """A directory path that exists or can be created: no part of it may be a file."""
    if not value:
        raise ConfigError(f"{name} is empty")
    path = Path(value).expanduser().resolve()
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise ConfigError(f"{name}={value!r} is not a directory: {part} is a file")
            break
    return path


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a ``.env`` file; a line that is not NAME=VALUE is an error naming its number
    (python-dotenv would skip it, and banwave would run without, e.g., its Elasticsearch URL)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror}") from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:  # the line is not echoed: it may hold a secret
            raise ConfigError(f"{path}: line {binding.original.line} is not NAME=VALUE")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def _positive_int(name: str, value: str, maximum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if not 0 < number <= maximum:
        raise ConfigError(f"{name}={value!r} must be between 1 and {maximum}")
    return number


def load(environ: Mapping[str, str] | None = None, *, env_file: str | os.PathLike | None = None) -> Env:
    """Read, validate and return the configuration.

    ``environ`` defaults to ``os.environ``; values from the ``.env`` file fill
    in only variables the environment does not set.
    """
    environ = os.environ if environ is None else environ
    path = Path(env_file or environ.get("BANWAVE_ENV_FILE") or ".env")
    if environ.get("BANWAVE_ENV_FILE") and not path.is_file():
        raise ConfigError(f"BANWAVE_ENV_FILE={str(path)!r} does not exist")
    file_values = read_env_file(path) if path.is_file() else {}

    def get(name: str) -> str:
        return str(environ.get(name, file_values.get(name, VARIABLES[name][0]))).strip()

    username, password = get("BANWAVE_ES_USERNAME"), get("BANWAVE_ES_PASSWORD")
    if bool(username) != bool(password):
        raise ConfigError("BANWAVE_ES_USERNAME and BANWAVE_ES_PASSWORD must be set together")
    kibana_username, kibana_password = get("BANWAVE_KIBANA_USERNAME"), get("BANWAVE_KIBANA_PASSWORD")
    if bool(kibana_username) != bool(kibana_password):
        raise ConfigError("BANWAVE_KIBANA_USERNAME and BANWAVE_KIBANA_PASSWORD must be set together")
    prefix = get("BANWAVE_INDEX_PREFIX")
    if not _PREFIX_RE.match(prefix):
        raise ConfigError(f"BANWAVE_INDEX_PREFIX={prefix!r} must be lowercase letters, digits, '-' or '_'")
    log_level = get("BANWAVE_LOG_LEVEL").upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"BANWAVE_LOG_LEVEL={log_level!r} must be one of {', '.join(_LOG_LEVELS)}")

    return Env(
        es_url=_urls("BANWAVE_ES_URL", get("BANWAVE_ES_URL")),
        es_username=username,
        es_password=password,
        es_api_key=get("BANWAVE_ES_API_KEY"),
        es_ca_cert=_file("BANWAVE_ES_CA_CERT", get("BANWAVE_ES_CA_CERT")),
        es_timeout=_positive_int("BANWAVE_ES_TIMEOUT", get("BANWAVE_ES_TIMEOUT"), 3600),
        redis_url=_redis_url("BANWAVE_REDIS_URL", get("BANWAVE_REDIS_URL")),
        index_prefix=prefix,
        data_dir=_directory("BANWAVE_DATA_DIR", get("BANWAVE_DATA_DIR")),
        sources=Path(get("BANWAVE_SOURCES")).expanduser(),
        alerts=Path(get("BANWAVE_ALERTS")).expanduser() if get("BANWAVE_ALERTS") else None,
        kibana_url=_url("BANWAVE_KIBANA_URL", get("BANWAVE_KIBANA_URL"), required=False),
        kibana_api_key=get("BANWAVE_KIBANA_API_KEY"),
        kibana_username=kibana_username,
        kibana_password=kibana_password,
        kibana_ca_cert=_file("BANWAVE_KIBANA_CA_CERT", get("BANWAVE_KIBANA_CA_CERT")),
        log_level=log_level,
    )


class SettingError(ConfigError):
    """A Scrapy setting has a wrong value; the message is one line naming it, e.g.
    ``INDEX_BATCH_DOCS=0 must be at least 1``. Raised at the start of every
    crawl, scheduler and replay, never turned into a silent "off"."""


@dataclass(frozen=True)
class Rule:
    """What a setting's value must be: ``kind`` bool, int, float, zone, replicas or choice (one of
    ``choices``); numbers within bounds."""

    kind: str
    choices: tuple[str, ...] = ()
    low: float | None = None      # at least this
    above: float | None = None    # greater than this
    high: float | None = None     # at most this


_DAY, _WEEK = 86400.0, 7 * 86400.0
# Only `*_ENABLED = False` turns a stage off; any other bad value is an error. Durations have an upper
# bound so that a typo (1e20) is an error here rather than an overflow deep in a timer.
SETTING_RULES: dict[str, Rule] = {
    # politeness, limits, crawl state (settings.py; Scrapy's own where banwave relies on them)
    "ROBOTSTXT_OBEY": Rule("bool"), "AUTOTHROTTLE_ENABLED": Rule("bool"), "RETRY_ENABLED": Rule("bool"),
    "BANWAVE_RESUME": Rule("bool"), "TELNETCONSOLE_ENABLED": Rule("bool"), "REMOTE_CONTROL_ENABLED": Rule("bool"),
    "AUTOTHROTTLE_START_DELAY": Rule("float", low=0, high=_DAY),
    "AUTOTHROTTLE_MAX_DELAY": Rule("float", low=0, high=_DAY),
    "AUTOTHROTTLE_TARGET_CONCURRENCY": Rule("float", above=0, high=1000),
    "CONCURRENT_REQUESTS": Rule("int", low=1, high=10000),
    "CONCURRENT_REQUESTS_PER_DOMAIN": Rule("int", low=1, high=1000),
    "DOWNLOAD_DELAY": Rule("float", low=0, high=_DAY),
    "RETRY_TIMES": Rule("int", low=0, high=100),
    "BANWAVE_RETRY_BACKOFF_BASE": Rule("float", low=0, high=_DAY),
    "BANWAVE_RETRY_BACKOFF_MAX": Rule("float", low=0, high=_DAY),
    "DOWNLOAD_MAXSIZE": Rule("int", low=1),  # 0 would mean no cap at all (and no cap on decompression)
    "DOWNLOAD_WARNSIZE": Rule("int", low=0),
    "DOWNLOAD_TIMEOUT": Rule("float", above=0, high=_DAY),
    "REDIRECT_MAX_TIMES": Rule("int", low=0, high=100),
    "CLOSESPIDER_PAGECOUNT": Rule("int", low=0), "CLOSESPIDER_ITEMCOUNT": Rule("int", low=0),
    "CLOSESPIDER_ERRORCOUNT": Rule("int", low=0), "CLOSESPIDER_TIMEOUT": Rule("float", low=0, high=_WEEK),
    # extraction and cleaning
    "EXTRACT_ENABLED": Rule("bool"), "EXTRACT_FALLBACK": Rule("bool"), "CLEAN_ENABLED": Rule("bool"),
    "EXTRACT_MIN_CHARS": Rule("int", low=0), "EXTRACT_MIN_POST_CHARS": Rule("int", low=0),
    "EXTRACT_FALLBACK_TABLE_SHARE": Rule("float", low=0, high=1),
    "EXTRACT_FALLBACK_CONTAINMENT": Rule("float", low=0, high=1),
    "EXTRACT_FALLBACK_MIN_RATIO": Rule("float", low=0, high=1),
    "EXTRACT_CJK_RATIO": Rule("float", low=0, high=1), "EXTRACT_DEFAULT_TZ": Rule("zone"),
    "CLEAN_TITLE_MAX_CHARS": Rule("int", low=1),
    # scheduler
    "SCHEDULER_CRAWL_TIMEOUT": Rule("float", above=0, high=_WEEK),
    "SCHEDULER_KILL_GRACE": Rule("float", low=0, high=_DAY),
    "SCHEDULER_MISFIRE_GRACE_TIME": Rule("int", low=1, high=int(_WEEK)),
    "SCHEDULER_MAX_CRAWLS": Rule("int", low=1, high=1000),
    "SCHEDULER_TIMEZONE": Rule("zone"),
    # NLP
    "NLP_ENABLED": Rule("bool"), "NLP_DROP_IRRELEVANT": Rule("bool"), "NLP_THREAD_CONTEXT": Rule("bool"),
    "NLP_KEYWORDS": Rule("int", low=0, high=1000), "NLP_RELEVANCE_THRESHOLD": Rule("float", low=0, high=1),
    # dedupe
    "DEDUPE_ENABLED": Rule("bool"), "DEDUPE_THRESHOLD": Rule("float", above=0, high=1),
    "DEDUPE_PERMUTATIONS": Rule("int", low=1, high=4096), "DEDUPE_BANDS": Rule("int", low=1, high=4096),
    "DEDUPE_MIN_TOKENS": Rule("int", low=0),
    # indexing
    "INDEX_ENABLED": Rule("bool"), "INDEX_SKIP_UNCHANGED": Rule("bool"), "INDEX_REPLAY_ON_OPEN": Rule("bool"),
    "RUNS_ENABLED": Rule("bool"), "RUNS_FAILED_PAGES_MAX": Rule("int", low=0, high=100000),
    "INDEX_BATCH_DOCS": Rule("int", low=1, high=100000),
    "INDEX_BATCH_BYTES": Rule("int", low=1),
    "INDEX_FLUSH_SECONDS": Rule("float", above=0, high=_DAY),
    "INDEX_MAX_RETRIES": Rule("int", low=0, high=100),
    "INDEX_INITIAL_BACKOFF": Rule("float", low=0, high=_DAY),
    "INDEX_MAX_BACKOFF": Rule("float", low=0, high=_DAY),
    "INDEX_DOWN_PAUSE": Rule("float", low=0, high=_DAY),
    "INDEX_SHARDS": Rule("int", low=1, high=1024), "INDEX_REPLICAS": Rule("replicas"),
    "INDEX_PARTITION": Rule("choice", choices=("none", "year")),
    # distributed crawling (BANWAVE_REDIS_URL)
    "FRONTIER_LEASE_SECONDS": Rule("float", above=0, high=_DAY),
    "FRONTIER_POLL_SECONDS": Rule("float", above=0, high=3600),
    "FRONTIER_IDLE_CLOSE_SECONDS": Rule("float", low=0, high=_DAY),
    "FRONTIER_SLOT_LEASE_SECONDS": Rule("float", above=0, high=_DAY),
}


def check_settings(settings: "Settings", prefix: str = "") -> None:
    """Raise SettingError for the first setting (whose name starts with ``prefix``) that breaks its rule."""
    for name, rule in SETTING_RULES.items():
        if name.startswith(prefix) and settings.get(name) is not None:
            _check(name, settings.get(name), rule)
    permutations, bands = settings.get("DEDUPE_PERMUTATIONS"), settings.get("DEDUPE_BANDS")
    if "DEDUPE_BANDS".startswith(prefix) and None not in (permutations, bands) and int(permutations) % int(bands):
        raise SettingError(f"DEDUPE_PERMUTATIONS={permutations} must be a multiple of DEDUPE_BANDS={bands}")


def _check(name: str, value: Any, rule: Rule) -> None:
    shown = value if isinstance(value, str) else repr(value)
    if rule.kind == "bool":
        if str(value) not in ("True", "False", "true", "false", "1", "0"):
            raise SettingError(f"{name}={shown} is not True or False")
        return
    if rule.kind == "replicas":
        if not re.fullmatch(r"\d{1,3}|\d{1,3}-(\d{1,3}|all)", str(value).strip()):
            raise SettingError(f"{name}={shown} is not a replica count (1) or an auto-expand range (0-1, 1-all)")
        return
    if rule.kind == "choice":
        if str(value) not in rule.choices:
            raise SettingError(f"{name}={shown} must be one of {', '.join(rule.choices)}")
        return
    if rule.kind == "zone":
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(str(value))
        except (ValueError, LookupError):
            raise SettingError(f"{name}={shown} is not a time zone such as UTC or Asia/Shanghai") from None
        return
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(value) if rule.kind == "int" and not isinstance(value, float) else float(value)
        if rule.kind == "int" and number != int(number):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        kind = "a whole number" if rule.kind == "int" else "a number"
        raise SettingError(f"{name}={shown} is not {kind}") from None
    if not math.isfinite(number):
        raise SettingError(f"{name}={shown} is not a finite number")
    if rule.low is not None and number < rule.low:
        raise SettingError(f"{name}={shown} must be at least {rule.low:g}")
    if rule.above is not None and number <= rule.above:
        raise SettingError(f"{name}={shown} must be greater than {rule.above:g}")
    if rule.high is not None and number > rule.high:
        raise SettingError(f"{name}={shown} must be at most {rule.high:g}")


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
        value = read_env_file(path).get(name) if path.is_file() else None
    if not value or not value.strip():
        raise ConfigError(f"{name} is not set (named in the alerts file)")
    return value.strip()


def child_environ(env: Env) -> dict[str, str]:
    """The environment of a subprocess that must see exactly ``env`` (a crawl started by the
    scheduler or the demo): this process's environment with every one of ``env``'s variables on
    top, so a ``.env`` file can no longer change them."""
    return process_environ(env.as_environ())


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
    ``overrides`` (``-s NAME=VALUE``) on top, checked against ``SETTING_RULES`` (SettingError).
    The one builder every banwave entry point uses."""
    from scrapy.settings import Settings

    settings = Settings()
    # settings.py by module name, not through scrapy.cfg: banwave runs from any directory.
    settings.setmodule("settings", priority="project")
    settings.set("BANWAVE_ENV", env, priority="cmdline")
    settings.set("LOG_LEVEL", env.log_level, priority="cmdline")
    if env.redis_url:  # the shared frontier replaces Scrapy's in-process request queue (docs/scaling.md)
        settings.set("SCHEDULER", settings.get("FRONTIER_SCHEDULER"), priority="project")
    settings.setdict(dict(overrides or {}), priority="cmdline")
    check_settings(settings)
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
        check_settings(settings)
        settings.set("BANWAVE_ENV", env, priority="project")
        settings.set("LOG_LEVEL", env.log_level, priority="project")
        if env.redis_url:
            settings.set("SCHEDULER", settings.get("FRONTIER_SCHEDULER"), priority="project")
    return crawl_env(settings)


# --- development: the variables benches and tests read (not the product's configuration) ---------

def evaldata_dir() -> Path:
    """``$BANWAVE_EVALDATA``, else ``../shared/evaldata`` beside the checkout: the real third-party
    pages and sentences the benches and gate tests score (never copied into the repository)."""
    return Path(os.environ.get("BANWAVE_EVALDATA") or REPO_ROOT.parent / "shared" / "evaldata")


def test_es_url() -> str:
    """``$BANWAVE_TEST_ES_URL``: the Elasticsearch the tests and benches use (the dev server by default)."""
    return os.environ.get("BANWAVE_TEST_ES_URL", "http://127.0.0.1:9200")


def process_environ(values: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with ``values`` on top, for a subprocess a bench or test starts."""
    return {**os.environ, **values}


def clean_environ(values: Mapping[str, str]) -> dict[str, str]:
    """Only ``PATH`` of this process's environment, with ``values``: a subprocess that must not see
    the developer's BANWAVE_* variables."""
    return {"PATH": os.environ["PATH"], **values}
