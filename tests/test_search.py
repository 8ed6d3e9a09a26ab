"""`banwave search` on the demo web, crawled into the real dev Elasticsearch (conftest's demo_index)."""
from __future__ import annotations

import json
import re

import pytest

from cli.main import main
from cli.query import MARK_END, MARK_START, Filters, QueryParser
from cli.search_quality import url_key
from cli.search import resolve_sellers, search
from searchdata import index_documents

ARTICLE_AUKEY_ZH = "/a/20210508/310508.html"
ARTICLE_AUKEY_EN = "/news/2021/05/10/aukey-products-pulled-from-amazon.html"
POST_AUKEY_ZH = "/thread-1202-1-1.html#pid30031"


@pytest.fixture(scope="module")
def index(demo_search_index):
    return demo_search_index


@pytest.fixture(scope="module")
def parser():
    return QueryParser()


def ranked(index, parser, query, filters=Filters(), size=10):
    client, alias, _ = index
    return [url_key(hit["url"]) for hit in search(client, alias, query, filters, size, parser)["hits"]]


@pytest.mark.parametrize("query, first, also_top5", [
    ("封店", {"/a/20210815/310815.html", "/a/20210512/310512.html"},
     {"/a/20210815/310815.html", "/a/20210512/310512.html"}),
    ("亚马逊封号", {"/a/20210603/310603.html", "/a/20210723/310723.html", "/a/20211020/311020.html",
                 "/a/20210925/310925.html"}, {"/a/20210603/310603.html", "/a/20210723/310723.html"}),
    ("store closures", {"/news/2021/08/19/sellers-diversify-walmart-shopify.html",
                        "/news/2021/07/29/guangdong-officials-meet-sellers.html",
                        "/news/2021/09/17/amazon-blog-600-brands.html"},
     {"/news/2021/07/29/guangdong-officials-meet-sellers.html", "/news/2021/09/17/amazon-blog-600-brands.html"}),
    # a seller's alias in the other language finds both languages
    ("Aukey", {ARTICLE_AUKEY_ZH, ARTICLE_AUKEY_EN, POST_AUKEY_ZH}, {ARTICLE_AUKEY_ZH, POST_AUKEY_ZH}),
    ("傲基", {ARTICLE_AUKEY_ZH, ARTICLE_AUKEY_EN, POST_AUKEY_ZH}, {ARTICLE_AUKEY_EN}),
    ("Sunvalley", {"/a/20210617/310617.html", "/news/2021/06/16/ravpower-taotronics-vava-suspended.html"},
     {"/a/20210617/310617.html"}),
])
def test_expected_documents_come_first(index, parser, query, first, also_top5):
    hits = ranked(index, parser, query)
    assert hits[0] in first, hits
    assert also_top5 <= set(hits[:5]), hits


# one syndicated story: the original, a stock-news republication and a forum repost
SYNDICATED = {"/a/20210705/310705.html", "/a/stock/20210706/320706.html", "/thread-1210-1-1.html#pid30131"}


def test_collapse_shows_one_hit_per_story_with_its_copies(index, parser):
    client, alias, _ = index
    query = "有棵树 通拓 股价"
    every = search(client, alias, query, Filters(), 10, parser)
    assert SYNDICATED <= {url_key(h["url"]) for h in every["hits"]} and every["stories"] is None
    collapsed = search(client, alias, query, Filters(), 10, parser, collapse=True)
    (story,) = [h for h in collapsed["hits"] if url_key(h["url"]) in SYNDICATED]
    assert story["copies"] == 3
    assert len({h["story_id"] for h in collapsed["hits"]}) == len(collapsed["hits"])
    assert collapsed["total"] == every["total"] and collapsed["stories"] < collapsed["total"]


@pytest.mark.parametrize("query, expected_top3", [
    # the words in another order than the text (资金冻结, 资金被冻结)
    ("冻结 资金", {"/thread-1201-1-1.html#pid30011", "/thread-1201-1-1.html#pid30014",
               "/thread-1201-2-1.html#pid30019", "/a/20210512/310512.html"}),
    # a partial form of a word: 被封 / 封店 for 被封店, and a question word (怎么办) that no text has
    ("被封店以后怎么办", {"/a/20210512/310512.html", "/a/20210815/310815.html", "/thread-1201-1-1.html#pid30011"}),
    # a partial organisation name reaches the full one (深圳市跨境电子商务协会)
    ("深圳跨境协会", {"/a/20210603/310603.html", "/a/20210723/310723.html", "/thread-1206-1-1.html#pid30081"}),
    # a word naming a kind of entity matches the documents naming one (深圳市商务局)
    ("政府部门 座谈会", {"/a/20210720/310720.html"}),
])
def test_queries_forgive_form(index, parser, query, expected_top3):
    hits = ranked(index, parser, query)
    assert set(hits[:3]) & expected_top3, hits


def test_collapse_falls_back_when_documents_have_no_story(es, es_env, parser):
    alias = index_documents(es, es_env.index_prefix, [
        {"id": f"d{n}", "url": f"http://x/{n}", "title": f"亚马逊封号 第{n}篇", "text": "卖家店铺被封", "relevant": True}
        for n in range(3)])
    result = search(es, alias, "封号", Filters(), 10, parser, collapse=True)
    assert len(result["hits"]) == 3 and result["stories"] is None  # not one hit for "no story"


def test_homonyms_rank_below_the_wave(index, parser):
    hits = ranked(index, parser, "亚马逊", size=30)
    rainforest = hits.index("/a/20210712/310712.html")
    assert rainforest > hits.index("/a/20210421/310421.html")  # an article about sellers' Amazon stores
    assert all(not h.startswith("/news/2021/06/21/amazon-rainforest") for h in hits[:10])


def test_seller_filter_resolves_aliases(index, parser):
    client, alias, documents = index
    sellers = resolve_sellers(parser, ["AUKEY"])
    assert sellers == ("傲基",)
    result = search(client, alias, "", Filters(sellers=sellers), 100, parser)
    expected = {url_key(d["url"]) for d in documents if "傲基" in d["sellers"]}
    assert {url_key(h["url"]) for h in result["hits"]} == expected and result["total"] == len(expected)
    narrowed = ranked(index, parser, "封", Filters(sellers=resolve_sellers(parser, ["Patozon"])), 100)
    assert narrowed and set(narrowed) <= {url_key(d["url"]) for d in documents if "帕拓逊" in d["sellers"]}


def test_since_and_kind_filters(index, parser):
    client, alias, documents = index
    result = search(client, alias, "卖家", Filters(since="2021-07-01", kind="forum"), 100, parser)
    assert result["hits"]
    for hit in result["hits"]:
        assert hit["source_kind"] == "forum" and hit["published"] >= "2021-07-01"
    news = search(client, alias, "Amazon", Filters(kind="news"), 100, parser)
    assert {hit["source_kind"] for hit in news["hits"]} == {"news"}
    expected = {url_key(d["url"]) for d in documents if d["source_kind"] == "forum" and d["relevant"]}
    relevant_forum = search(client, alias, "", Filters(kind="forum", relevant_only=True), 200, parser)
    assert {url_key(h["url"]) for h in relevant_forum["hits"]} == expected


def test_snippet_marks_the_alias_that_matched(index, parser):
    client, alias, _ = index
    hits = {url_key(h["url"]): h for h in search(client, alias, "Aukey", Filters(), 10, parser)["hits"]}
    assert f"{MARK_START}傲基{MARK_END}" in hits[POST_AUKEY_ZH]["snippet"]
    assert f"{MARK_START}Aukey{MARK_END}" in hits[ARTICLE_AUKEY_EN]["snippet"]
    assert hits[POST_AUKEY_ZH]["sellers"][0] == "傲基"


def test_query_parser_units(parser):
    def units(query):
        return [(u.text, u.entity.name if u.entity else None, u.figure.kind if u.figure else None)
                for u in parser.parse(query)]

    assert units("亚马逊封号") == [("亚马逊", "Amazon", None), ("封号", None, None)]
    assert units("aukey chargers") == [("aukey", "傲基", None), ("chargers", None, None)]
    assert units("好评返现卡") == [("好评", None, None), ("返现卡", None, None)]  # 卡 alone would match nothing
    assert units("losses 100 billion yuan") == [("losses", None, None), ("100 billion yuan", None, "money")]
    # question words and particles are not part of what is asked about
    assert units("傲基损失多少") == [("傲基", "傲基", None), ("损失", None, None)]
    assert units("how many sellers were banned") == [("sellers", None, None), ("banned", None, None)]
    # a name found by its suffix, missing from the alias table, also stands for the fuller names
    (partial,) = parser.parse("广东商务厅")
    assert partial.entity.names == ("广东商务厅", "广东省商务厅") and "广东省商务厅" in partial.entity.forms
    assert [u.kind_of for u in parser.parse("政府部门 回应")] == ["government", None]
    assert parser.resolve("Anker", "seller").name == "安克创新"
    assert parser.resolve("Amazon", "seller") is None


@pytest.fixture
def cli_env(demo_index, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("BANWAVE_ES_URL", demo_index.es_url)
    monkeypatch.setenv("BANWAVE_INDEX_PREFIX", demo_index.index_prefix)


def test_cli_prints_date_source_title_snippet_entities(cli_env, capsys):
    assert main(["search", "Aukey", "--kind", "forum", "-n", "3"]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r'\d+ documents in \d+ stories match "Aukey" \(top 3\); names: 傲基 \(seller\)',
                        out.splitlines()[0])
    first = out.split("\n\n")[1]
    assert "2021-05-10  forum  «傲基»、Mpow都被封了" in first  # the title is marked too
    assert "«傲基»" in first  # highlight marks when not writing to a terminal
    assert "sellers: 傲基, 帕拓逊" in first
    assert "/thread-1202-1-1.html#pid30031" in first.splitlines()[-1]


def test_cli_json_and_seller_filter(cli_env, capsys):
    assert main(["search", "封", "--seller", "Sunvalley", "--since", "2021-06-01", "--json"]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert hits and all("泽宝" in hit["sellers"] and hit["published"] >= "2021-06-01" for hit in hits)


@pytest.mark.slow  # a `banwave` subprocess
def test_cli_rejects_bad_date_and_reports_unreachable_es(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["search", "x", "--since", "June"])
    assert "is not a date like 2021-06-01" in capsys.readouterr().err
    monkeypatch.setenv("BANWAVE_ES_URL", "http://127.0.0.1:9")
    assert main(["search", "封店"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("banwave: searching banwave-docs: cannot reach Elasticsearch") and "\n" not in err
