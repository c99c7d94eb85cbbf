
import pytest

from core import cells


@pytest.mark.parametrize(
    "raw, number",
    [
        ("00001", "00001"),
        (" 00001 ", "00001"),
        ("００００１", "00001"),  # full-width digits, as a Chinese input method types them
        ("\u300000 001\t", "00001"),  # ideographic and inner spaces
        ("３组－１２", "3组-12"),
        ("", ""),
        (None, ""),
    ],
)
def test_household_number_is_text_normalised(raw, number):
    assert cells.household_number(raw) == number


@pytest.mark.parametrize(
    "cell, shown",
    [
        (1, "1"),  # 00001 typed into a number cell
        (12, "12"),  # no zeros visible, but the cell cannot say whether 0012 was meant
        (1.0, "1"),
        (12.5, "12.5"),
        (410325001234, "4.10325E+11"),  # a 12-digit number as Excel's General format shows it
        (10**12, "1E+12"),
    ],
)
def test_a_numeric_household_cell_is_refused_as_excel_showed_it(cell, shown):
    with pytest.raises(cells.HouseholdNumberError) as exc:
        cells.household_number(cell)
    assert exc.value.message == cells.ERR_HOUSEHOLD_NUMBER_CELL.format(shown=shown)
    assert "文本" in exc.value.message and "'00001" in exc.value.message
