"""Issue 14, defects 6 and 7: a bad setting, variable or sources file is one line at the start
(exit 2), never a traceback and never a stage silently turned off."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import config
from conftest import REPO

pytestmark = pytest.mark.slow

SOURCE = """\
sources:
- name: alpha
  kind: news
  start: [{type: feed, url: "http://127.0.0.1:1/rss.xml"}]
  schedule: {interval_minutes: 30}
"""


def run(tmp_path: Path, *args: str, command: str = "cli.main", **environ: str) -> subprocess.CompletedProcess:
    """`banwave ARGS` (or another module) in a clean environment, from a directory without a .env file."""
    sources = tmp_path / "sources.yaml"
    if not sources.exists():
        sources.write_text(SOURCE, "utf-8")
    env = config.clean_environ({"HOME": str(tmp_path), "BANWAVE_DATA_DIR": str(tmp_path / "data"),
                                "BANWAVE_SOURCES": str(sources), **environ})
    return subprocess.run([sys.executable, "-m", command, *args], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


def one_line(result: subprocess.CompletedProcess, *expected: str) -> str:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("setting, message", [
    ("INDEX_BATCH_DOCS=0", "INDEX_BATCH_DOCS=0 must be at least 1"),
    ("INDEX_BATCH_BYTES=-5", "INDEX_BATCH_BYTES=-5 must be at least 1"),
    ("DEDUPE_BANDS=7", "DEDUPE_PERMUTATIONS=128 must be a multiple of DEDUPE_BANDS=7"),
    ("DEDUPE_THRESHOLD=0", "DEDUPE_THRESHOLD=0 must be greater than 0"),
    ("INDEX_ENABLED=maybe", "INDEX_ENABLED=maybe is not True or False"),
    ("DOWNLOAD_DELAY=1e20", "DOWNLOAD_DELAY=1e20 must be at most 86400"),
])
def test_a_bad_setting_stops_the_crawl_before_it_starts(tmp_path, setting, message):
    result = run(tmp_path, "crawl", "alpha", "-s", setting)
    assert result.returncode == 2 and result.stdout == ""
    one_line(result, "banwave: configuration error: ", message)
    assert not (tmp_path / "data" / "crawl").exists(), "nothing was crawled"


def test_scrapy_crawl_refuses_a_bad_setting_too(tmp_path):
    env = config.clean_environ({"HOME": str(tmp_path), "BANWAVE_DATA_DIR": str(tmp_path / "data"),
                                "BANWAVE_SOURCES": str(tmp_path / "sources.yaml")})
    (tmp_path / "sources.yaml").write_text(SOURCE, "utf-8")
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "news", "-a", "source=alpha",
                             "-s", "INDEX_BATCH_DOCS=0"], env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert "INDEX_BATCH_DOCS=0 must be at least 1" in result.stderr
    assert "Spider opened" not in result.stderr and not (tmp_path / "data" / "crawl").exists()


def test_an_explicit_enabled_false_still_turns_a_stage_off(tmp_path):
    result = run(tmp_path, "crawl", "alpha", "-s", "INDEX_ENABLED=False", "-s", "DEDUPE_ENABLED=False",
                 "-s", "NLP_ENABLED=False", BANWAVE_LOG_LEVEL="WARNING")
    # the feed's port refuses connections: the crawl runs and fails on the site, not on its settings
    assert result.returncode == 1 and result.stdout.startswith("alpha: failed"), result.stdout + result.stderr


def test_schedule_refuses_a_bad_setting(tmp_path):
    for args in (["schedule", "--list"], ["schedule"]):
        result = run(tmp_path, *args, "-s", "SCHEDULER_CRAWL_TIMEOUT=abc")
        assert result.returncode == 2
        one_line(result, "SCHEDULER_CRAWL_TIMEOUT=abc is not a number")


@pytest.mark.parametrize("schedule", ["{interval_minutes: 1e20}", "{interval_minutes: 100000000000000000000}"])
def test_a_huge_interval_is_one_line(tmp_path, schedule):
    (tmp_path / "sources.yaml").write_text(SOURCE.replace("{interval_minutes: 30}", schedule), "utf-8")
    result = run(tmp_path, "schedule", "--list")
    assert result.returncode == 2
    one_line(result, "source 'alpha': field 'schedule.interval_minutes'")


def test_a_sources_file_that_is_not_utf8_is_one_line(tmp_path):
    (tmp_path / "sources.yaml").write_bytes(SOURCE.replace("alpha", "alpha").encode() + "# 封店\n".encode("gbk"))
    result = run(tmp_path, "crawl", "--all")
    assert result.returncode == 2
    one_line(result, "sources.yaml", "not UTF-8")


def test_duplicate_keys_in_the_sources_file_are_an_error(tmp_path):
    (tmp_path / "sources.yaml").write_text(SOURCE + "  kind: forum\n", "utf-8")
    result = run(tmp_path, "crawl", "--all")
    assert result.returncode == 2
    one_line(result, "sources.yaml: line 6: ", "duplicate key 'kind'")


def test_a_start_url_with_an_invalid_port_is_one_line(tmp_path):
    (tmp_path / "sources.yaml").write_text(SOURCE.replace("127.0.0.1:1/", "127.0.0.1:99999/"), "utf-8")
    result = run(tmp_path, "crawl", "alpha")
    assert result.returncode == 2
    one_line(result, "field 'start[0].url'", "invalid port")


def test_an_env_file_that_is_not_utf8_is_one_line(tmp_path):
    (tmp_path / ".env").write_bytes("BANWAVE_INDEX_PREFIX=x\n# 封店\n".encode("gbk"))
    result = run(tmp_path, "index", "status")
    assert result.returncode == 2
    one_line(result, ".env is not UTF-8")


def test_an_env_line_that_cannot_be_parsed_stops_banwave_with_its_number(tmp_path):
    (tmp_path / ".env").write_text('BANWAVE_INDEX_PREFIX=x\nBANWAVE_ES_URL = "http://es:9200\nBANWAVE_ES_PASSWORD=hunter2\n')
    result = run(tmp_path, "index", "status")
    assert result.returncode == 2
    line = one_line(result, ".env: line 2 is not NAME=VALUE")
    assert "http://es" not in line, "the line itself is not echoed: it may hold a secret"


def test_a_data_dir_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("x")
    for data_dir in (tmp_path / "afile", tmp_path / "afile" / "below"):
        result = run(tmp_path, "index", "status", BANWAVE_DATA_DIR=str(data_dir))
        assert result.returncode == 2
        one_line(result, "BANWAVE_DATA_DIR=", "is not a directory")


def test_search_size_is_bounded_before_any_request(tmp_path):
    result = run(tmp_path, "search", "封店", "-n", "100000", BANWAVE_ES_URL="http://127.0.0.1:9")
    assert result.returncode == 2
    assert "-n/--size: must be between 1 and 10000" in result.stderr.strip().splitlines()[-1]
    assert "cannot reach" not in result.stderr and "Traceback" not in result.stderr
