from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core import disclosure
from core.access import allowed, needs
from core.choices import RegionLevel
from core.scoping import visible_or_404

from .. import selectors
from ..choices import REASONS_NEEDING_NOTE, Relation
from ..forms import HouseholdForm, MemberFormSet, NoticeForm, TransferForm, apply_errors
from ..models import Person
from ..services import (
    MemberInput,
    RosterInvalid,
    household_save,
    id_number_errors,
    notice_set,
    participation_of,
    require_edit,
    transfer_request,
)
from .common import page_year, picked_regions

MSG_SAVED = "已保存{number}号户及{count}名成员。"
MSG_FIX = "没有保存：请按提示改正标红的内容后再提交。"
MSG_NOTICE_SAVED = "已更新告知书回执和承诺书的收回情况。"
MSG_TRANSFER_SENT = "已向{place}提出转户申请，对方同意后此人将转入本户。"
ERR_BAD_ROW = "成员行数据无效，请刷新页面后重试。"


def _year_url(name, pk, year):
    return f"{reverse(name, args=[pk])}?year={year}"


@needs("roster.view")
def household_detail(request, pk):
    household = visible_or_404(request.user, selectors.households_visible(request.user), pk=pk)
    return _household_page(request, household)


@needs("roster.edit")
def household_create(request):
    return _household_page(request, None)


def _member_initial(row):
    p, e = row.person, row.enrollment
    return {
        "person_id": p.pk, "name": p.name, "id_number": p.id_number, "relation": p.relation, "phone": p.phone,
        "hukou_place": p.hukou_place, "is_student": p.is_student, "is_deceased": p.is_deceased,
        "deceased_on": p.deceased_on, "deceased_source": p.deceased_source,
        "cover_group": p.cover_group, "cover_group_since": p.cover_group_since, "participation": participation_of(e), "reason_note": e.reason_note if e else "",
        "tier": e.tier if e else 1,
    }


def _household_page(request, household):
    """The household and all its members in one form; each member's status and what they owe."""
    user = request.user
    can_edit = user.can("roster.edit")
    township, picked_village = picked_regions(request)
    village = household.village if household else picked_village
    year = page_year(request, village or user.region)
    rows = selectors.household_members(household, year=year) if household else []
    row_by_pk = {r.person.pk: r for r in rows}
    fixed_village = household.village if household else (user.region if user.region and user.region.level == RegionLevel.VILLAGE else None)
    villages = selectors.villages_for(user, township=township)
    duplicates = []

    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        hh_form = HouseholdForm(request.POST, villages=villages, fixed_village=fixed_village)
        formset = MemberFormSet(request.POST, prefix="m")
        hh_ok, fs_ok = hh_form.is_valid(), formset.is_valid()
        if hh_ok and fs_ok:
            pairs = []
            for i, form in enumerate(formset.forms):
                if i >= formset.initial_form_count() and not form.has_changed():
                    continue  # an empty row that was added and left blank
                pid = form.cleaned_data.get("person_id")
                person = None
                if pid:
                    row = row_by_pk.get(pid)
                    if row is None:
                        raise PermissionDenied(ERR_BAD_ROW)
                    person = row.person
                if form.cleaned_data.get("DELETE"):
                    if person is None:
                        continue
                    pairs.append((form, MemberInput(person=person, delete=True)))
                else:
                    pairs.append((form, form.to_input(person)))
            try:
                saved = household_save(
                    actor=user, year=year, household=household, members=[m for _, m in pairs],
                    village=fixed_village or hh_form.cleaned_data.get("village"),
                    number=hh_form.cleaned_data["number"], address=hh_form.cleaned_data["address"],
                )
            except RosterInvalid as exc:
                apply_errors(exc, hh_form, formset, [f for f, _ in pairs])
                duplicates = [m.duplicate_of for _, m in pairs if m.duplicate_of is not None]
                messages.error(request, MSG_FIX)
            else:
                kept = sum(1 for _, m in pairs if not m.delete)
                messages.success(request, MSG_SAVED.format(number=saved.number, count=kept))
                return redirect(_year_url("enrollment:household_detail", saved.pk, year))
        else:
            messages.error(request, MSG_FIX)
    else:
        if household is not None:
            hh_form = HouseholdForm(
                initial={"village": household.village, "number": household.number, "address": household.address},
                villages=villages, fixed_village=fixed_village,
            )
            formset = MemberFormSet(initial=[_member_initial(r) for r in rows], prefix="m")
            if can_edit:
                # The edit form holds full ID numbers: recorded like every page that shows them.
                disclosure.show_ids(user, [r.person for r in rows], page="household_form", obj=household)
        else:
            hh_form = HouseholdForm(initial={"village": picked_village}, villages=villages, fixed_village=fixed_village)
            formset = MemberFormSet(initial=[{"relation": Relation.HEAD, "participation": "enrol", "tier": 1}], prefix="m")

    form_rows = []
    for form in formset.forms:
        pid = form["person_id"].value()
        try:
            form_rows.append((form, row_by_pk.get(int(pid)) if pid else None))
        except (TypeError, ValueError):
            form_rows.append((form, None))
    ctx = {
        "household": household, "village": village, "year": year, "rows": rows, "hh_form": hh_form,
        "formset": formset, "form_rows": form_rows, "can_edit": can_edit, "duplicates": duplicates,
        "split": selectors.household_split(rows), "total": selectors.household_total(rows),
        "needs_note": list(REASONS_NEEDING_NOTE),
        "county_code": (village.county if village else user.county).code if (village or user.county) else "",
        "whole_household": bool(village) and selectors.household_split(rows) and selectors.whole_household_required(village, year),
    }
    if household is not None:
        notice = selectors.notice_for(household, year)
        ctx["notice"] = notice
        ctx["unpaid"] = not any(r.status in ("paid", "declared", "confirmed") for r in rows)
        ctx["notice_form"] = NoticeForm(initial={
            "notice_receipt": notice.notice_receipt if notice else False,
            "pledge_letter": notice.pledge_letter if notice else False, "note": notice.note if notice else "",
        })
        ctx["transfer_form"] = TransferForm(prefix="t")
        ctx["history"] = selectors.household_history(household, viewer=request.user)
        # The household is the user's (visible_or_404 above): the payment right is the region's too.
        ctx["can_take_payment"] = allowed(request.user, "payment.take")
    return render(request, "enrollment/household_form.html", ctx)


@require_POST
@needs("roster.edit")
def household_notice(request, pk):
    household = visible_or_404(request.user, selectors.households_visible(request.user), pk=pk)
    year = page_year(request, household.village)
    form = NoticeForm(request.POST)
    if form.is_valid():
        notice_set(actor=request.user, household=household, year=year, **form.cleaned_data)
        messages.success(request, MSG_NOTICE_SAVED)
    return redirect(_year_url("enrollment:household_detail", household.pk, year) + "#notice")


@require_POST
@needs("roster.edit")
def transfer_create(request, pk):
    household = visible_or_404(request.user, selectors.households_visible(request.user), pk=pk)
    year = page_year(request, household.village)
    require_edit(request.user)
    form = TransferForm(request.POST, prefix="t")
    if form.is_valid():
        try:
            transfer = transfer_request(actor=request.user, to_household=household, **form.cleaned_data)
        except RosterInvalid as exc:
            messages.error(request, exc.as_text())
        else:
            messages.success(request, MSG_TRANSFER_SENT.format(place=transfer.from_household.village.full_name))
    else:
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    return redirect(_year_url("enrollment:household_detail", household.pk, year) + "#transfer")


@needs("roster.edit")
def id_check(request):
    """The household form's check of one ID number as it is typed: the same rule and message as
    saving (``services.id_number_errors``: format, check digit, birth date, one record per
    person). Says where a holder is only as the save does (masked, the place)."""
    raw = request.GET.get("id_number", "")
    person = None
    pid = request.GET.get("person", "")
    if pid.isdigit():
        person = Person.objects.visible_to(request.user).filter(pk=int(pid)).first()
    errors, info = id_number_errors(raw, person=person)
    if errors:
        return JsonResponse({"ok": False, "message": "；".join(errors)})
    return JsonResponse({"ok": True, "sex": info.sex_label, "birth_date": info.birth_date.isoformat(),
                         "message": f"{info.sex_label} · {info.birth_date:%Y年%-m月%-d日}出生"})
