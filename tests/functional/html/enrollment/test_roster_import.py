"""Roster import through the page: household numbers are text, and nobody changes household unless
the preview listed that person and the confirm found exactly the moves the preview showed."""

import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils.html import escape
from openpyxl import Workbook, load_workbook

from core import cells, idcard
from core.choices import ImportStatus
from core.imports.flow import ERR_HAS_ERRORS as MSG_NOTHING_WRITTEN
from core.imports.views import MSG_NOT_CONFIRMABLE
from core.models import AuditEvent, ImportRun
from enrollment.choices import Relation
from enrollment.importers import MSG_ROSTER_PREVIEWED as MSG_PREVIEW_OK
from enrollment.models import Household, Person
from enrollment.resources import COL_NUMBER, ERR_HEADS, ERR_MOVE_GONE, ERR_MOVE_NOT_PREVIEWED, MSG_MOVE
from enrollment.services import ERR_DUPLICATE_ID
from tests.factories import HouseholdFactory, PersonFactory, VillageFactory, make_id

YEAR = 2026
URL = reverse("enrollment:roster_import") + f"?year={YEAR}"
HEADER = ["户号", "住址", "姓名", "身份证号码", "与户主关系", "联系电话", "本年度参保", "原因说明"]


def _xlsx(rows):
    """A workbook as Excel saves it: an int is a number cell, a str a text cell."""
    wb = Workbook()
    wb.active.append(HEADER)
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "roster.xlsx"
    return buf


def row(number, person, relation="户主", name=None):
    return [number, "", name or person.name, person.id_number, relation, "", "参保", ""]


def preview(client, village, rows):
    """Upload → the run's page, as the browser follows it."""
    return client.post(URL, {"step": "preview", "village": village.pk, "file": _xlsx(rows)}, follow=True)


def confirm(client, previewed, **kwargs):
    return client.post(reverse("core:import_run_confirm", args=[previewed.context["run"].pk]), **kwargs)


def confirmed(client, previewed) -> bool:
    """Confirmed and written: the page goes on to the village's roster."""
    resp = confirm(client, previewed)
    return resp.status_code == 302 and resp["Location"].startswith(reverse("enrollment:roster"))


def moves(resp):
    return [(r["line"], r["message"]) for r in resp.context["rows"] if r["status"] == "moved"]


def family(village, number, *relations):
    household = HouseholdFactory(village=village, number=number)
    return household, [PersonFactory(household=household, relation=r) for r in relations]


def homes():
    """Where everybody is filed: {ID number: (village id, household number)}."""
    return {p.id_number: (p.household.village_id, p.household.number) for p in Person.objects.select_related("household")}


def move_text(person, old, new, template=MSG_MOVE):
    return template.format(name=person.name, masked=idcard.mask(person.id_number), old=old, new=new)


@pytest.mark.parametrize("number, cell, shown", [("00001", 1, "1"), ("12", 12, "12")])
def test_a_numeric_household_cell_is_the_rows_error(client, users, regions, number, cell, shown):
    """00001 stored as a number reads 1; 12 reads 12 but the cell cannot say whether 0012 was meant."""
    _, (head, spouse) = family(regions["v1"], number, Relation.HEAD, Relation.SPOUSE)
    client.force_login(users["collector"])
    resp = preview(client, regions["v1"], [row(cell, head), row(cell, spouse, "配偶")])
    message = f"{COL_NUMBER}：{cells.ERR_HOUSEHOLD_NUMBER_CELL.format(shown=shown)}"
    assert resp.context["problems"] == [(2, message), (3, message)]
    assert not resp.context["confirmable"] and escape(message) in resp.content.decode()


def test_the_reported_file_moves_nobody(client, users, regions):
    """The issue's file: 户号 00001 kept by Excel as the number 1. Refused; the same file with the
    column as text updates the two members in place."""
    _, (head, spouse) = family(regions["v1"], "00001", Relation.HEAD, Relation.SPOUSE)
    before = homes()
    client.force_login(users["collector"])
    resp = preview(client, regions["v1"], [row(1, head), row(1, spouse, "配偶")])
    assert [n for n, _ in resp.context["problems"]] == [2, 3] and not resp.context["confirmable"]
    resp = confirm(client, resp, follow=True)
    assert MSG_NOT_CONFIRMABLE in resp.content.decode()
    assert ImportRun.objects.get().status == ImportStatus.PREVIEWED
    assert homes() == before

    resp = preview(client, regions["v1"], [row("00001", head), row("00001", spouse, "配偶")])
    assert resp.context["counts"] == {"new": 0, "update": 2, "moved": 0} and moves(resp) == []
    assert MSG_PREVIEW_OK.format(new=0, update=2, moved=0) in resp.content.decode()
    assert confirmed(client, resp)
    assert homes() == before
    assert list(Household.objects.values_list("number", flat=True)) == ["00001"]


def test_text_household_numbers_are_normalised_as_the_form_does(client, users, regions):
    _, (head,) = family(regions["v1"], "00001", Relation.HEAD)
    before = homes()
    client.force_login(users["collector"])
    resp = preview(client, regions["v1"], [row("\u3000００００１ ", head)])
    assert resp.context["counts"] == {"new": 0, "update": 1, "moved": 0}
    assert confirmed(client, resp)
    assert homes() == before and Household.objects.count() == 1


def test_preview_lists_a_move_and_counts_it_apart_and_the_confirm_makes_it(client, users, regions):
    _, (head, child) = family(regions["v1"], "00001", Relation.HEAD, Relation.CHILD)
    _, (other,) = family(regions["v1"], "00002", Relation.HEAD)
    newcomer = PersonFactory.build(id_number=make_id())
    client.force_login(users["collector"])
    resp = preview(client, regions["v1"], [
        row("00001", head), row("00002", child, "子女"), row("00002", other), row("00003", newcomer),
    ])
    body = resp.content.decode()
    assert resp.context["counts"] == {"new": 1, "update": 2, "moved": 1}
    assert MSG_PREVIEW_OK.format(new=1, update=2, moved=1) in body
    assert moves(resp) == [(3, move_text(child, "00001", "00002"))]
    assert escape(move_text(child, "00001", "00002")) in body
    assert homes()[child.id_number] == (regions["v1"].pk, "00001")  # the preview wrote nothing

    assert confirmed(client, resp)
    assert homes()[child.id_number] == (regions["v1"].pk, "00002")
    assert homes()[head.id_number] == (regions["v1"].pk, "00001")
    event = AuditEvent.objects.get(action="import")
    assert (event.detail["new"], event.detail["update"], event.detail["moved"]) == (1, 2, 1)


def test_confirm_refuses_a_move_that_appeared_after_the_preview(client, users, regions):
    household, (head,) = family(regions["v1"], "00001", Relation.HEAD)
    spouse = PersonFactory.build(id_number=make_id(), name="王二")
    client.force_login(users["collector"])
    resp = preview(client, regions["v1"], [row("00001", head, name="张改名"), row("00001", spouse, "配偶")])
    assert resp.context["counts"] == {"new": 1, "update": 1, "moved": 0}
    # Meanwhile someone registers the spouse in another household of the village.
    registered = PersonFactory(household=HouseholdFactory(village=regions["v1"], number="00009"),
                               id_number=spouse.id_number, name="王二")
    before = homes()

    resp = confirm(client, resp, follow=True)
    assert resp.status_code == 200 and resp.context["run"].status == ImportStatus.REFUSED
    body = resp.content.decode()
    assert (3, f"{COL_NUMBER}：{move_text(registered, '00009', '00001', ERR_MOVE_NOT_PREVIEWED)}") in resp.context["problems"]
    assert MSG_NOTHING_WRITTEN in body
    assert homes() == before
    assert Person.objects.get(pk=head.pk).name == head.name and household.members.count() == 1


def test_confirm_refuses_when_a_previewed_move_is_no_longer_the_same(client, users, regions):
    _, (head, child) = family(regions["v1"], "00001", Relation.HEAD, Relation.CHILD)
    _, (other,) = family(regions["v1"], "00002", Relation.HEAD)
    client.force_login(users["collector"])
    resp = preview(client, regions["v1"], [row("00001", head), row("00002", child, "子女"), row("00002", other)])
    assert resp.context["counts"]["moved"] == 1
    # Meanwhile the child is filed under a third household.
    third, _ = family(regions["v1"], "00003", Relation.HEAD)
    Person.objects.filter(pk=child.pk).update(household=third)
    before = homes()

    resp = confirm(client, resp, follow=True)
    problems = resp.context["problems"]
    assert (1, move_text(child, "00001", "00002", ERR_MOVE_GONE)) in problems
    assert (3, f"{COL_NUMBER}：{move_text(child, '00003', '00002', ERR_MOVE_NOT_PREVIEWED)}") in problems
    assert homes() == before


def test_a_move_that_leaves_a_household_without_its_head_is_refused(client, users, regions):
    _, (head, _child) = family(regions["v1"], "00001", Relation.HEAD, Relation.CHILD)
    before = homes()
    client.force_login(users["collector"])
    resp = preview(client, regions["v1"], [row("00002", head)])
    assert (1, ERR_HEADS.format(number="00001", count=0)) in resp.context["problems"]
    assert not resp.context["confirmable"] and homes() == before


@pytest.mark.parametrize("where", ["v2", "v3", "other_county"])
def test_a_person_of_a_village_the_actor_cannot_see_is_a_row_error(client, users, regions, where):
    village = VillageFactory() if where == "other_county" else regions[where]
    _, (person,) = family(village, "00001", Relation.HEAD)
    before = homes()
    client.force_login(users["collector"])
    resp = preview(client, regions["v1"], [row("00001", person)])
    expected = ERR_DUPLICATE_ID.format(place=village.full_name, masked=idcard.mask(person.id_number))
    assert resp.context["problems"] == [(2, f"身份证号码：{expected}")]
    assert resp.context["counts"]["moved"] == 0 and homes() == before


def test_the_template_keeps_household_numbers_as_text(client, users):
    client.force_login(users["collector"])
    ws = load_workbook(io.BytesIO(client.get(URL + "&template=1").content)).active
    assert ws["A1"].value == "户号" and ws["A2"].value == "0001" and ws["A2"].number_format == "@"


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods", "csv-gbk"])
def test_the_same_file_below_a_title_in_every_format_imports_alike(client, users, regions, fmt):
    """The roster reads what the other importers read: a title row above the header, a blank row,
    a totals row; an ID typed as a number is that row's error, named by its row in the sheet."""
    from tests.unit.core.intake_files import sheet_bytes

    _, (head, spouse) = family(regions["v1"], "00001", Relation.HEAD, Relation.SPOUSE)
    child = PersonFactory.build(id_number=make_id())
    rows = [["2027年度示例村城乡居民医保参保花名册"], [], HEADER, row("00001", head), row("00001", spouse, "配偶"),
            ["00001", "", child.name, 4.11325e17, "子女", "", "参保", ""], ["合计", "", "3人"]]
    upload = io.BytesIO(sheet_bytes(fmt, rows))
    upload.name = f"花名册.{fmt.split('-')[0]}"
    client.force_login(users["collector"])
    resp = client.post(URL, {"step": "preview", "village": regions["v1"].pk, "file": upload}, follow=True)
    # (a csv has no number cells: the ID reads as the text Excel wrote, 4.11325e+17, refused alike)
    assert resp.context["problems"] == [(6, f"身份证号码：{idcard.ERR_NUMERIC_CELL}")]
    rows[5] = row("00001", child, "子女")
    upload = io.BytesIO(sheet_bytes(fmt, rows))
    upload.name = f"花名册.{fmt.split('-')[0]}"
    resp = client.post(URL, {"step": "preview", "village": regions["v1"].pk, "file": upload}, follow=True)
    assert resp.context["problems"] == [] and resp.context["counts"] == {"new": 1, "update": 2, "moved": 0}
    assert confirmed(client, resp)
    assert homes()[child.id_number] == (regions["v1"].pk, "00001")


def test_a_cover_group_column_is_read_with_the_forms_rule(client, users, regions):
    client.force_login(users["collector"])
    head, child = PersonFactory.build(id_number=make_id(born=date(1980, 5, 1))), PersonFactory.build(id_number=make_id(born=date(2020, 5, 1)))
    wb = Workbook()
    wb.active.append([*HEADER, "特殊参保人群", "进入机构日期"])
    wb.active.append([*row("0701", head), "退役军人", ""])
    wb.active.append([*row("0701", child, relation="子女"), "儿童福利机构接收的儿童", ""])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "roster.xlsx"
    resp = client.post(URL, {"step": "preview", "village": regions["v1"].pk, "file": buf}, follow=True)
    assert "儿童福利机构接收的儿童须填写进入机构日期。" in resp.content.decode()
    ws = wb.active
    ws.cell(row=3, column=len(HEADER) + 2, value="2024-03-01")
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "roster.xlsx"
    assert confirmed(client, client.post(URL, {"step": "preview", "village": regions["v1"].pk, "file": buf}, follow=True))
    got = {p.id_number: (p.cover_group, p.cover_group_since) for p in Person.objects.all()}
    assert got == {head.id_number: ("veteran", None), child.id_number: ("welfare_child", date(2024, 3, 1))}
