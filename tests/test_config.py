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
