"""Discovery of names missing from the alias table: boundaries, types, canonical names."""
import pytest

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
    recognizer = EntityRecognizer([], load_yaml("entity_rules.yaml"), tagger._tags)
    text = "福建省电子商务协会提醒会员，杭州市商务局也发布了通知。"
    found = [(e.type, e.text) for e in recognizer.find(text, tagger.segment(text))]
    assert ("association", "福建省电子商务协会") in found and ("government", "杭州市商务局") in found


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
def test_rule_patterns_find_sellers_and_bodies_by_their_cues(rules_only, text, expected):
    assert expected in [(e["type"], e["text"]) for e in rules_only.tag(text)["entities"]], rules_only.tag(text)["entities"]


@pytest.mark.parametrize("text", [
    "我们Amazon店铺的广告预算又超了。",        # a platform after a first person is no brand
    "中小企在海外电商平台开店越来越多。",        # 电商 before 平台 describes a trade
    "据拉美电商服务商统计，新卖家增长很快。",
])
def test_platforms_and_trade_descriptions_are_not_sellers(rules_only, text):
    assert [e for e in rules_only.tag(text)["entities"] if e["type"] == "seller"] == []


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


@pytest.mark.parametrize("text, expected", [
    # a quoted name after a noun that says what it is (invented names)
    ("关于子公司经营情况的说明：子公司“青岚优品”已恢复销售。", ("seller", "青岚优品")),
    ("温州鞋材商户“步云坊”因资金紧张，关闭了两家网店。", ("seller", "步云坊")),
    ("高雄寵物用品商「汪星補給」表示，商品全數被下架。", ("seller", "汪星補給")),
    ("跨境电商企业“海豚远航”在日本站新开了两家店。", ("seller", "海豚远航")),
    # a quoted name opening a clause, then what only a firm does in it
    ("“松间露营”这两年转做独立站，旗下帐篷卖到了北欧。", ("seller", "松间露营")),
    ("「溪畔茶舍」即在店鋪被關後進駐了樂天。", ("seller", "溪畔茶舍")),
    # a quoted name with its Latin form in parentheses: both forms, one name
    ("回到正轨：“云杉家居”（Spruceway Home）用了半年恢复销量。", ("seller", "Spruceway Home")),
    ("恭喜 “Brightfen” 正式 launch 在 TikTok Shop！", ("seller", "Brightfen")),
    # English names by a store opening, ownership or who runs them
    ("Copperleaf Supply opened its first Etsy storefront last month.", ("seller", "Copperleaf Supply")),
    ("Kelvo unveiled a new line of travel chargers for spring.", ("seller", "Kelvo")),
    ("Sales fell. Kelvo recalled about 200,000 power banks.", ("seller", "Kelvo")),
    ("Orvane, the company behind Tidelite and Glowmark, lost its listings.", ("seller", "Glowmark")),
    ("Storefronts run by Kestwell and Marrow Lane went dark.", ("seller", "Kestwell")),
    ("Tidelite's parent Qinghe Holdings disclosed the frozen funds.", ("seller", "Qinghe Holdings")),
    ("Fenwick, one of the largest Ningbo sellers, lost its storefront.", ("seller", "Fenwick")),
    ("For companies like 青岚优品 the wave meant months of appeals.", ("seller", "青岚优品")),
    ("竹影母公司青禾股份表示将提起申诉。", ("seller", "竹影")),
    ("其中禾屿旗下的Velmora品牌一度全面下架。", ("seller", "Velmora")),
    # bodies without a place, or with a foreign one, and a trade body named without a place
    ("杭州市商务局召集企业座谈，区市场监管局、杭州海关派员参加。", ("government", "区市场监管局")),
    ("欧盟委员会提议对小额包裹收取处理费。", ("government", "欧盟委员会")),
    ("墨西哥环保部门称，今年的森林火灾面积有所下降。", ("government", "墨西哥环保部门")),
    ("调查局查获一个贩卖账户的集团。", ("government", "调查局")),
    ("Chile's trade ministry said it would review the complaints.", ("government", "trade ministry")),
    ("Spain's consumer regulator AECOSAN ordered the listings removed.", ("government", "AECOSAN")),
    ("跨境卖家互助联合会就平台封号问题发表声明。", ("association", "跨境卖家互助联合会")),
])
def test_round_five_cues_find_sellers_and_bodies(rules_only, text, expected):
    assert expected in [(e["type"], e["text"]) for e in rules_only.tag(text)["entities"]], rules_only.tag(text)["entities"]


def test_a_quoted_name_and_its_latin_form_share_one_name(rules_only):
    found = {e["text"]: e["name"] for e in rules_only.tag("“云杉家居”（Spruceway Home）恢复了销售。")["entities"]}
    assert found.get("云杉家居") == found.get("Spruceway Home") == "云杉家居", found


@pytest.mark.parametrize("text", [
    # quotes also hold slogans, rules and phrases
    "拼多多商家“限制提现”问题再度引发关注。",
    "平台判定商家“假一赔十”，消费者获得赔付。",
    "江门市组织跨境电商企业“政银企”对接会。",
    "深圳出台支持跨境电商企业“出海”的专项政策。",
    "卖家纷纷“申诉”，但回复很慢。",
    # departments without a place, a firm's own department, an association's office, a generic trade body
    "税务部门通报了一批虚开发票案件。",
    "商务主管部门表示将了解企业诉求。",
    "公司部分站点受影响，运营部门裁撤了三人。",
    "联盟秘书处称，上月新增求助会员四十余家。",
    "物流行业协会发布提示，春节期间快递分批停运。",
    # a firm's tools, a platform's parent, a subsidiary's store, a company's announcement
    "AWS 又挂了，我们的 ERP 和 listing 工具全停。",
    "Wish's parent agreed to sell its assets.",
    "Brussels released a statement on the parcel fee.",
    "Amazon unveiled a new line of devices.",
    "深圳一家消费电子公司公告称，拟回购股份。",
    "关于子公司店铺受限的公告：子公司部分店铺被限制销售。",
    "据其母公司披露，被封站点达三百个。",
    "会后，市商务局表示将组织培训。",
])
def test_round_five_cues_leave_other_words_alone(rules_only, text):
    found = [(e["type"], e["text"]) for e in rules_only.tag(text)["entities"] if e["type"] in ("seller", "association", "government")]
    assert found == [], found


# --- round six: the role a name plays, shop suffixes, a bare form paired with a full one, bare bodies ---

@pytest.mark.parametrize("text, expected", [
    # a firm announcing, launching, recalling, reporting, or moving on the stock market (invented names)
    ("岚沐科创此前公告称，公司约二十个站点被暂停。", ("seller", "岚沐科创")),
    ("星岚创新发布新款移动电源，首发渠道包括京东。", ("seller", "星岚创新")),
    ("跨境大卖云杉时代发布年报，营收增长两成。", ("seller", "云杉时代")),
    ("青禾优选在2022年报中披露，公司计提了存货减值。", ("seller", "青禾优选")),
    ("板块午后走强，岚沐科创涨停。", ("seller", "岚沐科创")),
    ("控股子公司青木优选在亚马逊平台有多个站点被暂停。", ("seller", "青木优选")),
    ("星岚股份公告称，子公司青木优选部分站点被暂停。", ("seller", "青木优选")),
    # a list after 大卖, or after 包括 and before 在内的 with a word for firms
    ("在那轮封号里，深圳大卖岚沐、禾屿等均有站点被关闭。", ("seller", "禾屿")),
    ("包括岚沐、禾屿在内的多家大卖都没能幸免。", ("seller", "岚沐")),
    # shops: a quoted name before what it sells and a shop word, a quoted store name, a brand in parentheses
    ("东莞市禾川电器有限公司旗下的“青柚声学”音箱店铺被关闭。", ("seller", "青柚声学")),
    ("京东对“暖阳母婴专营店”作出清退处理。", ("seller", "暖阳母婴专营店")),
    ("宁波云舟贸易有限公司旗下品牌（Tidevale）已全面下架。", ("seller", "Tidevale")),
    ("香港网店「Copper Kettle」的账户被冻结。", ("seller", "Copper Kettle")),
    ("我們「Pine Hollow」的帳號又被停了。", ("seller", "Pine Hollow")),
    # a name opening a clause (or a report) whose stores or sites were closed; a quoted name followed by
    # its closure or by 等 and a word for brands; a legal-form name jieba split into single characters
    ("去年五月，岚霖店铺被封，损失不小。", ("seller", "岚霖")),
    ("青柚技术的店铺被移除后，股价下跌。", ("seller", "青柚技术")),
    ("公司公告称，禾屿部分店铺被亚马逊暂停。", ("seller", "禾屿")),
    ("「林間手作」被蝦皮停權後轉做官網。", ("seller", "林間手作")),
    ("今年618期间，“松针茶社”等新锐茶饮品牌增长明显。", ("seller", "松针茶社")),
    ("听取东莞市石都五金制品有限公司等企业的意见。", ("seller", "东莞市石都五金制品有限公司")),
    # bodies named by a bare head that is one body, as they act
    ("国务院常务会议部署稳外贸措施。", ("government", "国务院")),
    ("海关提醒，跨境包裹须如实申报。", ("government", "海关")),
    ("据海关统计，上月跨境电商出口有所增长。", ("government", "海关")),
    ("欧盟宣布将对低价小包裹收取处理费。", ("government", "欧盟")),
    ("国家网信办发布新规，要求平台核验商家身份。", ("government", "国家网信办")),
    # English: what a name does or owns says it is a firm; an acronym named by what it is or as only a body acts
    ("Brindlewood said several of its Amazon accounts had been suspended.", ("seller", "Brindlewood")),
    ("Corvale, among the largest Ningbo sellers at the time, lost most of its stores.", ("seller", "Corvale")),
    ("Best month yet for our small brand, Thistledown!", ("seller", "Thistledown")),
    ("Halvorsen Audio reported first-half revenue of 2 billion yuan.", ("seller", "Halvorsen Audio")),
    ("Prices held while Quillon lost listings worth $2 million a month.", ("seller", "Quillon")),
    ("Juniper Lane is closing its online shop after nine years.", ("seller", "Juniper Lane")),
    ("Walmart unpublished 400 of our Fernvale listings overnight.", ("seller", "Fernvale")),
    ("Yarrowby said its Kestrel unit had lost its storefronts.", ("seller", "Kestrel")),
    ("Etsy hit Marlow Pottery with a policy strike.", ("seller", "Marlow Pottery")),
    ("Walmart put Fennick Tools on hold for a payment review.", ("seller", "Fennick Tools")),
    ("Day 12 of funds held for Copperline Kids.", ("seller", "Copperline Kids")),
    ("Third rejection of our POA for Brackenly.", ("seller", "Brackenly")),
    ("Harrowgate Prints was a three-person shop selling posters.", ("seller", "Harrowgate Prints")),
    ("Quenby is reinstated after 30 days!", ("seller", "Quenby")),
    ("The marketplace removed the listings of Pellora, a skincare brand from Xiamen.", ("seller", "Pellora")),
    ("Peru's food safety agency SENASA reported a rise in seizures.", ("government", "SENASA")),
    ("The SFC suspended trading in the firm's shares.", ("government", "SFC")),
    ("The CMA opened an investigation into the listings.", ("government", "CMA")),
    ("The FTC's rule banning fake reviews took effect.", ("government", "FTC")),
    ("Asked about the delistings, the CPSC said it was reviewing them.", ("government", "CPSC")),
])
def test_round_six_cues_find_sellers_and_bodies(rules_only, text, expected):
    assert expected in [(e["type"], e["text"]) for e in rules_only.tag(text)["entities"]], rules_only.tag(text)["entities"]


def test_a_bare_trade_name_is_the_firm_named_in_full_earlier(rules_only):
    found = [(e["type"], e["text"], e["name"]) for e in rules_only.tag(
        "青禾创新科技股份有限公司近日表示，青禾创新将继续在亚马逊销售。")["entities"] if e["type"] == "seller"]
    assert found == [("seller", "青禾创新科技股份有限公司", "青禾创新科技股份"), ("seller", "青禾创新", "青禾创新科技股份")]


@pytest.mark.parametrize("text", [
    # places and references, not a body acting
    "欧盟市场的合规要求越来越多。",
    "所有在欧盟销售的商品都须标注责任人。",
    "平台已应海关要求关闭相关店铺。",
    # function words, time words and platforms where a firm's role would be
    "截至本公告披露日，子公司已恢复运营。",
    "公司发布新款产品，售价不变。",
    "亚马逊发布新款阅读器。",
    "盘后股价上涨逾6%。",
    "卖家转向独立站，并陆续推出新品牌。",
    "被封卖家的“资金保卫战”：先下载所有报告。",
    # quotes that hold rules and reasons before a shop word
    "平台以“虚假发货”为由对店铺处以罚款。",
    "卖家遭遇“批量诉讼”后店铺资金被冻结。",
    # a list that does not run across a comma into the clause before it
    "约5万名卖家受到波及，",
    # platforms, consumers' accounts, countries
    "Mercado Libre reported quarterly revenue up 20%.",
    "My Xbox account got suspended for cheating.",
    "The US said it would raise tariffs.",
    "Amazon said its sellers' accounts were reviewed.",
    "The BBC said the stores had reopened.",
    # a platform's own arm, a ministry's word inside 商务部门, platforms listed, a holiday and its Chinese name
    "抖音电商宣布下调部分类目的保证金。",
    "多地商务部门发布通知，鼓励企业拓展新市场。",
    "新仓可服务亚马逊、沃尔玛、eBay等多平台卖家。",
    "Singles' Day (双十一) sales hit a record.",
    "Mine got reinstated after ten days.",
    "Account got reinstated in March.",
    # closures of what no named seller owns: a time word, a pronoun's store, a game account
    "现在店铺被封了怎么办？",
    "我的店铺被封了。",
    "原神账号被封，申诉无果。",
])
def test_round_six_cues_leave_other_words_alone(rules_only, text):
    found = [(e["type"], e["text"]) for e in rules_only.tag(text)["entities"] if e["type"] in ("seller", "association", "government")]
    assert found == [], found


def test_a_legal_form_name_does_not_run_across_a_particle(rules_only):
    found = [e["text"] for e in rules_only.tag("走访深圳市的明辉科技有限公司。")["entities"] if e["type"] == "seller"]
    assert found == ["明辉科技有限公司"], found


def test_a_list_after_a_comma_keeps_only_its_items(rules_only):
    text = "约5万名卖家受到波及，岚沐、禾屿、青柚等大卖都没能躲过。"
    found = [e["text"] for e in rules_only.tag(text)["entities"] if e["type"] == "seller"]
    assert found == ["岚沐", "禾屿", "青柚"], found
