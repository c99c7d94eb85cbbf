"""Property-based tests for the GB 11643 check character and the normalisation of typed IDs."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from core import idcard

digits17 = st.text(alphabet="0123456789", min_size=17, max_size=17)


@given(digits17)
def test_check_character_satisfies_iso_7064_mod_11_2(first17):
    # With the check character worth 10 for X, the weighted sum over all 18 positions (weight 1
    # for the last) is 1 mod 11: the defining property of ISO 7064 MOD 11-2.
    check = idcard.check_char(first17)
    value = 10 if check == "X" else int(check)
    assert (sum(int(d) * w for d, w in zip(first17, idcard.WEIGHTS, strict=True)) + value) % 11 == 1


@given(digits17, st.integers(0, 16), st.integers(0, 16))
def test_swapping_two_different_adjacent_digits_is_caught(first17, i, _):
    if i == 16 or first17[i] == first17[i + 1]:
        return
    swapped = first17[:i] + first17[i + 1] + first17[i] + first17[i + 2 :]
    assert idcard.check_char(swapped) != idcard.check_char(first17)


@given(born=st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)), seq=st.integers(0, 999), wrong=st.sampled_from("0123456789X"))
def test_only_the_right_check_character_is_accepted(born, seq, wrong):
    number = idcard.make("411325", born, seq)
    candidate = number[:17] + wrong
    assert idcard.is_valid(candidate) is (wrong == number[17])


@given(born=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)), seq=st.integers(0, 999))
def test_legacy_15_digit_upgrade_round_trips(born, seq):
    number = idcard.make("411325", born, seq)
    old = number[:6] + number[8:17]
    assert idcard.upgrade15(old) == number


@given(born=st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)), seq=st.integers(0, 999),
       sep=st.sampled_from([" ", "　", "-", ""]), fullwidth=st.booleans())
def test_typed_forms_normalise_to_the_same_number(born, seq, sep, fullwidth):
    number = idcard.make("411325", born, seq)
    typed = sep.join([number[:6], number[6:14], number[14:]]).lower()
    if fullwidth:
        typed = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in typed)
    assert idcard.parse(typed, today=date(2026, 1, 1)).number == number


def test_masking_keeps_area_and_last_four():
    assert idcard.mask("41132519800517001X") == "411325********001X"
    assert idcard.mask("") == ""
