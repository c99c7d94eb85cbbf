from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import idcard


def test_known_good_number():
    # GB 11643 worked example.
    info = idcard.parse("11010519491231002X")
    assert info.birth_date == date(1949, 12, 31) and info.sex == "F"


@pytest.mark.parametrize(
    "raw, expected",
    [
        (" 110105 19491231 002x ", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
    ],
)
def test_normalises_what_people_type(raw, expected):
    assert idcard.parse(raw).number == expected


def test_legacy_15_digit_gets_upgrade_suggestion():
    with pytest.raises(idcard.IdNumberError) as exc:
        idcard.parse("110105491231002")
    assert exc.value.suggestion == "11010519491231002X"
    assert "15位" in exc.value.message


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("", "不能为空"),
        ("1101051949123100", "应为18位"),
        ("11010519491331002X", "出生日期"),
        ("110105194912310021", "校验位"),
        ("000000194912310020", "地区码"),
        ("4.11325E+17", "数字"),
        ("41132520991231002X", "晚于今天"),
    ],
)
def test_errors_say_what_is_wrong_in_chinese(raw, fragment):
    with pytest.raises(idcard.IdNumberError) as exc:
        idcard.parse(raw, today=date(2026, 11, 22))
    assert fragment in exc.value.message


def test_float_cell_is_rejected():
    with pytest.raises(idcard.IdNumberError, match="数字"):
        idcard.parse(4.11325e17)


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
)
def test_made_numbers_parse_back(born, seq):
    number = idcard.make("411325", born, seq)
    info = idcard.parse(number, today=date(2026, 1, 1))
    assert info.birth_date == born
    assert info.sex == ("M" if seq % 2 else "F")


@given(born=st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)), seq=st.integers(0, 999), pos=st.integers(0, 16), delta=st.integers(1, 9))
def test_any_single_digit_change_breaks_the_check(born, seq, pos, delta):
    number = idcard.make("411325", born, seq)
    changed = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    assert idcard.check_char(changed[:17]) != number[17]


def test_mask():
    assert idcard.mask("411325198005170013") == "411325********0013"


# A valid number with one digit swapped for a character that str.isdigit() accepts but is no
# ASCII digit: superscript two, circled one, Arabic-Indic three, full-width-like digits of other scripts.
@pytest.mark.parametrize("char", ["²", "①", "٣", "३", "𝟓"])
@pytest.mark.parametrize("pos", [0, 1, 8, 16, 17])
def test_non_ascii_digits_are_the_numbers_error(char, pos):
    good = "11010519491231002X"
    with pytest.raises(idcard.IdNumberError) as exc:
        idcard.parse(good[:pos] + char + good[pos + 1 :])
    assert exc.value.message == idcard.ERR_CHARS


@pytest.mark.parametrize("char", ["²", "٣"])
def test_non_ascii_digits_in_a_15_digit_number_get_no_suggestion(char):
    with pytest.raises(idcard.IdNumberError) as exc:
        idcard.parse("11010549123100" + char)
    assert exc.value.suggestion is None
