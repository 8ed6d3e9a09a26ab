"""Round seven of discovery: the head vocabulary made complete (bodies' and associations' heads in
both scripts, English trade names ending in a word that says "a business"). Texts of our own."""
import pytest

from nlp import Tagger


@pytest.fixture(scope="module")
def bare():
    """A tagger without the alias table: what the rules alone find."""
    return Tagger(keywords=0, alias_table=None)


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
])
def test_round_seven_heads_find_sellers_and_bodies(bare, text, expected):
    assert expected in found(bare, text), found(bare, text)


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
])
def test_round_seven_heads_leave_other_words_alone(bare, text):
    assert [f for f in found(bare, text) if f[0] == "seller" or "处" in f[1]] == [], found(bare, text)
