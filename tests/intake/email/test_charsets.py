"""Korean and other CJK charsets as real clients label (and mislabel) them."""

from __future__ import annotations

import pytest

from opsdesk.intake.email.charsets import decode_bytes, normalise_charset

# '똠' and '똠방각하' are outside the EUC-KR (KS X 1001) range: only CP949/UHC encodes them.
OUTSIDE_EUC_KR = "똠방각하"


def test_outside_euc_kr_text_needs_cp949() -> None:
    with pytest.raises(UnicodeDecodeError):
        OUTSIDE_EUC_KR.encode("cp949").decode("euc_kr")  # what a strict EUC-KR decoder does


@pytest.mark.parametrize(
    "label",
    [
        "ks_c_5601-1987",
        "KS_C_5601-1987",
        "ks_c_5601",
        "euc-kr",
        "EUC-KR",
        "korean",
        "x-windows-949",
        '"ks_c_5601-1987"',
    ],
)
def test_korean_labels_decode_as_cp949(label: str) -> None:
    assert normalise_charset(label) == "cp949"
    text, defect = decode_bytes(OUTSIDE_EUC_KR.encode("cp949"), label)
    assert text == OUTSIDE_EUC_KR
    assert defect is None


def test_unknown_8bit_with_korean_bytes() -> None:
    text, defect = decode_bytes("장애 보고".encode("cp949"), "unknown-8bit")
    assert text == "장애 보고"
    assert defect is not None and "cp949" in defect


def test_missing_label_tries_utf8_then_cp949() -> None:
    assert decode_bytes("서버 점검".encode(), None)[0] == "서버 점검"
    text, defect = decode_bytes("서버 점검".encode("cp949"), None)
    assert text == "서버 점검"
    assert defect == "no charset declared; decoded as cp949"


def test_wrong_label_falls_back() -> None:
    text, defect = decode_bytes("장애 접수".encode("cp949"), "utf-8")
    assert text == "장애 접수"
    assert defect is not None and "invalid in declared charset" in defect


def test_ascii_label_on_utf8_text() -> None:
    text, defect = decode_bytes("Grüße 안녕".encode(), "us-ascii")
    assert text == "Grüße 안녕"
    assert defect is not None


def test_last_resort_never_fails() -> None:
    text, defect = decode_bytes(bytes(range(128, 256)), "no-such-charset")
    assert len(text) == 128
    assert defect is not None and "unknown charset" in defect


@pytest.mark.parametrize(
    ("label", "text", "codec"),
    [
        ("iso-2022-kr", "안녕하세요", "iso2022_kr"),
        ("ISO-2022-JP", "日本語のメール", "iso2022_jp"),
        ("shift_jis", "①番の件", "cp932"),  # NEC circled digit: CP932 only
        ("gb2312", "镕基", "gb18030"),  # 镕 is GBK, not GB2312
    ],
)
def test_cjk_labels(label: str, text: str, codec: str) -> None:
    assert decode_bytes(text.encode(codec), label) == (text, None)
