"""Near-duplicate stories (pipelines/dedupe.py) on the demo web's texts and framed copies of them."""
from __future__ import annotations

import itertools
from collections import Counter
from types import SimpleNamespace

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

import settings as project
from pipelines.enrich import EnrichPipeline
from pipelines.dedupe import DedupePipeline, MinHasher, StoryStore, similarity, tokens

import demo
from conftest import offline_env


GOLD = demo.gold()
# Originals only: the demo web's own republished copies (gold "story_of") are tested in test_stories_demo.py.
ORIGINALS = [g for g in GOLD if not g.get("story_of")]
ARTICLES = [g for g in ORIGINALS if g["doc_type"] == "article"]
COPIES = [g for g in GOLD if g.get("story_of")]
BY_URL = {g["url"]: g for g in GOLD}


class Stats(Counter):
    def inc_value(self, key, count=1):
        self[key] += count


@pytest.fixture(scope="module")
def tokenizer(tagger):
    """The NLP stage's tokenizer, which DedupePipeline uses in a crawl (user dictionary, entity names)."""
    return tagger.tokenizer


def make_pipeline(tmp_path, tokenizer) -> DedupePipeline:
    store = StoryStore(tmp_path / "stories.sqlite", project.DEDUPE_THRESHOLD, project.DEDUPE_BANDS)
    return DedupePipeline(store, MinHasher(project.DEDUPE_PERMUTATIONS), tokenizer, project.DEDUPE_MIN_TOKENS, Stats())


def doc(doc_id: str, text: str) -> dict:
    return {"id": doc_id, "doc_type": "article", "text": text}


def syndicated(gold: dict) -> list[str]:
    """Copies of an article as other sites publish them: another frame, a cut, a lead, no headline."""
    text, paragraphs = gold["text"], gold["text"].split("\n")
    return [
        f"来源：某某网\n{text}\n责任编辑：张三\n（本文转载自南岭财经网，版权归原作者所有）",
        "\n".join(paragraphs[:-1]) if len(paragraphs) > 2 else text,
        f"【编者按】近期跨境电商行业动态频出。\n{text}",
        f"Reuters | {gold['title']}\n{text}\nReporting by John Doe; Editing by Jane Roe",
    ]


def test_syndicated_copies_join_the_original_story(tmp_path, tokenizer):
    pipeline = make_pipeline(tmp_path, tokenizer)
    for gold in ARTICLES:
        original = pipeline.process_item(doc(gold["url"], gold["text"]))
        assert original["story_id"] == gold["url"]
        for n, copy in enumerate(syndicated(gold)):
            item = pipeline.process_item(doc(f"{gold['url']}-copy{n}", copy))
            assert item["story_id"] == gold["url"], (gold["url"], n)


def test_different_articles_on_the_same_subject_stay_apart(tmp_path, tokenizer):
    pipeline = make_pipeline(tmp_path, tokenizer)
    items = [pipeline.process_item(doc(g["url"], g["text"])) for g in ORIGINALS]
    assert [item["story_id"] for item in items] == [g["url"] for g in ORIGINALS]
    assert pipeline.stats["dedupe/near_duplicate"] == 0


def test_the_demo_webs_own_copies_join_their_original(tmp_path, tokenizer):
    pipeline = make_pipeline(tmp_path, tokenizer)
    for g in GOLD:  # gold order: originals of each site before its copies, cn-news before the forum
        item = pipeline.process_item(doc(g["url"], g["text"]))
        assert item["story_id"] == g.get("story_of", g["url"]), g["url"]
    assert pipeline.stats["dedupe/near_duplicate"] == len(COPIES) == 3


def test_measured_margin_around_the_threshold(tokenizer):
    """The documented figures: distinct demo texts share <= 0.3, framed copies >= 0.6 (threshold 0.5)."""
    hasher = MinHasher(project.DEDUPE_PERMUTATIONS)
    sig = {g["url"]: hasher.signature(tokens(g["text"], tokenizer)) for g in ARTICLES + COPIES}
    distinct = max(similarity(sig[a], sig[b]) for a, b in itertools.combinations(sig, 2)
                   if BY_URL[a].get("story_of", a) != BY_URL[b].get("story_of", b))
    copies = min([similarity(sig[g["url"]], hasher.signature(tokens(c, tokenizer)))
                  for g in ARTICLES for c in syndicated(g)] + [similarity(sig[g["url"]], sig[g["story_of"]]) for g in COPIES])
    assert distinct <= 0.3 < project.DEDUPE_THRESHOLD < 0.6 <= copies


def test_short_posts_are_their_own_story(tmp_path, tokenizer):
    pipeline = make_pipeline(tmp_path, tokenizer)
    first = pipeline.process_item(doc("p1", "顶，同问"))
    second = pipeline.process_item(doc("p2", "顶，同问"))
    assert (first["story_id"], second["story_id"]) == ("p1", "p2")
    assert pipeline.stats["dedupe/too_short"] == 2


def test_stories_persist_across_runs_and_recrawls(tmp_path, tokenizer):
    gold = ARTICLES[0]
    first_run = make_pipeline(tmp_path, tokenizer)
    first_run.process_item(doc("a", gold["text"]))
    first_run.close_spider()
    next_run = make_pipeline(tmp_path, tokenizer)
    assert next_run.process_item(doc("b", syndicated(gold)[0]))["story_id"] == "a"
    # a re-crawled document keeps its story even if its text changed completely
    assert next_run.process_item(doc("a", ARTICLES[1]["text"]))["story_id"] == "a"
    assert next_run.process_item(doc("c", ARTICLES[1]["text"]))["story_id"] == "c"


def test_non_documents_pass_through(tmp_path, tokenizer):
    item = {"run": 1}
    assert make_pipeline(tmp_path, tokenizer).process_item(item) is item


def crawler_with(tmp_path, *pipelines):
    """A crawler whose engine holds these item pipelines (what DedupePipeline.open_spider looks at)."""
    base = {name: getattr(project, name) for name in dir(project) if name.startswith("DEDUPE_")}
    crawler = get_crawler(settings_dict={**base, "BANWAVE_ENV": offline_env(tmp_path)})
    crawler.engine = SimpleNamespace(scraper=SimpleNamespace(itemproc=SimpleNamespace(middlewares=pipelines)))
    return crawler


def test_segments_with_the_nlp_stages_tokenizer(tmp_path, tagger):
    """No second jieba dictionary in a crawl: dedupe uses the EnrichPipeline's Tagger's tokenizer."""
    crawler = crawler_with(tmp_path, object(), EnrichPipeline(tagger, Stats(), 0.5, False))
    pipeline = DedupePipeline.from_crawler(crawler)
    crawler.engine.scraper.itemproc.middlewares += (pipeline,)
    assert pipeline.tokenizer is None  # nothing loaded at construction
    pipeline.open_spider()
    assert pipeline.tokenizer is tagger.tokenizer
    assert pipeline.process_item(doc("a", ARTICLES[0]["text"]))["story_id"] == "a"
    pipeline.close_spider()


def test_without_the_nlp_stage_the_same_dictionary_is_loaded(tmp_path, tokenizer):
    crawler = crawler_with(tmp_path)
    pipeline = DedupePipeline.from_crawler(crawler)
    pipeline.open_spider()
    assert pipeline.tokenizer is not None and pipeline.tokenizer is not tokenizer
    text = "有棵树、通拓相继披露店铺被封情况，泽宝旗下品牌被下架"  # entity names from the alias table
    assert tokens(text, pipeline.tokenizer) == tokens(text, tokenizer)
    pipeline.close_spider()


@pytest.mark.parametrize("settings,missing", [({"DEDUPE_ENABLED": False}, "DEDUPE_ENABLED"),
                                              ({"BANWAVE_ENV": None}, "BANWAVE_ENV")])
def test_not_configured_names_the_setting(tmp_path, settings, missing):
    base = {name: getattr(project, name) for name in dir(project) if name.startswith("DEDUPE_")}
    crawler = get_crawler(settings_dict={**base, "BANWAVE_ENV": offline_env(tmp_path), **settings})
    with pytest.raises(NotConfigured, match=missing):
        DedupePipeline.from_crawler(crawler)


def test_a_bad_value_is_an_error_not_off(tmp_path):
    """Issue 14: DEDUPE_BANDS not dividing DEDUPE_PERMUTATIONS used to turn dedupe off."""
    import config

    base = {name: getattr(project, name) for name in dir(project) if name.startswith("DEDUPE_")}
    crawler = get_crawler(settings_dict={**base, "BANWAVE_ENV": offline_env(tmp_path), "DEDUPE_BANDS": 30})
    with pytest.raises(config.SettingError, match="DEDUPE_PERMUTATIONS=128 must be a multiple of DEDUPE_BANDS=30"):
        DedupePipeline.from_crawler(crawler)
