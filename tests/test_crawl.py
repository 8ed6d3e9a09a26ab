"""Crawl the offline demo web with the real spiders, through Scrapy's engine.

Each crawl runs in a subprocess (Twisted's reactor cannot restart) with the
project settings and sources.demo.yaml; the project's item pipelines are
replaced by a sink that appends every document to a JSON Lines file, flushed
per item, so even a killed crawl leaves what it handed on (the scrapy command
line test at the end runs the full pipeline). The demo web runs in this process and
records every request, which is how "never fetched" is checked.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import config
import demo
from demo.web import DemoWeb

pytestmark = pytest.mark.slow  # crawl subprocesses against the demo web

REPO = Path(__file__).resolve().parent.parent
SITES = demo.SITES_DIR
GOLD = [json.loads(line) for line in (SITES / "gold.jsonl").read_text("utf-8").splitlines()]

RUNNER = r"""
import json, sys
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

spider, source, out, stats_out, overrides = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])

class Sink:
    def open_spider(self):
        self.file = open(out, "a", encoding="utf-8")
    def process_item(self, item):
        self.file.write(json.dumps(dict(item), ensure_ascii=False, default=str) + "\n")
        self.file.flush()
        return item
    def close_spider(self):
        self.file.close()

settings = get_project_settings()
settings.setdict(overrides, priority="cmdline")
settings.set("ITEM_PIPELINES", {Sink: 999}, priority="cmdline")
process = CrawlerProcess(settings)
crawler = process.create_crawler(spider)
process.crawl(crawler, source=source)
process.start()
with open(stats_out, "w") as f:
    json.dump(crawler.stats.get_stats(), f, default=str)
"""


class Crawl:
    """One crawl subprocess: its documents, stats and the requests the demo web saw."""

    def __init__(self, web: DemoWeb, spider: str, source: str, data_dir: Path, overrides: dict | None = None,
                 sources_file: Path = REPO / "sources.demo.yaml"):
        self.web, self.source, self.data_dir = web, source, data_dir
        run = len(list(data_dir.glob("docs-*.jsonl")))
        self.out = data_dir / f"docs-{run}.jsonl"
        self.stats_file = data_dir / f"stats-{run}.json"
        self.log = data_dir / f"crawl-{run}.log"
        env = config.process_environ({"BANWAVE_DATA_DIR": str(data_dir), "BANWAVE_SOURCES": str(sources_file),
                                      "BANWAVE_ES_URL": "", "BANWAVE_LOG_LEVEL": "INFO", "BANWAVE_ENV_FILE": ""})
        settings = {"LOG_FILE": str(self.log), **(overrides or {})}
        web.clear_log()
        self.out.touch()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER, spider, source, str(self.out), str(self.stats_file), json.dumps(settings)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 90) -> "Crawl":
        output, _ = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, output.decode(errors="replace") + self.log.read_text(errors="replace")[-3000:]
        return self

    @property
    def docs(self) -> list[dict]:
        return [json.loads(line) for line in self.out.read_text("utf-8").splitlines()]

    @property
    def stats(self) -> dict:
        return json.loads(self.stats_file.read_text())

    def paths(self, site: str) -> list[str]:
        return self.web.paths(site)


def crawl(web, spider, source, data_dir, sources_file: Path = REPO / "sources.demo.yaml", **overrides) -> Crawl:
    return Crawl(web, spider, source, data_dir, overrides, sources_file).wait()


def gold_for(site: str) -> dict[str, dict]:
    return {row["url"]: row for row in GOLD if row["site"] == site}


def assert_matches_gold(docs: list[dict], site: str) -> None:
    """Exactly the gold documents, once each, with title, author, date and own text right."""
    expected = gold_for(site)
    urls = [d["url"] for d in docs]
    assert len(urls) == len(set(urls)), "duplicate documents"
    assert sorted(urls) == sorted(expected)
    for doc in docs:
        gold = expected[doc["url"]]
        assert doc["doc_type"] == gold["doc_type"]
        assert doc["title"] == gold["title"], doc["url"]
        assert doc["author"] == gold["author"], doc["url"]
        if gold["published"] and len(gold["published"]) == 10:  # a date without time on the page
            assert doc["published"][:10] == gold["published"], doc["url"]
        elif gold["published"]:
            assert doc["published"] == gold["published"], doc["url"]
        for paragraph in gold["text"].split("\n"):  # decoded right, own words present
            assert paragraph in doc["text"], (doc["url"], paragraph)


@pytest.fixture(scope="module")
def web():
    with DemoWeb(SITES) as server:
        yield server


def is_content_path(path: str) -> bool:
    return path.startswith(("/a/", "/news/", "/amp/", "/thread-"))


# ---------------------------------------------------------------------------- one crawl per site

def test_cn_news_gbk_portal(web, tmp_path):
    run = crawl(web, "news", "cn-news", tmp_path)
    assert_matches_gold(run.docs, "cn-news")
    paths = run.paths("cn-news")
    assert not [p for p in paths if p.startswith(("/a/zt/", "/print/", "/member/"))], "robots.txt disallows these"
    assert paths.count("/a/20210512/310512.html") == 2  # 429 first, then retried and served
    assert "/a/2022/0222/320222.html" in paths           # the feed's old URL, redirected (301) to the listed one
    stats = run.stats
    assert stats["banwave/errors/http_500"] == 1
    assert stats["banwave/errors/http_404"] == 1
    assert stats["banwave/errors/redirect_loop"] == 1
    assert stats["banwave/errors/non_html"] == 1
    assert stats["robotstxt/forbidden"] == 1
    assert stats["finish_reason"] == "finished"
    by_url = {d["url"]: d for d in run.docs}
    # charset declared wrongly in the HTTP header, missing entirely, and gb2312 for a GBK-only character
    assert by_url["http://127.0.0.1:8701/a/20210603/310603.html"]["title"].startswith("深圳市跨境电子商务协会")
    assert "商务局" in by_url["http://127.0.0.1:8701/a/20210720/310720.html"]["text"]
    assert by_url["http://127.0.0.1:8701/a/20210622/310622.html"]["author"] == "王喆"
    assert {d["source"] for d in run.docs} == {"cn-news"}


def test_en_news_sitemap_and_json_ld(web, tmp_path):
    run = crawl(web, "news", "en-news", tmp_path)
    assert_matches_gold(run.docs, "en-news")
    paths = run.paths("en-news")
    assert "/sitemap.xml" in paths and "/sitemaps/news-2021-h1.xml" in paths
    assert not [p for p in paths if p.startswith(("/amp/", "/search"))]
    stats = run.stats
    assert stats["banwave/errors/too_large"] == 1     # 12 MB page over DOWNLOAD_MAXSIZE
    assert stats["banwave/errors/timeout"] == 1       # slower than the source's download_timeout
    assert stats["banwave/errors/http_404"] == 1
    assert stats["robotstxt/forbidden"] == 1


def test_forum_posts_one_document_each(web, tmp_path):
    run = crawl(web, "forum", "forum", tmp_path)
    assert_matches_gold(run.docs, "forum")
    expected = gold_for("forum")
    for doc in run.docs:
        gold = expected[doc["url"]]
        assert (doc["thread_id"], doc["post_id"], doc["floor"]) == (gold["thread_id"], gold["post_id"], gold["floor"])
        if gold["quote"]:
            assert gold["quote"].rstrip(" .") in doc["quote"]
            assert gold["quote"] not in doc["text"], "quoted text is not the post's own"
        assert "微信同号" not in doc["text"] and "本帖最后由" not in doc["text"], "signature or edit note in text"
    big5 = {d["post_id"]: d for d in run.docs if d["thread_id"] == "1205"}  # Big5 page under a GBK header
    assert len(big5) == 5 and big5["30071"]["text"].startswith("我們是台中的小團隊，上週也收到亞馬遜的警告信")
    paths = run.paths("forum")
    assert not [p for p in paths if p.startswith(("/forum-40-", "/thread-1209-", "/home.php"))]
    assert run.stats["banwave/pages/thread"] == 31  # 15 before thread 1210 (a reposted article), 15 since the quiet months


# ---------------------------------------------------------------------------- incremental runs

@pytest.mark.parametrize("spider,source,site", [("news", "cn-news", "cn-news"), ("news", "en-news", "en-news"),
                                               ("forum", "forum", "forum")])
def test_second_run_fetches_only_index_pages(web, tmp_path, spider, source, site):
    first = crawl(web, spider, source, tmp_path)
    assert first.docs
    second = crawl(web, spider, source, tmp_path)
    assert second.docs == []
    fetched = second.paths(site)
    retried_errors = {"/a/20210601/900002.html", "/a/20210602/900003.html", "/a/20210602/900004.html",
                      "/a/20210603/900005.html", "/a/20210604/900006.html",   # failed pages are tried again
                      "/news/2021/07/06/tomtop-youkeshu-disclose-closures.html",
                      "/news/2021/10/12/what-amazon-counts-as-review-abuse.html",
                      "/news/2021/12/01/withdrawn-story.html"}
    again = [p for p in fetched if is_content_path(p) and p not in retried_errors]
    # Only a page the first run gave up on (a download timeout on a loaded machine) may be fetched
    # again, and never one whose documents the first run delivered.
    assert not set(again) & {urlsplit(doc["url"]).path for doc in first.docs}, again
    assert len(again) <= first.stats.get("retry/max_reached", 0), (again, first.stats)
    assert "/robots.txt" in fetched and len(fetched) > 1


def test_thread_that_gained_pages_is_fetched_again(tmp_path):
    sys.path.insert(0, str(SITES))
    try:
        import build
    finally:
        sys.path.remove(str(SITES))

    def shorter(site, data):  # thread 1203 before its last four replies
        if site == "forum":
            thread = next(t for t in data["threads"] if t["tid"] == 1203)
            thread["posts"] = thread["posts"][:5]

    root = tmp_path / "sites"
    build.build(root, shorter)
    # Own ports, as the module's demo web holds the default ones; the server rewrites the origins.
    sources = tmp_path / "sources.yaml"
    sources.write_text((REPO / "sources.demo.yaml").read_text("utf-8").replace("127.0.0.1:870", "127.0.0.1:871"), "utf-8")
    with DemoWeb(root, base_port=8711) as server:
        first = crawl(server, "forum", "forum", tmp_path, sources)
        assert len(first.docs) == len(gold_for("forum")) - 4
        build.build(root)  # the thread gains a second page
        second = crawl(server, "forum", "forum", tmp_path, sources)
    threads = [p for p in second.paths("forum") if p.startswith("/thread-")]
    assert sorted(threads) == ["/thread-1203-1-1.html", "/thread-1203-2-1.html"]
    new = {d["post_id"] for d in second.docs} - {d["post_id"] for d in first.docs}
    assert new == {"30056", "30057", "30058", "30059"}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill"])
def test_interrupted_crawl_resumes_to_the_same_items(web, tmp_path, sig):
    slow = {"DOWNLOAD_DELAY": 0.15, "DOWNLOAD_DELAY_JITTER": 0, "AUTOTHROTTLE_ENABLED": False,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
    run = Crawl(web, "news", "cn-news", tmp_path, slow)
    deadline = time.monotonic() + 60
    while sum(p.startswith("/a/") for p in web.paths("cn-news")) < 8:
        assert time.monotonic() < deadline and run.proc.poll() is None, "crawl ended before it could be interrupted"
        time.sleep(0.02)
    run.proc.send_signal(sig)
    run.proc.communicate(timeout=60)
    partial = {d["url"] for d in run.docs}
    assert 0 < len(partial) < len(gold_for("cn-news"))

    resumed = crawl(web, "news", "cn-news", tmp_path, **slow)
    assert partial | {d["url"] for d in resumed.docs} == set(gold_for("cn-news"))
    if sig == signal.SIGINT:  # a graceful stop hands on everything it fetched: nothing comes twice
        assert not partial & {d["url"] for d in resumed.docs}


# ---------------------------------------------------------------------------- the scrapy command line

def scrapy_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = config.process_environ({"BANWAVE_DATA_DIR": str(data_dir), "BANWAVE_ES_URL": "", "BANWAVE_ENV_FILE": ""})
    return subprocess.run([str(Path(sys.executable).parent / "scrapy"), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=90)


def test_scrapy_command_lists_and_crawls_from_the_repo_root(web, tmp_path):
    assert scrapy_cli("list", data_dir=tmp_path).stdout.split() == ["forum", "news"]
    out = tmp_path / "cn.jsonl"
    run = scrapy_cli("crawl", "news", "-a", "source=cn-news", "-s", "BANWAVE_SOURCES=sources.demo.yaml",
                     "-O", str(out), data_dir=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    urls = {json.loads(line)["url"] for line in out.read_text("utf-8").splitlines()}
    assert urls == set(gold_for("cn-news"))
    assert (tmp_path / "crawl" / "cn-news" / "seen.sqlite").is_file()


def test_bad_sources_file_stops_the_crawl_before_any_request(web, tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_text((REPO / "sources.demo.yaml").read_text("utf-8").replace("kind: forum", "kind: board"), "utf-8")
    web.clear_log()
    run = scrapy_cli("crawl", "news", "-a", "source=cn-news", "-s", f"BANWAVE_SOURCES={bad}", data_dir=tmp_path)
    assert run.returncode != 0
    assert "sources.yaml: source 'forum': field 'kind': must be news or forum" in run.stderr
    assert web.requests == []


def test_unreachable_site_is_counted_not_fatal(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n- name: down\n  kind: news\n  start: [{type: feed, url: 'http://127.0.0.1:8799/rss.xml'}]\n"
                       "  politeness: {download_delay: 0, autothrottle_start_delay: 0, retry_backoff: 0}\n"
                       "  allow_private: true\n", "utf-8")
    with DemoWeb(SITES, base_port=8731) as idle:
        run = crawl(idle, "news", "down", tmp_path, sources)
    assert run.docs == []
    assert run.stats["banwave/errors/connection_refused"] == 1
    assert run.stats["finish_reason"] == "finished"
