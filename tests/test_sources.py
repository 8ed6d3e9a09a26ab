"""The sources file: shipped files validate, bad files are rejected naming source and field."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from lxml import html

from crawlers.sources import SourcesError, get_source, load_sources

REPO = Path(__file__).resolve().parent.parent

GOOD = """\
- name: good
  kind: news
  start: [{type: feed, url: "http://example.com/rss"}]
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n" + textwrap.indent(textwrap.dedent(body), "  ") if body else "", "utf-8")
    return path


def error_of(tmp_path: Path, body: str) -> str:
    with pytest.raises(SourcesError) as info:
        load_sources(write(tmp_path, body))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_shipped_sources_file_validates_and_unverified_entries_are_disabled():
    sources = load_sources(REPO / "sources.yaml")
    assert 15 <= len(sources) <= 30
    assert {s.kind for s in sources} == {"news", "forum"}
    assert {s.lang for s in sources} >= {"zh", "en"}
    for source in sources:
        assert source.verified or not source.enabled, f"{source.name} is unverified but enabled"


def test_demo_sources_point_at_the_three_demo_sites():
    sources = load_sources(REPO / "sources.demo.yaml")
    assert [(s.name, s.kind) for s in sources] == [("cn-news", "news"), ("en-news", "news"), ("forum", "forum")]
    assert all(p.url.startswith("http://127.0.0.1:870") for s in sources for p in s.start)


@pytest.mark.parametrize("body, expected", [
    (GOOD.replace("kind: news", "kind: blog"), "source 'good': field 'kind': must be news or forum"),
    (GOOD.replace("  kind: news\n", ""), "source 'good': field 'kind': is required"),
    (GOOD.replace("name: good", "name: Good Site"), "source 'Good Site': field 'name': must be a slug"),
    (GOOD + "  colour: red\n", "source 'good': field 'colour': unknown field"),
    (GOOD.replace("http://example.com/rss", "example.com/rss"), "field 'start[0].url': 'example.com/rss' is not an http(s) URL"),
    (GOOD.replace("type: feed", "type: board"), "field 'start[0].type': 'board' is not for news sources"),
    (GOOD + "  links: {allow: ['(unclosed']}\n", "field 'links.allow[0]': bad regular expression"),
    (GOOD + "  schedule: {cron: '61 * * * *'}\n", "field 'schedule.cron': bad crontab"),
    (GOOD + "  schedule: {cron: '0 * * * *', interval_minutes: 5}\n", "field 'schedule.cron': give exactly one"),
    (GOOD + "  schedule: {interval_minutes: 0}\n", "field 'schedule.interval_minutes'"),
    (GOOD + "  politeness: {concurrency: 0}\n", "field 'politeness.concurrency'"),
    (GOOD + "  extract: {title: '//h1['}\n", "field 'extract.title': bad XPath"),
    (GOOD + "  extract: {body: 'css:div[[['}\n", "field 'extract.body': bad CSS selector"),
    (GOOD + "  lang: Chinese\n", "field 'lang': must be a language tag"),
    (GOOD.replace('{type: feed, url: "http://example.com/rss"}', '{type: search, url: "http://example.com/s"}'),
     "field 'start[0].keywords': a search start point needs '{keyword}'"),
    (GOOD + GOOD, "source 'good': field 'name': duplicate source name"),
    ("- name: f\n  kind: forum\n  start: [{type: board, url: 'http://x.org/b'}]\n  links: {allow: ['thread-\\d+']}\n",
     "source 'f': field 'links.allow[0]': a forum thread pattern must capture (?P<thread>...)"),
    ("- name: f\n  kind: forum\n  start: [{type: board, url: 'http://x.org/b'}]\n",
     "source 'f': field 'links.allow': a forum source needs thread URL patterns"),
    ("- just a string\n", "source #1: expected a mapping of fields"),
])
def test_bad_source_is_rejected_naming_source_and_field(tmp_path, body, expected):
    message = error_of(tmp_path, body)
    assert message.startswith("sources.yaml: ")
    assert expected in message


def test_unreadable_or_malformed_files(tmp_path):
    with pytest.raises(SourcesError, match="cannot read the sources file"):
        load_sources(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - name: [unclosed\n", "utf-8")
    with pytest.raises(SourcesError, match=r"bad.yaml: line \d+: invalid YAML"):
        load_sources(bad)
    bad.write_text("- name: x\n", "utf-8")
    with pytest.raises(SourcesError, match="expected a mapping with a 'sources' list"):
        load_sources(bad)
    bad.write_text("sources: []\nextra: 1\n", "utf-8")
    with pytest.raises(SourcesError, match="unknown top-level key 'extra'"):
        load_sources(bad)


def test_search_urls_expand_each_keyword_url_encoded(tmp_path):
    path = write(tmp_path, """\
        - name: s
          kind: forum
          start:
          - {type: search, url: "http://x.org/search?q={keyword}&page=1", keywords: [亚马逊 封店, seller ban]}
          - {type: search, url: "http://x.org/s.php?q={keyword}", keywords: [封号], keyword_encoding: gbk}
          links: {allow: ['thread-(?P<thread>\\d+)']}
        """)
    start = load_sources(path)[0].start
    assert start[0].urls() == ["http://x.org/search?q=%E4%BA%9A%E9%A9%AC%E9%80%8A%20%E5%B0%81%E5%BA%97&page=1",
                               "http://x.org/search?q=seller%20ban&page=1"]
    assert start[1].urls() == ["http://x.org/s.php?q=%B7%E2%BA%C5"]


def test_politeness_and_extract_overrides(tmp_path):
    path = write(tmp_path, GOOD + "  politeness: {download_delay: 3, concurrency: 1, download_timeout: 20}\n"
                 """  extract: {title: "css:h1.headline", body: "//div[@id='artibody']", drop: ["css:.ad"]}\n""")
    source = load_sources(path)[0]
    assert source.politeness.scrapy_settings() == {"DOWNLOAD_DELAY": 3, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                                                   "DOWNLOAD_TIMEOUT": 20}
    rules = source.rules()
    assert set(rules) == {"title", "body", "drop"}
    page = html.fromstring("<div><h1 class='headline'>T</h1><p class='ad'>buy</p></div>")
    assert [e.text for e in page.xpath(rules["title"])] == ["T"]    # CSS became XPath
    assert [e.text for e in page.xpath(rules["drop"][0])] == ["buy"]
    assert load_sources(write(tmp_path, GOOD))[0].rules() is None


def test_get_source_names_the_known_ones(tmp_path):
    sources = load_sources(write(tmp_path, GOOD))
    assert get_source(sources, "good").name == "good"
    with pytest.raises(SourcesError, match=r"no source named 'nope' \(known: good\)"):
        get_source(sources, "nope")


# ---------------------------------------------------------------------------- issue 14: hardening

@pytest.mark.parametrize("body, expected", [
    (GOOD.replace("example.com/rss", "example.com:99999/rss"), "field 'start[0].url': 'http://example.com:99999/rss' has an invalid port"),
    (GOOD + "  schedule: {interval_minutes: 1e20}\n", "field 'schedule.interval_minutes'"),
    (GOOD + "  schedule: {interval_minutes: 600000}\n", "field 'schedule.interval_minutes': input should be less than or equal to 527040"),
    (GOOD + "  politeness: {download_delay: 1e20}\n", "field 'politeness.download_delay'"),
    (GOOD + "  max_index_pages: 100000000000000000000\n", "field 'max_index_pages'"),
])
def test_values_that_would_overflow_later_are_rejected_now(tmp_path, body, expected):
    assert expected in error_of(tmp_path, body)


def test_a_key_given_twice_is_an_error(tmp_path):
    message = error_of(tmp_path, GOOD + "  kind: forum\n")
    assert message == "sources.yaml: line 5: invalid YAML: duplicate key 'kind'"
    # anchors merged with `<<` may still be overridden
    path = tmp_path / "merge.yaml"
    path.write_text("x-base: &base {kind: news, start: [{type: feed, url: 'http://a.example/rss'}]}\n"
                    "sources:\n- <<: *base\n  name: merged\n  kind: news\n", "utf-8")
    assert [s.name for s in load_sources(path)] == ["merged"]


def test_a_file_that_is_not_utf8_is_one_line(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_bytes(("sources:\n" + textwrap.indent(GOOD, "  ") + "  notes: 封店\n").encode("gbk"))
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    assert str(info.value).startswith("sources.yaml: not UTF-8 text (byte ")


def test_a_source_time_zone_reaches_the_extractor_and_a_bad_one_is_a_one_line_error(tmp_path):
    from pipelines.extract import extract_page

    [source] = load_sources(write(tmp_path, GOOD.replace("kind: news", "kind: news\n  timezone: Europe/London")))
    assert source.rules() == {"timezone": "Europe/London"}
    page = ("<html><body><article><h1>Store closures</h1><p>Posted 2021-06-03 14:20</p>"
            + "<p>Amazon suspended the accounts of several large sellers this spring, the report said.</p>" * 4
            + "</article></body></html>").encode()
    london = extract_page(page, "http://example.com/a.html", rules=source.rules())
    default = extract_page(page, "http://example.com/a.html")
    assert (london["published"], default["published"]) == ("2021-06-03T14:20:00+01:00", "2021-06-03T14:20:00+08:00")
    message = error_of(tmp_path, GOOD.replace("kind: news", "kind: news\n  timezone: Mars/Olympus"))
    assert "timezone" in message and "IANA time zone" in message
