"""Property tests: the tagger never crashes and offsets always slice back to the surface text."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp import Tagger
from nlp.figures import FigureExtractor
from nlp.numbers import parse_number
from nlp.resources import load_rates, load_yaml

pytestmark = pytest.mark.slow  # hypothesis over the tagger

_tagger = None

# Text mixing the pieces the tagger reacts to with arbitrary characters.
PIECES = ["亚马逊", "Amazon", "傲基", "Aukey", "雨林", "River", "协会", "商务局", "深圳市", "科技", "有限公司",
          "5万多家", "二十几万美金", "1,000多亿元", "$2.5 million", "三成", "70%", "约", "左右", "超过", "至", "-",
          "第五次", "8月13日", "2021年", "卖家", "店铺", "账号", "个", "家", "名", "万", "亿", "几", "多", "百分之",
          "分之", " ", "，", "。", "\n", "The", "Bureau of", "Association", "between", "and", "to", "up to"]
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=25).map("".join)


def tagger():
    global _tagger
    if _tagger is None:  # hypothesis forbids function-scoped fixtures; build once per module
        _tagger = Tagger()
    return _tagger


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from([None, "zh", "en"]))
def test_tag_never_crashes_and_offsets_slice_back(text, lang):
    result = tagger().tag(text, lang)
    assert result["lang"] in ("zh", "en")
    assert 0.0 <= result["relevance"] <= 1.0
    for item in result["entities"] + result["figures"]:
        assert 0 <= item["start"] < item["end"] <= len(text)
        assert text[item["start"]:item["end"]] == item["text"]
    for figure in result["figures"]:
        assert figure["kind"] in ("money", "count", "percent")
        assert figure["value"] >= 0
        assert (figure["value_cny"] is not None) == (figure["kind"] == "money" and figure["currency"] is not None)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_figures_on_any_text(text):
    extractor = FigureExtractor(load_yaml("figures.yaml"), load_rates())
    for figure in extractor.find(text):
        assert text[figure.start:figure.end] == figure.text


@given(st.integers(min_value=0, max_value=10**12))
def test_arabic_numbers_with_thousands_separators_round_trip(n):
    assert parse_number(f"{n:,}").value == n


@given(st.text(alphabet="零〇一二两三四五六七八九十百千万亿几多余", max_size=8))
def test_chinese_numeral_parser_never_crashes(text):
    parsed = parse_number(text)
    assert parsed is None or parsed.value >= 0


@pytest.mark.parametrize("n, chinese", [(3, "三"), (12, "十二"), (105, "一百零五"), (20000, "两万"), (350_000_000, "三亿五千万")])
def test_chinese_numerals_match_their_value(n, chinese):
    assert parse_number(chinese).value == n
