"""Configuration: defaults, .env files, and one-line errors naming the variable."""
import subprocess
import sys

import pytest

import config
from config import ConfigError


def load(tmp_path, **environ):
    return config.load(environ, env_file=tmp_path / "absent.env")


def test_defaults(tmp_path):
    env = load(tmp_path)
    assert env.es_url == ""
    assert env.index_prefix == "banwave"
    assert env.docs_alias == "banwave-docs" and env.runs_alias == "banwave-runs"
    assert env.kibana_url == "http://127.0.0.1:5601"
    assert env.log_level == "INFO"


def test_env_file_fills_in_and_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("BANWAVE_ES_URL=http://es.example:9200\nBANWAVE_INDEX_PREFIX=fromfile\n")
    env = config.load({"BANWAVE_INDEX_PREFIX": "fromenv"}, env_file=env_file)
    assert env.es_url == "http://es.example:9200"
    assert env.index_prefix == "fromenv"


@pytest.mark.parametrize(
    "environ, variable",
    [
        ({"BANWAVE_ES_URL": "localhost:9200"}, "BANWAVE_ES_URL"),
        ({"BANWAVE_ES_URL": "http://user:pw@es:9200"}, "BANWAVE_ES_URL"),
        ({"BANWAVE_ES_URL": "http://es:99999"}, "BANWAVE_ES_URL"),
        ({"BANWAVE_ES_TIMEOUT": "soon"}, "BANWAVE_ES_TIMEOUT"),
        ({"BANWAVE_ES_TIMEOUT": "0"}, "BANWAVE_ES_TIMEOUT"),
        ({"BANWAVE_INDEX_PREFIX": "Bad Prefix"}, "BANWAVE_INDEX_PREFIX"),
        ({"BANWAVE_ES_CA_CERT": "/nonexistent/ca.pem"}, "BANWAVE_ES_CA_CERT"),
        ({"BANWAVE_ES_USERNAME": "elastic"}, "BANWAVE_ES_PASSWORD"),
        ({"BANWAVE_LOG_LEVEL": "chatty"}, "BANWAVE_LOG_LEVEL"),
        ({"BANWAVE_KIBANA_URL": "kibana"}, "BANWAVE_KIBANA_URL"),
    ],
)
def test_bad_values_name_the_variable(tmp_path, environ, variable):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, **environ)
    message = str(info.value)
    assert variable in message
    assert "\n" not in message


def test_secrets_stay_out_of_repr(tmp_path):
    env = load(tmp_path, BANWAVE_ES_USERNAME="elastic", BANWAVE_ES_PASSWORD="s3cret-pw", BANWAVE_ES_API_KEY="k3y-value")
    assert "s3cret-pw" not in repr(env) and "k3y-value" not in repr(env)


def test_crawl_settings_carry_the_env_and_overrides_win(tmp_path):
    env = load(tmp_path, BANWAVE_LOG_LEVEL="warning", BANWAVE_DATA_DIR=str(tmp_path))
    settings = config.crawl_settings(env, config.parse_overrides(["INDEX_BATCH_DOCS=7", "LOG_LEVEL=DEBUG"]))
    assert config.crawl_env(settings) is env
    assert settings.getint("INDEX_BATCH_DOCS") == 7 and settings.get("LOG_LEVEL") == "DEBUG"
    assert settings.getint("DEDUPE_PERMUTATIONS") == 128  # settings.py's defaults underneath
    assert config.crawl_settings(env).get("LOG_LEVEL") == "WARNING"


def test_env_round_trips_through_a_child_environment(tmp_path):
    env = load(tmp_path, BANWAVE_ES_URL="http://es.example:9200", BANWAVE_ES_USERNAME="u",
               BANWAVE_ES_PASSWORD="p", BANWAVE_DATA_DIR=str(tmp_path), BANWAVE_SOURCES="x.yaml")
    child = config.child_environ(env)
    assert config.load(child, env_file=tmp_path / "absent.env") == env


@pytest.mark.parametrize("pair", ["NAME", "=value", " =x"])
def test_malformed_override_is_one_line(pair):
    with pytest.raises(ConfigError, match="-s needs NAME=VALUE"):
        config.parse_overrides([pair])


def test_scrapy_cli_settings_stand_in_for_the_environment(tmp_path):
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.set("BANWAVE_DATA_DIR", str(tmp_path / "d"), priority="cmdline")
    env = config.settings_with_env(settings)
    assert env.data_dir == tmp_path / "d" and config.crawl_env(settings) is env


def run_cli(tmp_path, args, **environ):
    """`banwave ARGS` in a clean environment, from a directory without a .env file."""
    return subprocess.run([sys.executable, "-m", "cli.main", *args], env={"PATH": "/usr/bin:/bin", **environ},
                          capture_output=True, text=True, cwd=tmp_path)


@pytest.mark.slow  # a `banwave` subprocess
def test_cli_prints_one_line_not_a_traceback(tmp_path):
    result = run_cli(tmp_path, ["es", "health"], BANWAVE_ES_URL="not-a-url", BANWAVE_ENV_FILE="")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "banwave: configuration error: BANWAVE_ES_URL='not-a-url' is not an http(s) URL such as http://127.0.0.1:9200"
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # a `banwave` subprocess
def test_cli_without_es_url_says_which_variable(tmp_path):
    result = run_cli(tmp_path, ["es", "setup"])
    assert result.returncode == 2
    assert "BANWAVE_ES_URL is not set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow  # a `banwave` subprocess
def test_cli_reports_unreachable_server_in_one_line(tmp_path):
    result = run_cli(tmp_path, ["es", "setup"], BANWAVE_ES_URL="http://127.0.0.1:9", BANWAVE_ES_TIMEOUT="2")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("banwave: setting up")
    assert "cannot reach Elasticsearch" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------- issue 14: hardening

def test_several_elasticsearch_nodes(tmp_path):
    env = load(tmp_path, BANWAVE_ES_URL=" http://es1:9200, https://es2:9200/ ,http://10.0.0.3:9201")
    assert env.es_urls == ["http://es1:9200", "https://es2:9200", "http://10.0.0.3:9201"]
    assert env.es_url == "http://es1:9200,https://es2:9200,http://10.0.0.3:9201"
    assert config.load(config.child_environ(env), env_file=tmp_path / "absent.env") == env


@pytest.mark.parametrize("value, problem", [
    ("http://es1:9200,", "empty entry"),
    ("http://es1:9200,,http://es2:9200", "empty entry"),
    ("http://es1:9200,es2:9200", "'es2:9200' is not an http(s) URL"),
    ("http://es1:9200,http://es2:99999", "'http://es2:99999' has an invalid port"),
    ("http://es1:9200,http://u:p@es2:9200", "must not carry credentials"),
    ("http://es1:9200,http://es1:9200/", "names a node twice"),
])
def test_each_node_url_is_checked(tmp_path, value, problem):
    with pytest.raises(ConfigError, match="BANWAVE_ES_URL") as info:
        load(tmp_path, BANWAVE_ES_URL=value)
    assert problem in str(info.value) and "\n" not in str(info.value)


def test_kibana_credentials_and_ca(tmp_path):
    with pytest.raises(ConfigError, match="BANWAVE_KIBANA_USERNAME and BANWAVE_KIBANA_PASSWORD"):
        load(tmp_path, BANWAVE_KIBANA_USERNAME="viewer")
    with pytest.raises(ConfigError, match="BANWAVE_KIBANA_CA_CERT"):
        load(tmp_path, BANWAVE_KIBANA_CA_CERT=str(tmp_path / "missing.pem"))
    env = load(tmp_path, BANWAVE_KIBANA_USERNAME="banwave_kibana", BANWAVE_KIBANA_PASSWORD="pw-secret")
    assert "pw-secret" not in repr(env)


def test_env_file_errors_name_the_line_not_its_content(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("BANWAVE_INDEX_PREFIX=ok\nexport BANWAVE_ES_URL=http://es:9200\n"
                        "BANWAVE_ES_PASSWORD='s3cret\n")
    with pytest.raises(ConfigError) as info:
        config.load({}, env_file=env_file)
    assert str(info.value) == f"{env_file}: line 3 is not NAME=VALUE"
    env_file.write_bytes(b"BANWAVE_INDEX_PREFIX=\xb7\xe2\n")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        config.load({}, env_file=env_file)


def test_data_dir_must_be_a_directory(tmp_path):
    (tmp_path / "file").write_text("x")
    for value in (tmp_path / "file", tmp_path / "file" / "sub" / "dir"):
        with pytest.raises(ConfigError, match=f"BANWAVE_DATA_DIR=.*is not a directory: {tmp_path / 'file'} is a file"):
            load(tmp_path, BANWAVE_DATA_DIR=str(value))
    assert load(tmp_path, BANWAVE_DATA_DIR=str(tmp_path / "new" / "dir")).data_dir == tmp_path / "new" / "dir"


@pytest.mark.parametrize("name, value, message", [
    ("INDEX_BATCH_DOCS", "0", "INDEX_BATCH_DOCS=0 must be at least 1"),
    ("INDEX_FLUSH_SECONDS", "0", "INDEX_FLUSH_SECONDS=0 must be greater than 0"),
    ("INDEX_MAX_RETRIES", "three", "INDEX_MAX_RETRIES=three is not a whole number"),
    ("INDEX_BATCH_DOCS", "2.5", "INDEX_BATCH_DOCS=2.5 is not a whole number"),
    ("SCHEDULER_CRAWL_TIMEOUT", "abc", "SCHEDULER_CRAWL_TIMEOUT=abc is not a number"),
    ("SCHEDULER_CRAWL_TIMEOUT", "inf", "SCHEDULER_CRAWL_TIMEOUT=inf is not a finite number"),
    ("SCHEDULER_KILL_GRACE", "1e20", "SCHEDULER_KILL_GRACE=1e20 must be at most 86400"),
    ("SCHEDULER_TIMEZONE", "Mars/Olympus", "SCHEDULER_TIMEZONE=Mars/Olympus is not a time zone"),
    ("DEDUPE_ENABLED", "yes please", "DEDUPE_ENABLED=yes please is not True or False"),
    ("DEDUPE_BANDS", "5", "DEDUPE_PERMUTATIONS=128 must be a multiple of DEDUPE_BANDS=5"),
    ("DOWNLOAD_MAXSIZE", "0", "DOWNLOAD_MAXSIZE=0 must be at least 1"),
    ("CONCURRENT_REQUESTS_PER_DOMAIN", "0", "CONCURRENT_REQUESTS_PER_DOMAIN=0 must be at least 1"),
])
def test_bad_settings_are_one_line_errors(tmp_path, name, value, message):
    with pytest.raises(config.SettingError) as info:
        config.crawl_settings(load(tmp_path), {name: value})
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_the_shipped_settings_pass_their_rules_and_every_rule_names_a_setting(tmp_path):
    from scrapy.settings import default_settings

    import settings as project

    config.crawl_settings(load(tmp_path))  # settings.py's own values
    known = {name for module in (project, default_settings) for name in dir(module) if name.isupper()}
    assert set(config.SETTING_RULES) <= known, set(config.SETTING_RULES) - known
    numbers = {name for name in dir(project) if name.startswith(("INDEX_", "RUNS_", "SCHEDULER_", "DEDUPE_"))
               and isinstance(getattr(project, name), (bool, int, float))}
    assert numbers <= set(config.SETTING_RULES), numbers - set(config.SETTING_RULES)
