"""EnrichPipeline with a real Scrapy crawler and settings."""
import pytest
import scrapy
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

import settings as project
from conftest import offline_env
from pipelines.enrich import EnrichPipeline

pytestmark = pytest.mark.slow  # a jieba dictionary per pipeline

NLP_DEFAULTS = {name: getattr(project, name) for name in dir(project) if name.startswith("NLP_")}

DOC = {
    "url": "https://example.com/a", "doc_type": "article",
    "title": "亚马逊封号潮：傲基、帕拓逊店铺被封",
    "text": "深圳市跨境电子商务协会估计，超过5万家中国卖家的店铺被关闭，损失超过1,000多亿元，"
            "其中有棵树约340个站点被封，冻结金额约1.3亿元。",
}
WEATHER = {"url": "https://example.com/w", "doc_type": "article", "title": "明日天气", "text": "明天广州多云转小雨，气温26到33度，降水概率70%。"}


class Document(scrapy.Item):
    url = scrapy.Field()
    title = scrapy.Field()
    text = scrapy.Field()
    lang = scrapy.Field()
    relevant = scrapy.Field()
    relevance = scrapy.Field()
    entities = scrapy.Field()
    figures = scrapy.Field()
    keywords = scrapy.Field()
    sellers = scrapy.Field()
    associations = scrapy.Field()
    platforms = scrapy.Field()
    governments = scrapy.Field()
    media = scrapy.Field()
    persons = scrapy.Field()
    locations = scrapy.Field()
    entity_names = scrapy.Field()
    loss_cny = scrapy.Field()
    stores_max = scrapy.Field()
    relevance_reasons = scrapy.Field()
    context_sellers = scrapy.Field()
    context_associations = scrapy.Field()
    context_platforms = scrapy.Field()
    context_governments = scrapy.Field()
    context_entity_names = scrapy.Field()
    seller_loss_cny = scrapy.Field()
    seller_loss_subject = scrapy.Field()
    doc_type = scrapy.Field()
    source = scrapy.Field()
    thread_id = scrapy.Field()
    post_id = scrapy.Field()
    floor = scrapy.Field()


def make_pipeline(tmp_path=None, **settings):
    """Thread context (NLP_THREAD_CONTEXT=True) keeps its store under tmp_path's data dir."""
    env = {"BANWAVE_ENV": offline_env(tmp_path)} if tmp_path is not None else {}
    crawler = get_crawler(settings_dict={**NLP_DEFAULTS, "NLP_THREAD_CONTEXT": False, **env, **settings})
    crawler.stats.open_spider()  # stats collectors keep values only between open and close
    return EnrichPipeline.from_crawler(crawler), crawler


@pytest.fixture(scope="module")
def pipeline_and_crawler():
    return make_pipeline(NLP_KEYWORDS=5)


def test_adds_the_interface_and_aggregation_fields(pipeline_and_crawler):
    pipeline, crawler = pipeline_and_crawler
    item = pipeline.process_item(dict(DOC))
    assert item["relevant"] is True and item["lang"] == "zh"
    assert item["platforms"] == ["Amazon"]
    assert item["sellers"] == ["傲基", "帕拓逊", "有棵树"]
    assert item["associations"] == ["深圳市跨境电子商务协会"]
    assert item["governments"] == [] and item["media"] == []
    assert "Amazon" in item["entity_names"] and "傲基" in item["entity_names"]
    assert item["loss_cny"] == 1e11
    assert item["stores_max"] == 50_000
    assert len(item["keywords"]) <= 5
    joined = DOC["title"] + "\n" + DOC["text"]
    assert all(joined[e["start"]:e["end"]] == e["text"] for e in item["entities"] + item["figures"])


def test_irrelevant_documents_are_marked_and_counted(pipeline_and_crawler):
    pipeline, crawler = pipeline_and_crawler
    before = crawler.stats.get_value("nlp/irrelevant", 0)
    item = pipeline.process_item(dict(WEATHER))
    assert item["relevant"] is False and item["loss_cny"] is None and item["stores_max"] is None
    assert crawler.stats.get_value("nlp/irrelevant") == before + 1
    assert crawler.stats.get_value("nlp/tagged") >= 1


def test_text_alone_without_title_and_given_lang(pipeline_and_crawler):
    pipeline, _ = pipeline_and_crawler
    item = pipeline.process_item({"doc_type": "article", "text": "Amazon suspended 3,000 seller accounts.",
                                  "title": None, "lang": "en"})
    assert item["lang"] == "en" and item["stores_max"] == 3000
    assert item["figures"][0]["start"] == len("Amazon suspended ")


def test_scrapy_items_with_declared_fields_work(pipeline_and_crawler):
    pipeline, _ = pipeline_and_crawler
    item = pipeline.process_item(Document(**DOC))
    assert isinstance(item, Document) and item["platforms"] == ["Amazon"]


def test_non_document_items_pass_through(pipeline_and_crawler):
    pipeline, _ = pipeline_and_crawler
    assert pipeline.process_item({"run_id": "r1"}) == {"run_id": "r1"}


def test_disabled_raises_not_configured():
    crawler = get_crawler(settings_dict={**NLP_DEFAULTS, "NLP_ENABLED": False})
    with pytest.raises(NotConfigured, match="NLP_ENABLED is off"):
        EnrichPipeline.from_crawler(crawler)


def test_threshold_and_drop_settings():
    pipeline, crawler = make_pipeline(NLP_RELEVANCE_THRESHOLD="0.99", NLP_DROP_IRRELEVANT="true")
    assert pipeline.relevance_threshold == 0.99
    with pytest.raises(DropItem):
        pipeline.process_item(dict(WEATHER))
    assert crawler.stats.get_value("nlp/irrelevant") == 1


# ---------------------------------------------------------------------------- thread context
LOSS_THREAD = "说说最近这事，大家怎么看？"  # says nothing about the wave: the opening post does
OPENER = "深圳市跨境电子商务协会估计这次被封的卖家有五万家左右，损失超过一千亿元。"
REPLY = "总结得好，这帖可以结了。"
HIKE_THREAD = "周末有人一起爬梧桐山吗"


def post(floor: int, text: str, title: str = LOSS_THREAD, thread_id: str = "1206", source: str = "forum",
         post_id: str | None = None) -> dict:
    return {"url": f"https://bbs.example.com/thread-{thread_id}.html#pid{post_id or floor}", "doc_type": "post",
            "source": source, "thread_id": thread_id, "post_id": post_id or str(floor), "floor": floor,
            "title": title, "text": text}


@pytest.fixture
def thread_pipeline(tmp_path):
    pipeline, crawler = make_pipeline(tmp_path, NLP_THREAD_CONTEXT=True)
    yield pipeline, crawler
    pipeline.close_spider()


def test_reply_inherits_a_relevant_thread(thread_pipeline):
    pipeline, crawler = thread_pipeline
    alone = pipeline.tagger.tag(f"{LOSS_THREAD}\n{REPLY}")
    assert alone["relevant"] is False  # the reply judged alone, as before thread context
    opener = pipeline.process_item(post(1, OPENER))
    reply = pipeline.process_item(Document(**post(10, REPLY)))
    assert opener["relevant"] is True
    assert reply["relevant"] is True and reply["relevance"] == opener["relevance"]
    assert crawler.stats.get_value("nlp/relevant_by_thread") == 1


def test_relevance_is_the_larger_of_own_and_thread(thread_pipeline):
    pipeline, _ = thread_pipeline
    opener = pipeline.process_item(post(1, "周六早上有人一起去爬梧桐山吗？", HIKE_THREAD, "1208"))
    chat = pipeline.process_item(post(2, "对，早上七点半在登山口集合。", HIKE_THREAD, "1208"))
    banned = pipeline.process_item(post(3, "爬完山回来发现亚马逊店铺被封了，账号冻结。", HIKE_THREAD, "1208"))
    assert opener["relevant"] is chat["relevant"] is False
    own = pipeline.tagger.tag(f"{HIKE_THREAD}\n对，早上七点半在登山口集合。")["relevance"]
    assert chat["relevance"] == max(own, opener["relevance"])
    assert banned["relevant"] is True and banned["relevance"] > opener["relevance"]
    assert 0.0 <= banned["relevance"] <= 1.0


def test_thread_relevance_persists_across_runs(tmp_path):
    first, _ = make_pipeline(tmp_path, NLP_THREAD_CONTEXT=True)
    opener = first.process_item(post(1, OPENER))
    first.close_spider()
    assert (tmp_path / "data" / "nlp" / "threads.sqlite").exists()

    second, crawler = make_pipeline(tmp_path, NLP_THREAD_CONTEXT=True)
    try:
        page_two = second.process_item(post(6, REPLY))               # a later page, next crawl run
        other_source = second.process_item(post(6, REPLY, source="other-forum"))
        unknown = second.process_item(post(6, REPLY, thread_id="9999"))
    finally:
        second.close_spider()
    assert page_two["relevant"] is True and page_two["relevance"] == opener["relevance"]
    assert other_source["relevant"] is False and unknown["relevant"] is False  # keyed by source + thread id
    assert crawler.stats.get_value("nlp/relevant_by_thread") == 1


def test_only_the_opening_post_sets_the_thread_score(thread_pipeline):
    pipeline, _ = thread_pipeline
    opener = pipeline.process_item(post(1, OPENER, post_id="30081"))
    # a later page whose floors are positions on the page: its first post claims floor 1 too
    later = pipeline.process_item(post(1, REPLY, post_id="30086"))
    reply = pipeline.process_item(post(7, REPLY, post_id="30087"))
    assert later["relevance"] == reply["relevance"] == opener["relevance"]
    edited = pipeline.process_item(post(1, "楼主已删除内容。", post_id="30081"))  # re-crawled, emptied opener
    assert edited["relevant"] is False
    assert pipeline.process_item(post(8, REPLY, post_id="30088"))["relevant"] is False


def test_no_thread_context_without_opener_thread_id_or_setting(thread_pipeline):
    pipeline, _ = thread_pipeline
    assert pipeline.process_item(post(5, REPLY, thread_id="1300"))["relevant"] is False  # opener not seen
    pipeline.process_item(post(1, OPENER, thread_id=""))
    assert pipeline.process_item(post(2, REPLY, thread_id=""))["relevant"] is False
    article = pipeline.process_item({**post(1, OPENER), "doc_type": "article", "thread_id": None})
    assert article["relevant"] is True
    off, _ = make_pipeline(NLP_THREAD_CONTEXT=False)
    assert off.threads is None
    off.process_item(post(1, OPENER))
    assert off.process_item(post(2, REPLY))["relevant"] is False


def test_thread_context_needs_the_crawls_environment():
    crawler = get_crawler(settings_dict={**NLP_DEFAULTS, "NLP_THREAD_CONTEXT": True})
    with pytest.raises(NotConfigured, match="BANWAVE_ENV"):
        EnrichPipeline.from_crawler(crawler)


# ---------------------------------------------------------------------------- own text vs context
TOMTOP_THREAD = "通拓和有棵树都披露了冻结资金，损失超过1亿元"


def test_a_reply_holds_only_what_its_own_text_names(pipeline_and_crawler):
    pipeline, _ = pipeline_and_crawler
    reply = pipeline.process_item(post(5, "我们也被封了两个店，太难了。", TOMTOP_THREAD, "2201"))
    assert reply["sellers"] == [] and reply["entity_names"] == []
    assert reply["context_sellers"] == ["通拓", "有棵树"] and reply["context_entity_names"] == ["通拓", "有棵树"]
    assert all(e["start"] > len(TOMTOP_THREAD) for e in reply["entities"] + reply["figures"])
    assert reply["loss_cny"] is None  # the title's figure is the thread's, not this reply's
    naming = pipeline.process_item(post(6, "通拓那边据说已经解封了。", TOMTOP_THREAD, "2201"))
    assert naming["sellers"] == ["通拓"] and naming["context_sellers"] == ["有棵树"]


def test_the_opening_post_owns_its_thread_title(pipeline_and_crawler):
    pipeline, _ = pipeline_and_crawler
    opener = pipeline.process_item(post(1, "详情见两家公司的公告。", TOMTOP_THREAD, "2202"))
    assert opener["sellers"] == ["通拓", "有棵树"] and opener["context_sellers"] == []
    assert opener["loss_cny"] == 1e8


def test_only_losses_frozen_funds_and_fines_feed_loss_cny(pipeline_and_crawler):
    pipeline, _ = pipeline_and_crawler
    sales = pipeline.process_item({"doc_type": "article", "title": "傲基旗下产品被下架", "text": "此次处理对象已扩展至年销售额数十亿元的头部企业。"})
    assert sales["figures"][0]["role"] == "sales" and sales["loss_cny"] is None
    mixed = pipeline.process_item({"doc_type": "article", "title": "", "text": "行业损失估计超过1000亿元；有棵树冻结资金约1.3亿元，获得补贴200万元。"})
    assert [f["role"] for f in mixed["figures"]] == ["loss", "frozen", "subsidy"]
    assert mixed["loss_cny"] == 1e11
    assert (mixed["seller_loss_cny"], mixed["seller_loss_subject"]) == (1.3e8, "有棵树")


@pytest.mark.slow  # builds two Taggers (jieba's dictionary each)
def test_crawls_of_one_process_share_a_tagger_per_nlp_settings():
    """`banwave worker` and `banwave crawl --all` open a crawl per source: one Tagger per process and
    settings (jieba's dictionary loads once), a new one when the settings that build it differ."""
    first, _ = make_pipeline()
    second, _ = make_pipeline(NLP_RELEVANCE_THRESHOLD=0.7)  # read per document, not by the Tagger
    other, _ = make_pipeline(NLP_KEYWORDS=3)
    assert first.tagger is second.tagger
    assert other.tagger is not first.tagger and other.tagger.keywords == 3
