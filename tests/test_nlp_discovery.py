"""Discovery of names missing from the alias table: boundaries, types, canonical names."""
import pytest

from nlp import Tagger
from nlp.entities import EntityRecognizer
from nlp.resources import load_yaml


def names(tagger, text, types=("seller", "association", "government")):
    return [(e["type"], e["text"], e["name"]) for e in tagger.tag(text)["entities"] if e["type"] in types]


@pytest.mark.parametrize("text, expected", [
    # the left edge: a verb, a particle or a conjunction before the place
    ("卖家走访了深圳市明辉科技有限公司。", ("seller", "深圳市明辉科技有限公司", "深圳市明辉科技")),
    ("公司叫东莞市锐达电子有限公司，主营耳机。", ("seller", "东莞市锐达电子有限公司", "东莞市锐达电子")),
    ("板块中的华源股份大跌。", ("seller", "华源股份", "华源股份")),
    # trade names jieba tags as adjectives or morphemes, places inside a place chain
    ("杭州宏远贸易集团旗下品牌被下架。", ("seller", "杭州宏远贸易集团", "杭州宏远贸易集团")),
    ("厦门市蓝海鲸电子商务有限公司被封。", ("seller", "厦门市蓝海鲸电子商务有限公司", "厦门市蓝海鲸电子商务")),
    ("深圳市龙华区商务局开通绿色通道。", ("government", "深圳市龙华区商务局", "深圳市龙华区商务局")),
    ("中山市小榄镇人民政府组织培训。", ("government", "中山市小榄镇人民政府", "中山市小榄镇人民政府")),
    ("广州市跨境电商行业协会召开座谈会。", ("association", "广州市跨境电商行业协会", "广州市跨境电商行业协会")),
    ("厦门市市场监督管理局提醒卖家。", ("government", "厦门市市场监督管理局", "厦门市市场监督管理局")),
    ("一家名为“优创时代”的大卖也被封了。", ("seller", "优创时代", "优创时代")),
])
def test_chinese_names_end_at_a_suffix_and_start_at_a_place_or_trade_name(tagger, text, expected):
    assert expected in names(tagger, text)


def test_two_names_joined_by_a_verb_stay_two(tagger):
    assert names(tagger, "晋江市商务局会同晋江市电子商务协会调研。") == [
        ("government", "晋江市商务局", "晋江市商务局"), ("association", "晋江市电子商务协会", "晋江市电子商务协会")]


def test_a_branch_named_after_its_parent_is_one_body(tagger):
    assert names(tagger, "中国国际商会深圳商会提供法律咨询。") == [
        ("association", "中国国际商会深圳商会", "中国国际商会深圳商会")]


def test_a_dictionary_organisation_that_starts_with_a_place_is_a_name(tagger):
    # 美国商务部 is one jieba word, so the 商务部 alias (China's ministry) must not claim it
    assert names(tagger, "美国商务部发布报告。") == [("government", "美国商务部", "美国商务部")]


@pytest.mark.parametrize("text", [
    "有关协会表示将继续关注。", "多个行业协会联合发声。", "卖家希望政府出面。", "记者从市商务局了解到。",
    "美国科技巨头纷纷表态。", "深圳科技创新能力很强。", "这家集团旗下有多个品牌。",
    "上海科技馆举办科普活动。", "深圳市第二人民医院调整门诊时间。", "广州城足球俱乐部主场迎战对手。",
    "上海市足球协会公布赛程。", "深圳市速通国际物流有限公司称货量下滑。",
    "Asked about it, the association said nothing.", "Manchester United Football Club confirmed the signing.",
    "The National Basketball Association announced its schedule.",
    "Researchers at the Department of Computer Science at Zhejiang University published it.",
    "Ledger\nHome   Retail   Markets\nTechnology",
])
def test_generic_words_and_other_kinds_of_bodies_are_not_names(tagger, text):
    assert names(tagger, text) == []


@pytest.mark.parametrize("text, expected", [
    ("The Federation of Hong Kong Industries urged Amazon to act.",
     ("association", "Federation of Hong Kong Industries", "Federation of Hong Kong Industries")),
    ("The Bureau of Industry and Security is not involved.",
     ("government", "Bureau of Industry and Security", "Bureau of Industry and Security")),
    ("Shenzhen Customs said goods would be inspected.", ("government", "Shenzhen Customs", "Shenzhen Customs")),
    ("Hangzhou Yilian Network Technology Co Ltd said so.",
     ("seller", "Hangzhou Yilian Network Technology Co Ltd", "Hangzhou Yilian Network Technology")),
    ("Yiwu Sunshine Imp. & Exp. Co., Ltd. posted it.",
     ("seller", "Yiwu Sunshine Imp. & Exp. Co., Ltd.", "Yiwu Sunshine Imp. & Exp.")),
    ("Jiangsu Hengyuan Group said none of its stores were hit.",
     ("seller", "Jiangsu Hengyuan Group", "Jiangsu Hengyuan Group")),
])
def test_english_patterns(tagger, text, expected):
    assert expected in names(tagger, text)


def test_the_legal_form_is_not_part_of_the_canonical_name(tagger):
    full = names(tagger, "深圳市明辉科技有限公司被封。")
    short = names(tagger, "深圳市明辉科技被封。")
    assert full[0][2] == short[0][2] == "深圳市明辉科技"
    assert names(tagger, "华南数码股份有限公司公告。")[0][2] == "华南数码股份"  # the stock name keeps 股份


def test_a_short_form_maps_to_the_full_name_within_one_document_only(tagger):
    text = "深圳市明辉科技有限公司（以下简称“明辉科技”）被封，明辉科技负责人称正在申诉。"
    assert names(tagger, text) == [("seller", "深圳市明辉科技有限公司", "深圳市明辉科技"),
                                   ("seller", "明辉科技", "深圳市明辉科技"), ("seller", "明辉科技", "深圳市明辉科技")]
    # alone, the short form is its own name: another city may have its own 明辉科技
    assert names(tagger, "明辉科技负责人称正在申诉。") == [("seller", "明辉科技", "明辉科技")]


def test_a_quoted_name_is_found_again_without_its_quotes(tagger):
    assert names(tagger, "一家名为“优创时代”的大卖被封，优创时代的老板说损失很大。") == [
        ("seller", "优创时代", "优创时代"), ("seller", "优创时代", "优创时代")]


def test_rules_alone_find_unknown_names(tagger):
    rules_only = EntityRecognizer([], load_yaml("entity_rules.yaml"), tagger._tags)
    text = "福建省电子商务协会提醒会员，杭州市商务局也发布了通知。"
    found = [(e.type, e.text) for e in rules_only.find(text, tagger.segment(text))]
    assert ("association", "福建省电子商务协会") in found and ("government", "杭州市商务局") in found


@pytest.fixture(scope="module")
def bare():
    """A tagger without the alias table: what the rules alone find."""
    return Tagger(keywords=0, alias_table=None)


@pytest.mark.parametrize("text, expected", [
    # sellers naming their own brand, Chinese and English registers
    ("我们家Marlowe的两个站点昨天都被停了。", ("seller", "Marlowe")),
    ("我们店铺（Quillby Home）最近收到很多侵权投诉。", ("seller", "Quillby Home")),
    ("做宠物用品的“橡树屋”店铺被移除了销售权限。", ("seller", "橡树屋")),
    ("旗下“北岸”和“青禾”两个品牌的链接全部不可售。", ("seller", "青禾")),
    ("“山谷手作”速卖通店铺收到了停用通知。", ("seller", "山谷手作")),
    ("包括台中「木栈生活」在内的多名卖家表示店铺被关。", ("seller", "木栈生活")),
    ("We're Harrow Peak, a small camping brand, and our account was deactivated.", ("seller", "Harrow Peak")),
    ("Oakridge Pantry Goods, Inc. said its Amazon store was suspended.", ("seller", "Oakridge Pantry Goods, Inc.")),
    ("The Online Sellers Alliance asked the platform for an appeal channel.", ("association", "Online Sellers Alliance")),
    ("The Royal Thai Police arrested a group selling fake accounts.", ("government", "Royal Thai Police")),
])
def test_rule_patterns_find_sellers_and_bodies_by_their_cues(bare, text, expected):
    assert expected in [(e["type"], e["text"]) for e in bare.tag(text)["entities"]], bare.tag(text)["entities"]


@pytest.mark.parametrize("text", [
    "我们Amazon店铺的广告预算又超了。",        # a platform after a first person is no brand
    "中小企在海外电商平台开店越来越多。",        # 电商 before 平台 describes a trade
    "据拉美电商服务商统计，新卖家增长很快。",
])
def test_platforms_and_trade_descriptions_are_not_sellers(bare, text):
    assert [e for e in bare.tag(text)["entities"] if e["type"] == "seller"] == []


@pytest.mark.parametrize("text, expected", [
    # a parent named before what it owns, at the start of a clause (invented names)
    ("据报道，岚沐旗下品牌的多条链接已经消失。", [("seller", "岚沐", "岚沐")]),
    ("受影响最大的是其中禾屿旗下的家居线。", [("seller", "禾屿", "禾屿")]),
    # an example list after 其中, or after 包括 beside a word for firms, ending in 等
    ("深圳多家大卖业绩下滑，其中岚沐、禾屿等均有站点被封。", [("seller", "岚沐", "岚沐"), ("seller", "禾屿", "禾屿")]),
    ("被波及的品牌包括Velmora、Quintra等。", [("seller", "Velmora", "Velmora"), ("seller", "Quintra", "Quintra")]),
])
def test_bare_sellers_named_by_ownership_or_in_an_example_list(rules_only, text, expected):
    found = names(rules_only, text, ("seller",))
    assert all(e in found for e in expected), found


@pytest.mark.parametrize("text", [
    "阿里旗下的速卖通也调整了规则。",            # a platform's group
    "由于旗下店铺较多，公司分批处理。",            # a function word, not a name
    "平台包括亚马逊、沃尔玛等平台都在收紧。",        # platforms listed, not firms
    "补贴方式包括贴息、奖励等多种形式。",          # 包括 not beside a word for firms
])
def test_ownership_and_example_list_cues_leave_other_words_alone(rules_only, text):
    assert names(rules_only, text, ("seller",)) == []


@pytest.mark.parametrize("text, expected", [
    # a body's short form at the start of a clause as it speaks or acts (no place before it)
    ("公平会指出，平台不得长期扣留卖家货款。", ("government", "公平会", "公平会")),
    ("针对停权争议，数位发展部表示将协助业者。", ("government", "数位发展部", "数位发展部")),
    ("食药署公布一批违规商品名单。", ("government", "食药署", "食药署")),
    # an agency's acronym as it acts
    ("The FTC finalized a rule on fake reviews.", ("government", "FTC", "FTC")),
    ("Last year the CPSC warned buyers about the chargers.", ("government", "CPSC", "CPSC")),
])
def test_bodies_named_by_a_short_form_as_they_act(rules_only, text, expected):
    assert expected in names(rules_only, text)


@pytest.mark.parametrize("text", [
    "公司内部正评估影响。",                 # a department of a firm, not a body
    "市商务局表示将组织培训。",              # "the city's bureau": a reference, not a name
    "俱乐部表示不会上诉。",
    "AUKEY said it would appeal.",        # firms say things too: "said" is no cue
])
def test_short_form_and_acronym_cues_leave_other_words_alone(rules_only, text):
    assert names(rules_only, text, ("government",)) == []
