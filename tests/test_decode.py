import codecs

import pytest
from hypothesis import given, settings, strategies as st

from pipelines.extract.decode import DecodeError, decode_body, normalise_charset

ZH = "亚马逊封号潮波及深圳大卖，约有五万个店铺受到影响，“镕”字与“喆”字不在GB2312里。" * 5


def page(charset_meta: str | None, text: str = ZH) -> str:
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    return f"<html><head>{meta}<title>t</title></head><body><p>{text}</p></body></html>"


def test_gbk_page_labelled_gb2312_is_decoded_as_gb18030():
    body = page("gb2312").encode("gbk")  # 镕/喆 are GBK-only: GB2312 decoding would fail
    assert ZH in decode_body(body)


def test_utf8_declared_but_gb2312_bytes_falls_through_to_detection():
    text = ZH.replace("镕", "").replace("喆", "")
    assert text in decode_body(page("utf-8", text).encode("gb2312"))


def test_utf8_body_mislabelled_gbk_stays_utf8():
    assert ZH in decode_body(page("gbk").encode("utf-8"))


def test_meta_charset_beats_wrong_http_header():
    body = page("gbk").encode("gbk")
    assert ZH in decode_body(body, {"Content-Type": "text/html; charset=utf-8"})


def test_http_header_used_when_page_declares_nothing():
    big5 = "亞馬遜封號潮衝擊台灣賣家，業界人士表示這是歷史上規模最大的一次封店潮。"
    body = page(None, big5).encode("big5")
    assert big5 in decode_body(body, {"content-type": b"text/html; charset=big5"})


BIG5_TEXT = "亞馬遜封號潮衝擊台灣賣家，業界人士表示這是歷史上規模最大的一次封店潮，許多賣家的資金被凍結。" * 3


def test_big5_page_mislabelled_gbk_is_read_as_big5():
    # Big5 bytes decode "cleanly" as GB18030 into nonsense: the label must not win.
    body = page("gbk", BIG5_TEXT).encode("big5")
    assert BIG5_TEXT in decode_body(body, {"content-type": "text/html; charset=gbk"})


def test_gbk_page_mislabelled_big5_is_read_as_gbk():
    body = page("big5").encode("gbk")
    assert ZH in decode_body(body)


def test_bom_wins():
    assert ZH in decode_body(codecs.BOM_UTF8 + page("gbk").encode("utf-8"))
    assert ZH in decode_body(page(None).encode("utf-16"))


def test_truncated_multibyte_tail_is_tolerated():
    body = page("gbk").encode("gbk")
    cut = body[: body.index("影".encode("gbk")) + 1]  # half of a two-byte character
    assert decode_body(cut).endswith("受到")


def test_no_charset_gbk_is_detected():
    assert ZH in decode_body(page(None).encode("gb18030"))


@pytest.mark.parametrize("body", [b"\x89PNG\r\n\x1a\n\x00\x00", b"%PDF-1.4\n", b"GIF89a\x00\x01", bytes(range(32)) * 20])
def test_binary_raises_decode_error(body):
    with pytest.raises(DecodeError):
        decode_body(body)


def test_non_bytes_raises_decode_error():
    with pytest.raises(DecodeError):
        decode_body("already text")


@pytest.mark.parametrize("label,codec", [("GB2312", "gb18030"), ("gbk", "gb18030"), ("Big5", "big5hkscs"),
                                         ("ISO-8859-1", "cp1252"), ("utf8", "utf-8"), ("bogus", None)])
def test_charset_labels_are_widened(label, codec):
    assert normalise_charset(label) == codec


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.dictionaries(st.sampled_from(["content-type", "Content-Type"]),
                                                 st.text(max_size=40), max_size=1))
def test_decode_body_raises_only_decode_error(body, headers):
    try:
        assert isinstance(decode_body(body, headers), str)
    except DecodeError:
        pass
