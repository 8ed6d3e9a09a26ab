"""Regression tests for the failures reported in issue 10, each in our own words: relevance recall
(冻结资金 / 暂停, English loss reports, forum counts), unknown sellers, traditional Chinese, what a
figure measures, and the data files' validation."""
import pytest
import yaml

from nlp.resources import DataError, load_yaml, validate
from nlp.script import Simplifier


def names(result, *types):
    return [(e["type"], e["text"], e["name"]) for e in result["entities"] if not types or e["type"] in types]


def figures(result):
    return [(f["kind"], f["value"], f["currency"], f["role"]) for f in result["figures"]]


# --- relevance recall: substrings, 暂停, English loss reports, forum talk ------------------------

@pytest.mark.parametrize("text", [
    "华南一家上市卖家公告称，公司多个站点被平台暂停，涉及冻结资金约2亿元。",   # 冻结资金 contains 冻结
    "其旗下店铺已被暂停，目前正在与平台沟通。",                                 # 暂停 alone
    "Losses at Aukey alone were estimated at 300 million yuan.",               # a named seller, in English
    "刚刷到消息，这一波封号据说已经好几万家了，太离谱",
    "Sellers who relied on incentivised reviews saw their accounts deactivated this month.",
])
def test_reports_of_the_wave_are_relevant(tagger, text):
    result = tagger.tag(text)
    assert result["relevant"] is True, result["relevance"]
    assert result["relevance_reasons"]  # an analyst can see why


@pytest.mark.parametrize("text", [
    "亚马逊Prime会员日期间，中国卖家的销售额同比增长两成。",
    "亚马逊宣布自下月起上调部分类目的配送费。",
    "警方提醒：所谓兼职刷单、先垫付后返利都是诈骗，已有大学生被骗3万元。",
    "巴西政府公布了亚马逊雨林的最新砍伐数据。",
    "Amazon's stock rose 2% after the earnings call.",
])
def test_near_misses_stay_irrelevant(tagger, text):
    assert tagger.tag(text)["relevant"] is False


def test_reasons_name_the_terms_behind_the_score(tagger):
    reasons = tagger.tag("账号被封，资金冻结，亚马逊店铺全挂了")["relevance_reasons"]
    assert any(r.startswith("closure:") and "冻结" in r for r in reasons)


# --- unknown sellers, without the alias table ---------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("温州市启航鞋业有限公司的两个店铺被封。", ("seller", "温州市启航鞋业有限公司")),
    ("义乌市鼎盛日用品有限公司近日入驻新平台。", ("seller", "义乌市鼎盛日用品有限公司")),
    ("东莞的华粤五金也受到了波及。", ("seller", "华粤五金")),
    ("唐风、森禾、青木等大卖的店铺也被封了。", ("seller", "森禾")),
    ("我们「木与光」的帐号被停了。", ("seller", "木与光")),
    ("“小鹿厨具”等中国品牌同样受到影响。", ("seller", "小鹿厨具")),
    ("Shenzhen Brightwave Technology Co., Ltd. said so.", ("seller", "Shenzhen Brightwave Technology Co., Ltd.")),
    ("Xiamen Bluewave Industrial Co. said it would close a warehouse.", ("seller", "Xiamen Bluewave Industrial Co.")),
    ("The company said its brand Lumivo was delisted.", ("seller", "Lumivo")),
    ("The Zhejiang Cross-border E-commerce Association met sellers.",
     ("association", "Zhejiang Cross-border E-commerce Association")),
    ("The Competition and Markets Authority opened an inquiry.", ("government", "Competition and Markets Authority")),
    ("国家统计局发布了最新数据。", ("government", "国家统计局")),
])
def test_unknown_names_are_found_by_patterns(rules_only, text, expected):
    assert expected in [(t, s) for t, s, _ in names(rules_only.tag(text))]


@pytest.mark.parametrize("text", [
    "龙华、宝安等地的卖家都在观望。",          # places in a list, not firms
    "亚马逊、eBay等电商平台都收紧了规则。",    # platforms before 等电商平台
    "卖家小李告诉记者，店铺已恢复。",          # a person, not a firm
    "平台以“虚假发货”为由处罚了店铺。",        # a quoted term, not a name
])
def test_lists_quotes_and_people_that_are_not_sellers(rules_only, text):
    assert names(rules_only.tag(text), "seller") == []


def test_a_brand_and_its_company_in_parentheses_share_one_name(rules_only):
    found = names(rules_only.tag("杭州海岚电子商务有限公司（Lumora）的店铺被关闭，Lumora表示正在申诉。"), "seller")
    assert found[:2] == [("seller", "杭州海岚电子商务有限公司", "杭州海岚电子商务"),
                         ("seller", "Lumora", "杭州海岚电子商务")]
    acronym = names(rules_only.tag("福建省跨境电子商务协会（FCEA）发出倡议。"), "association")
    assert {name for _, _, name in acronym} == {"福建省跨境电子商务协会"} and len(acronym) == 2


def test_known_sellers_keep_their_alias_names_when_paired(tagger):
    assert names(tagger.tag("傲基股份（Aukey）发布公告。"), "seller") == [
        ("seller", "傲基股份", "傲基"), ("seller", "Aukey", "傲基")]


# --- traditional Chinese ------------------------------------------------------------------------

def test_traditional_text_is_tagged_with_its_own_offsets_and_surfaces(tagger):
    text = "台北市電腦商業同業公會估計，已有超過3萬家賣家的蝦皮帳號被停權，凍結金額逾新台幣2億元。"
    result = tagger.tag(text)
    assert result["relevant"] is True
    assert ("association", "台北市電腦商業同業公會", "台北市电脑商业同业公会") in names(result)
    assert ("platform", "蝦皮", "Shopee") in names(result)
    for item in result["entities"] + result["figures"]:
        assert text[item["start"]:item["end"]] == item["text"]
    assert ("count", 30000.0, None, None) in figures(result)
    assert ("money", 2e8, "TWD", "frozen") in figures(result)


def test_wan_and_hong_kong_dollars_in_traditional_text(tagger):
    result = tagger.tag("香港總商會表示，逾1.2萬家網店受影響，部分商戶損失達數百萬港元。")
    assert ("association", "香港總商會", "香港总商会") in names(result)
    assert ("count", 12000.0, None, None) in figures(result)
    assert ("money", 1e6, "HKD", "loss") in figures(result)


def test_aliases_match_in_either_script(tagger):
    assert names(tagger.tag("亞馬遜封了帕拓遜的店"), "platform", "seller") == [
        ("platform", "亞馬遜", "Amazon"), ("seller", "帕拓遜", "帕拓逊")]


def test_the_simplified_copy_keeps_every_offset():
    simplifier = Simplifier()
    for text in ["臺灣賣家的帳號被凍結了", "乾隆年間的著作", "no Chinese at all", "", "𠀀萬"]:
        assert len(simplifier.simplify(text)) == len(text)
    assert simplifier.simplify("賣家帳號") == "卖家帐号"


# --- what a figure measures ---------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("处理对象已扩展至年销售额数十亿元的头部企业。", ("money", 1e9, "CNY", "sales")),
    ("公司被冻结资金约8000万元。", ("money", 8e7, "CNY", "frozen")),
    ("协会估计行业损失超过1000亿元。", ("money", 1e11, "CNY", "loss")),
    ("该店因售假被罚款5万欧元。", ("money", 50000.0, "EUR", "fine")),
    ("市商务局给予每家企业最高200万元补贴。", ("money", 2e6, "CNY", "subsidy")),
    ("这家大卖估值一度超过20亿美元。", ("money", 2e9, "USD", "valuation")),
    ("账号里还压着几万美元提不出来。", ("money", 10000.0, "USD", "frozen")),
    ("Amazon held about £250,000 of its payouts.", ("money", 250000.0, "GBP", "frozen")),
    ("The firm was fined 3 million yen.", ("money", 3e6, "JPY", "fine")),
    ("Losses were put at 500 million yuan ($77 million).", ("money", 7.7e7, "USD", "loss")),
])
def test_money_figures_carry_a_role(tagger, text, expected):
    assert expected in figures(tagger.tag(text))


@pytest.mark.parametrize("text, expected", [
    ("约七成卖家受到影响", ("percent", 70.0)), ("两成站点被暂停", ("percent", 20.0)),
    ("四分之一的店铺被封", ("percent", 25.0)), ("损失上千万元", ("money", 1e7)), ("冻结资金逾亿元", ("money", 1e8)),
    ("数百家卖家联名申诉", ("count", 100.0)), ("One in four sellers was hit", ("percent", 25.0)),
    ("Hundreds of sellers lost their accounts", ("count", 100.0)),
])
def test_fractions_and_vague_amounts(tagger, text, expected):
    assert expected in [(f["kind"], f["value"]) for f in tagger.tag(text)["figures"]]


def test_ranges_give_both_ends_on_both_figures(tagger):
    low, high = tagger.tag("每家被冻结资金在20万元至500万元不等。")["figures"]
    assert (low["value"], low["value_max"], high["value"], high["value_max"]) == (2e5, 5e6, 5e6, 5e6)
    assert low["value_cny_max"] == 5e6 and low["role"] == high["role"] == "frozen"


def test_scope_and_subject(tagger):
    seller = tagger.tag("有棵树公告称冻结资金约1.3亿元。")["figures"][0]
    assert (seller["scope"], seller["subject"]) == ("seller", "有棵树")
    industry = tagger.tag("据协会估计，整个行业损失超过1000亿元。")["figures"][0]
    assert (industry["scope"], industry["subject"]) == ("industry", None)
    several = tagger.tag("帕拓逊、傲基等大卖冻结资金合计超过10亿元。")["figures"][0]
    assert several["scope"] == "industry"
    assert tagger.tag("增长了30%")["figures"][0]["role"] is None  # roles are for money only


# --- data files ---------------------------------------------------------------------------------

def test_data_files_validate():
    for name in ("entity_rules.yaml", "figures.yaml", "relevance.yaml"):
        assert load_yaml(name)


@pytest.mark.parametrize("name, change, message", [
    ("figures.yaml", lambda d: d["roles"].update(profit={"zh": [], "en": []}), "figures.yaml: roles.profit.[key]"),
    ("figures.yaml", lambda d: d["currency_suffix"].update(比索="MXN"), "figures.yaml: currency_suffix.比索"),
    ("entity_rules.yaml", lambda d: d.update(zh_sufixes={}), "entity_rules.yaml: zh_sufixes"),
    ("entity_rules.yaml", lambda d: d["zh_patterns"][0].update(pattern="(unclosed"), "entity_rules.yaml: zh_patterns.0.pattern"),
    ("entity_rules.yaml", lambda d: d.update(en_business_name="(?P<name>[A-Z]\\w+ (?:{heads}))"),
     "entity_rules.yaml: en_business_name"),
    ("relevance.yaml", lambda d: d["groups"]["closure"].update(weight=2), "relevance.yaml: groups.closure.weight"),
])
def test_a_bad_key_or_value_is_one_line_naming_file_and_key(name, change, message):
    data = yaml.safe_load((load_yaml.__globals__["DATA_DIR"] / name).read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(DataError) as error:
        validate(name, data)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
