"""EnrichPipeline with a real Scrapy crawler and settings."""
import pytest
import scrapy
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from pipelines.enrich import EnrichPipeline

DOC = {
    "url": "https://example.com/a",
    "title": "亚马逊封号潮：傲基、帕拓逊店铺被封",
    "text": "深圳市跨境电子商务协会估计，超过5万家中国卖家的店铺被关闭，损失超过1,000多亿元，"
            "其中有棵树约340个站点被封，冻结金额约1.3亿元。",
}
WEATHER = {"url": "https://example.com/w", "title": "明日天气", "text": "明天广州多云转小雨，气温26到33度，降水概率70%。"}


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


def make_pipeline(**settings):
    crawler = get_crawler(settings_dict=settings)
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
    item = pipeline.process_item({"text": "Amazon suspended 3,000 seller accounts.", "title": None, "lang": "en"})
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
    crawler = get_crawler(settings_dict={"NLP_ENABLED": False})
    with pytest.raises(NotConfigured, match="NLP_ENABLED is off"):
        EnrichPipeline.from_crawler(crawler)


def test_threshold_and_drop_settings():
    pipeline, crawler = make_pipeline(NLP_RELEVANCE_THRESHOLD="0.99", NLP_DROP_IRRELEVANT="true")
    assert pipeline.relevance_threshold == 0.99
    with pytest.raises(DropItem):
        pipeline.process_item(dict(WEATHER))
    assert crawler.stats.get_value("nlp/irrelevant") == 1
