"""Round seven of discovery: the head vocabulary made complete (bodies' and associations' heads in
both scripts, English trade names ending in a word that says "a business"). Texts of our own."""
import pytest


def found(tagger, text):
    return [(e["type"], e["text"]) for e in tagger.tag(text)["entities"]
            if e["type"] in ("seller", "association", "government")]


@pytest.mark.parametrize("text, expected", [
    # associations whose head the tables lacked, in both scripts
    ("高雄市網路商家協進會表示，已收到二十多位會員的求助。", ("association", "高雄市網路商家協進會")),
    ("东莞市跨境电商联谊会提醒会员备份店铺数据。", ("association", "东莞市跨境电商联谊会")),
    ("佛山市工商联召开座谈会，听取外贸企业诉求。", ("association", "佛山市工商联")),
    # a city government's bureau or office named under its government
    ("新北市政府經濟發展局將為受影響業者開設諮詢窗口。", ("government", "新北市政府經濟發展局")),
    ("台南市政府商業處提醒網路賣家留意平台規範。", ("government", "台南市政府商業處")),
    ("桃園市商業處受理業者申訴。", ("government", "桃園市商業處")),
    # a body named without a place after 透过/通过/经由, as Hong Kong media write it
    ("政府會透過工業貿易署向中小企提供資訊。", ("government", "工業貿易署")),
    # English trade names ending in a business word
    ("Marlow Creek Outfitters lost its Amazon selling privileges last week.", ("seller", "Marlow Creek Outfitters")),
    ("The owners of Tidepool Ceramics are moving their shop off Etsy.", ("seller", "Tidepool Ceramics")),
    ("Payouts to Northgate Commerce were held for 90 days.", ("seller", "Northgate Commerce")),
    ("A notice from Juniper & Pine Goods said the store would close.", ("seller", "Juniper & Pine Goods")),
    ("Shares of Silverline Trading slid after the suspension.", ("seller", "Silverline Trading")),
    ("Quill Hollow Studio sells prints on three marketplaces.", ("seller", "Quill Hollow Studio")),
    # a quoted shop name ending in what it is, with a cue that the text is about the shop
    ("因租约到期，「青苔書店」將於下月結束營業。", ("seller", "青苔書店")),
    ("“南风手作”拼多多店即日起暂停发货。", ("seller", "南风手作")),
    ("老牌「永興文具行」宣布網路賣場收攤。", ("seller", "永興文具行")),
    ("“蓝鲸数码”店铺被封后，老板开始申诉。", ("seller", "蓝鲸数码")),
    ("跨境板块午后走强，“远航跨境”涨近5%。", ("seller", "远航跨境")),
])
def test_round_seven_heads_find_sellers_and_bodies(rules_only, text, expected):
    assert expected in found(rules_only, text), found(rules_only, text)


@pytest.mark.parametrize("text", [
    # 处 as an ordinary word, an association's own office
    "这样做对卖家有很多好处。",
    "深圳市到处都是做跨境的公司。",
    # 学会 the verb is no head
    "很多卖家学会了备份数据。",
    # platforms' own stores and app stores, function words, trade fairs and markets
    "TikTok Shop suspended the seller's account.",
    "The app was removed from the Apple App Store.",
    "How To Run Your Shop After A Suspension",
    "Our Home category sales doubled on Prime Day.",
    "Shares listed on the STAR Market rose.",
    "Hong Kong's Commerce and Economic Development Bureau said it was monitoring the situation.",
    "Visitors crowded the Consumer Electronics Show floor.",
    # shop-shaped noun phrases: no quotes, or no cue that a shop is meant
    "儿童书店越来越受家长欢迎。",
    "咖啡行业的利润正在下降。",
    "这家“儿童书店”的概念很受欢迎。",
    "所谓“跨境”，指的是卖到海外。",
    "“宠物”类目的流量在上涨。",
    # a trade described by what is done in it; 政府 alone after another body's word
    "东莞经营饰品的亚马逊卖家大多受到影响。",
    "商會建議政府延長補貼期限。",
])
def test_round_seven_heads_leave_other_words_alone(rules_only, text):
    assert [f for f in found(rules_only, text) if f[0] == "seller" or "处" in f[1]] == [], found(rules_only, text)
