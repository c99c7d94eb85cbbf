"""core.spreadsheets.write_rows, the one way every export writes a sheet: ID columns show all 18
characters, every column fits its content, the header row is frozen (issue 18 point 11)."""

from datetime import date
from types import SimpleNamespace

import pytest
from openpyxl import Workbook

from core.spreadsheets import ID_COLUMN_WIDTH, display_width, write_rows
from reporting import reports

ID = "500240198612071018"
LONG_TOWN = "石柱土家族自治县下路街道办事处"


def _sheet(header, rows, **kw):
    ws = Workbook().active
    write_rows(ws, header, rows, **kw)
    return ws


def test_display_width_counts_chinese_double():
    assert display_width(ID) == 18 and display_width("下路街道") == 8 and display_width(None) == 0
    assert display_width("（合计）") == 8  # full-width brackets too


def test_an_id_column_shows_18_characters_and_the_header_is_frozen():
    ws = _sheet(["序号", "身份证号"], [[1, ID]], id_columns=(2,))
    assert ws.column_dimensions["B"].width >= 18 and ID_COLUMN_WIDTH >= 18
    assert ws.freeze_panes == "A2"
    assert ws["B2"].number_format == "@"


def test_an_id_column_is_wide_even_before_any_row():
    assert _sheet(["身份证号"], [], id_columns=(1,)).column_dimensions["A"].width >= 18


@pytest.mark.parametrize("value", [LONG_TOWN, "x" * 30, 12345678901234])
def test_columns_fit_their_longest_value(value):
    ws = _sheet(["单位"], [["甲镇"], [value]])
    assert ws.column_dimensions["A"].width >= display_width(value)


def test_widths_stay_within_bounds_and_count_footer_rows():
    ws = _sheet(["序号", "说明"], [[1, "x" * 500]], footer=[["合计：全部乡镇共计", ""]])
    assert ws.column_dimensions["B"].width == 60
    assert ws.column_dimensions["A"].width >= display_width("合计：全部乡镇共计")
    assert ws.cell(row=3, column=1).value == "合计：全部乡镇共计"


def _entry(name, rank):
    return {"rank": rank, "previous_rank": None, "change": None, "name": name, "quota": 100, "collected": 90,
            "confirmed": 80, "rate": "80.00", "in_bottom": False, "bottom_streak": 0, "interview": False, "carried": False}


def test_the_ranking_workbook_shows_township_names_in_full():
    report = SimpleNamespace(kind="weekly", title="第3周排名", date=date(2026, 11, 9))
    payload = {"townships": [{**_entry(LONG_TOWN, 1), "code": "t1"}, {**_entry("甲镇", 2), "code": "t2"}],
               "villages": {"t1": [_entry("红岩社区居民委员会", 1)]}}
    wb = reports.workbook_for(report, payload)
    towns = wb["乡镇排名"]
    col = reports.RANK_HEADER.index("单位") + 1
    letter = towns.cell(row=1, column=col).column_letter
    assert towns.column_dimensions[letter].width >= display_width(LONG_TOWN)
    assert wb["村排名"].column_dimensions["A"].width >= display_width(LONG_TOWN), "the village sheet's 乡镇 column"
    assert all(ws.freeze_panes == "A2" for ws in wb.worksheets)
