"""Number parsing and figure extraction on every form the issue lists."""
import pytest

from nlp.figures import FigureExtractor
from nlp.numbers import parse_chinese, parse_english, parse_mixed, parse_number
from nlp.resources import load_rates, load_yaml


@pytest.fixture(scope="module")
def figures():
    return FigureExtractor(load_yaml("figures.yaml"), load_rates())


@pytest.mark.parametrize("text, value, approximate", [
    ("十万", 100_000, False),
    ("二十几万", 200_000, True),
    ("两千多", 2_000, True),
    ("十几", 10, True),
    ("四五十万", 400_000, True),
    ("一千二百万", 12_000_000, False),
    ("三千五百万", 35_000_000, False),
    ("数十", 10, True),
    ("上亿", 100_000_000, True),
    ("万亿", 1e12, False),
    ("十亿", 1e9, False),
    ("几百", 100, True),
    ("几万", 10_000, True),
    ("十多万", 100_000, True),
    ("二〇二一", 2021, False),
])
def test_parse_chinese(text, value, approximate):
    parsed = parse_chinese(text)
    assert parsed.value == pytest.approx(value)
    assert parsed.approximate is approximate


@pytest.mark.parametrize("text, value, approximate", [
    ("1,000多亿", 1e11, True),
    ("5万多", 50_000, True),
    ("1.3亿", 1.3e8, False),
    ("8000万", 8e7, False),
    ("1.26亿", 1.26e8, False),
    ("8千万", 8e7, False),
])
def test_parse_mixed(text, value, approximate):
    parsed = parse_mixed(text)
    assert parsed.value == pytest.approx(value)
    assert parsed.approximate is approximate


@pytest.mark.parametrize("text, value", [
    ("2.5 million", 2.5e6), ("100 billion", 1e11), ("40k", 4e4), ("12,500", 12_500),
    ("four", 4), ("twenty-five thousand", 25_000), ("one hundred", 100), ("3bn", 3e9),
])
def test_parse_english(text, value):
    assert parse_english(text).value == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "统一", "million"])
def test_parse_number_rejects_non_numbers(text):
    assert parse_number(text) is None


def one(figures, text):
    found = figures.find(text)
    assert len(found) == 1, found
    figure = found[0]
    assert text[figure.start:figure.end] == figure.text
    return figure


@pytest.mark.parametrize("text, kind, value, currency, qualifier, counted", [
    ("被封的卖家超过5万多家中国卖家", "count", 50_000, None, "over", "sellers"),
    ("涉及十万卖家", "count", 100_000, None, None, "sellers"),
    ("损失大概二十几万美金", "money", 200_000, "USD", "about", None),
    ("损失1,000多亿元", "money", 1e11, "CNY", "over", None),
    ("冻结1.3亿元", "money", 1.3e8, "CNY", None, None),
    ("冻结8000万元左右", "money", 8e7, "CNY", "about", None),
    ("about $2.5 million was frozen", "money", 2.5e6, "USD", "about", None),
    ("losses of 100 billion yuan", "money", 1e11, "CNY", None, None),
    ("占比三成", "percent", 30, None, None, None),
    ("fell 70%", "percent", 70, None, None, None),
    ("逾30%", "percent", 30, None, "over", None),
    ("约600个品牌", "count", 600, None, "about", "brands"),
    ("最高300万元补贴", "money", 3e6, "CNY", "up_to", None),
    ("up to 3 million yuan", "money", 3e6, "CNY", "up_to", None),
    ("roughly RMB 80 million", "money", 8e7, "CNY", "about", None),
    ("more than 50,000 Chinese sellers", "count", 50_000, None, "over", "sellers"),
    ("3000多个卖家账号", "count", 3000, None, "over", "accounts"),
    ("账号超过3000个", "count", 3000, None, "over", "accounts"),
    ("€1.2 million", "money", 1.2e6, "EUR", None, None),
    ("压了3万多刀", "money", 30_000, "USD", "over", None),
    ("百分之三十", "percent", 30, None, None, None),
    ("三分之一", "percent", 33.333, None, None, None),
    ("1200名员工", "count", 1200, None, None, "people"),
    ("5000万美元以上", "money", 5e7, "USD", "over", None),
])
def test_figure_forms(figures, text, kind, value, currency, qualifier, counted):
    figure = one(figures, text)
    assert (figure.kind, figure.currency, figure.qualifier, figure.counted) == (kind, currency, qualifier, counted)
    assert figure.value == pytest.approx(value, rel=1e-3)


def test_money_is_converted_to_cny_with_the_rate_table(figures):
    rates = load_rates()
    assert one(figures, "$2.5 million").value_cny == pytest.approx(2.5e6 * rates["USD"])
    assert one(figures, "1.3亿元").value_cny == pytest.approx(1.3e8)
    assert one(figures, "fell 70%").value_cny is None


@pytest.mark.parametrize("text, low, high, currency", [
    ("罚款20万元至500万元", 200_000, 5_000_000, "CNY"),
    ("补助20万-50万元", 200_000, 500_000, "CNY"),
    ("罚款20至500万元", 200_000, 5_000_000, "CNY"),
    ("between $1 million and $3 million", 1e6, 3e6, "USD"),
    ("from 200,000 yuan to 5 million yuan", 200_000, 5e6, "CNY"),
])
def test_ranges_give_two_bounds(figures, text, low, high, currency):
    lower, upper = figures.find(text)
    assert (lower.value, lower.qualifier, lower.currency) == (pytest.approx(low), "at_least", currency)
    assert (upper.value, upper.qualifier, upper.currency) == (pytest.approx(high), "up_to", currency)


@pytest.mark.parametrize("text", [
    "这是第五次封号", "8月13日开始", "2021年", "深圳地铁14号线", "in 2021", "on August 13",
    "for the fifth time", "全长约50公里", "气温26到33度", "免佣金三个月", "Line 14 opens", "一家深圳卖家表示",
    "the first 90 days", "3 weeks", "统一价格",
])
def test_dates_ordinals_and_measures_are_not_figures(figures, text):
    assert figures.find(text) == []


def test_word_start_veto_rejects_numerals_inside_words(figures):
    text = "万家乐店铺"
    # segmented as one word 万家乐 + 店铺: 万 does not start a number
    assert figures.find(text, word_starts=[0, 3]) == []
    assert figures.find("近万个账号", word_starts=[0, 2, 3])[0].value == 10_000
