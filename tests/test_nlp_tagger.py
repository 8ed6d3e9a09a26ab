"""Tagger behaviour: entities, context, relevance, keywords, the interface and tag_record."""
import jieba
import pytest

from nlp import tag_record
from nlp.evaluation import load_gold
from nlp.resources import load_aliases

ENTITY_KEYS = {"type", "text", "start", "end", "name"}
FIGURE_KEYS = {"kind", "text", "start", "end", "value", "currency", "qualifier", "value_cny", "counted",
               "value_max", "value_cny_max", "role", "scope", "subject"}


def names(result, etype=None):
    return [(e["type"], e["text"], e["name"]) for e in result["entities"] if etype in (None, e["type"])]


def test_interface_fields_and_types(tagger):
    result = tagger.tag("深圳市跨境电子商务协会称，亚马逊已关闭超过5万家中国卖家的店铺。")
    assert set(result) == {"lang", "relevant", "relevance", "relevance_reasons", "entities", "figures", "keywords"}
    assert result["relevance_reasons"] and all(isinstance(r, str) for r in result["relevance_reasons"])
    assert result["lang"] == "zh" and result["relevant"] is True and 0.5 <= result["relevance"] <= 1
    assert all(set(e) == ENTITY_KEYS for e in result["entities"])
    assert all(set(f) == FIGURE_KEYS for f in result["figures"])
    assert all(isinstance(k, str) for k in result["keywords"]) and len(result["keywords"]) <= tagger.keywords


@pytest.mark.parametrize("surface", ["傲基", "傲基股份", "傲基科技", "Aukey"])
def test_aliases_share_one_canonical_name(tagger, surface):
    result = tagger.tag(f"据报道，{surface}的多个店铺被封。")
    assert ("seller", surface, "傲基") in names(result)


def test_english_aliases_map_to_the_chinese_canonical_name(tagger):
    result = tagger.tag("The Shenzhen Cross-Border E-Commerce Association said Amazon had closed the stores.")
    assert names(result) == [("association", "Shenzhen Cross-Border E-Commerce Association", "深圳市跨境电子商务协会"),
                             ("platform", "Amazon", "Amazon")]


@pytest.mark.parametrize("text", [
    "亚马逊雨林的火点数量增加了三成。", "科考队沿亚马逊河逆流而上。",
    "Deforestation in the Amazon rainforest rose.", "A trip up the Amazon River.", "The Amazon basin is vast.",
    "Fire activity in the Brazilian Amazon picked up early.",
])
def test_the_rainforest_and_the_river_are_not_the_platform(tagger, text):
    result = tagger.tag(text)
    assert names(result, "platform") == []
    assert result["relevant"] is False


@pytest.mark.parametrize("text, expected", [
    ("杭州市跨境电子商务协会呼吁会员停止刷单。", ("association", "杭州市跨境电子商务协会", "杭州市跨境电子商务协会")),
    ("据东莞市商务局统计，影响很大。", ("government", "东莞市商务局", "东莞市商务局")),
    ("义乌市人民政府出台扶持办法。", ("government", "义乌市人民政府", "义乌市人民政府")),
    ("深圳市晨曦科技有限公司负责人坦言", ("seller", "深圳市晨曦科技有限公司", "深圳市晨曦科技")),
    ("The Hangzhou Bureau of Commerce said so.",
     ("government", "Hangzhou Bureau of Commerce", "Hangzhou Bureau of Commerce")),
    ("The Fujian Cross-Border E-Commerce Association said so.",
     ("association", "Fujian Cross-Border E-Commerce Association", "Fujian Cross-Border E-Commerce Association")),
    ("Shenzhen Ruixin Technology Co., Ltd. said so.",
     ("seller", "Shenzhen Ruixin Technology Co., Ltd.", "Shenzhen Ruixin Technology")),
])
def test_rules_find_names_missing_from_the_alias_table(tagger, text, expected):
    assert expected in names(tagger.tag(text))


def test_a_generic_association_without_a_place_is_not_a_name(tagger):
    assert names(tagger.tag("跨境电商协会的人说可以集体申诉。"), "association") == []


def test_offsets_slice_back_to_the_surface_text(tagger):
    for gold in load_gold("tests/data/nlp/gold.jsonl"):
        result = tagger.tag(gold["text"])
        for item in result["entities"] + result["figures"]:
            assert gold["text"][item["start"]:item["end"]] == item["text"]


@pytest.mark.parametrize("text", [
    "深圳地铁14号线将于10月28日开通初期运营，设站18座。",
    "明天广州多云转小雨，气温26到33度，降水概率70%。",
    "因疫情防控需要，该小区实施封控管理。",
    "The new metro line opens on Saturday with 18 stations.",
    "Walmart will close four stores in Chicago next month.",
    "Amazon reported quarterly revenue of $127 billion.",
])
def test_unrelated_documents_are_not_relevant(tagger, text):
    assert tagger.tag(text)["relevant"] is False


@pytest.mark.parametrize("text", [
    "求助！亚马逊店铺被封了，账号里还压着3万多刀没回款。",
    "Amazon suspended my seller account for review manipulation.",
    "通拓科技表示，此次被封的账号数量不多。",
])
def test_closure_documents_are_relevant(tagger, text):
    assert tagger.tag(text)["relevant"] is True


def test_relevance_threshold_can_be_overridden(tagger):
    text = "亚马逊Prime会员日将于7月举行。"
    score = tagger.tag(text)["relevance"]
    assert tagger.tag(text, relevance_threshold=score)["relevant"] is True
    assert tagger.tag(text)["relevant"] is False


def test_keywords_skip_stop_words_and_figure_fragments(tagger):
    keywords = tagger.tag("亚马逊封号潮中，卖家损失超过1,000多亿元，卖家纷纷申诉，亚马逊表示将继续打击刷单。")["keywords"]
    assert "亚马逊" in keywords and "卖家" in keywords
    assert "表示" not in keywords and not any("亿" in k for k in keywords)


def test_language_is_detected_or_taken_from_the_caller(tagger):
    assert tagger.tag("Amazon closed the store of 傲基.")["lang"] == "en"
    assert tagger.tag("亚马逊封了Aukey的店铺")["lang"] == "zh"
    assert tagger.tag("亚马逊封了Aukey的店铺", lang="en")["lang"] == "en"
    assert tagger.tag("亚马逊封了Aukey的店铺", lang="fr")["lang"] == "zh"


def test_tag_record_keeps_the_id_and_reports_bad_records(tagger):
    assert tag_record({"id": "a1", "text": "Amazon"}, tagger)["id"] == "a1"
    assert tag_record({"id": "a2"}, tagger) == {"id": "a2", "error": 'missing or non-string "text"'}
    assert tag_record([1], tagger, line_number=7) == {"id": 7, "error": "expected a JSON object, got list"}
    assert tag_record({"text": 5}, tagger, line_number=3)["id"] == 3


def test_every_chinese_alias_segments_as_one_word(tagger):
    for alias in load_aliases():
        for form in alias.forms:
            if not form.isascii():
                assert tagger.segment(form).words == [form]


def test_the_global_jieba_tokenizer_is_never_used(tagger):
    tagger.tag("亚马逊封号潮波及5万卖家")
    assert jieba.dt.initialized is False


@pytest.mark.slow  # tags a few hundred texts three times and builds two more Taggers
def test_tagging_is_a_pure_function_of_the_document(tagger):
    """A document's tags do not depend on what the tagger (or another one in the process) tagged
    before: the same output in shuffled order, after other texts, and from a fresh Tagger. This is
    what lets `banwave worker` share one Tagger between its crawls (pipelines.enrich.shared_tagger)."""
    import random
    from pathlib import Path

    from nlp import Tagger

    data = Path(__file__).parent / "data" / "nlp"
    texts = [g["text"] for name in ("gold_plain.jsonl", "blind1.jsonl") for g in load_gold(data / name)]
    others = [g["text"] for g in load_gold(data / "gold.jsonl")]
    first = [tagger.tag(text) for text in texts]
    fresh = Tagger(keywords=tagger.keywords, alias_table=None)  # another Tagger, other aliases, same process
    fresh.tag(" ".join(others))
    order = list(range(len(texts)))
    random.Random(5).shuffle(order)
    again = {}
    for i, j in zip(order, reversed(order)):
        again[i] = tagger.tag(texts[i])
        tagger.tag(others[j % len(others)])  # something else in between
    assert [again[i] for i in range(len(texts))] == first
    new = Tagger(keywords=tagger.keywords)
    assert [new.tag(text) for text in texts[:40]] == first[:40]
