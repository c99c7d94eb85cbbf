from datetime import date, datetime, time

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core import audit
from core.access import needs
from core.history import change_log, model_choices, model_verbose_name
from core.models import AuditEvent, Region, User
from core.scoping import visible_or_404

from .. import selectors
from ..models import Person, TransferRequest
from ..services import (
    ERR_GUARDIAN_NOT_MEMBER,
    RosterInvalid,
    can_decide,
    guardian_candidates,
    guardian_choose,
    guardian_is_fixed,
    reveal_id,
    transfer_decide,
    transfer_to_decide,
    transfers_to_decide,
)
from .common import page_year

MSG_TRANSFER_APPROVED = "已同意：{name}已转入{place}。"
MSG_TRANSFER_REJECTED = "已退回转户申请。"
MSG_GUARDIAN = "已记录：{name}随监护人{guardian}参保。"


@needs("roster.view")
def person_detail(request, pk):
    person = visible_or_404(request.user, Person.objects.select_related("household__village__parent__parent"), pk=pk)
    year = page_year(request, person.household.village)
    enrollments = list(person.enrollments.select_related("village").order_by("-year"))
    ctx = {
        "person": person, "year": year, "enrollments": enrollments, "history": selectors.person_history(person, viewer=request.user),
        "full_id": None, "can_reveal": request.user.can("id.full"),
        "incentive": selectors.incentive_of(person, year, enrollments),
        "transfers": person.transfer_requests.select_related("to_household__village", "from_household__village")[:10],
    }
    ctx["guardians"] = guardian_candidates(person) if request.user.can("roster.edit") and request.user.may_write else []
    ctx["guardian_fixed"] = bool(ctx["guardians"]) and guardian_is_fixed(person)
    if request.method == "POST" and request.POST.get("reveal"):
        ctx["full_id"] = reveal_id(actor=request.user, person=person)
    elif request.method == "POST" and request.POST.get("guardian"):
        if not ctx["guardians"]:
            raise PermissionDenied
        chosen = next((g for g in ctx["guardians"] if str(g.pk) == request.POST["guardian"]), None)
        try:
            if chosen is None:
                raise ValidationError({"guardian": ERR_GUARDIAN_NOT_MEMBER})
            guardian_choose(actor=request.user, newborn=person, guardian=chosen)
        except ValidationError as exc:
            messages.error(request, "；".join(m for msgs in exc.message_dict.values() for m in msgs))
        else:
            messages.success(request, MSG_GUARDIAN.format(name=person.name, guardian=chosen.name))
        return redirect(request.get_full_path())
    return render(request, "enrollment/person_detail.html", ctx)



@needs("roster.view")
def transfer_list(request):
    user = request.user
    to_decide = transfers_to_decide(user).select_related("person", "to_household__village", "from_household__village", "requested_by")
    mine = TransferRequest.objects.visible_to(user).select_related("person", "to_household__village", "from_household__village")[:50]
    return render(request, "enrollment/transfer_list.html", {"to_decide": to_decide[:100], "mine": mine})


@require_POST
@needs("roster.edit")
def transfer_decide_view(request, pk):
    transfer = transfer_to_decide(request.user, pk)
    if not can_decide(request.user, transfer):
        raise PermissionDenied
    approve = request.POST.get("decision") == "approve"
    try:
        transfer = transfer_decide(actor=request.user, transfer=transfer, approve=approve)
    except RosterInvalid as exc:
        messages.error(request, exc.as_text())
    else:
        if approve:
            messages.success(request, MSG_TRANSFER_APPROVED.format(name=transfer.person.name, place=transfer.to_household))
        else:
            messages.success(request, MSG_TRANSFER_REJECTED)
    return redirect(reverse("enrollment:transfer_list"))


@needs("audit.view")
def audit_list(request):
    """Reads and actions (full-ID views, exports, imports) and roster/policy changes in the county,
    deleted objects' included; filtered by action, changed model, actor and date, both paged."""
    user = request.user
    model_names = dict(model_choices())
    actors = User.objects.filter(region__in=Region.objects.visible_to(user)).order_by("username")
    model = request.GET.get("model", "")
    model = model if model in model_names else ""
    actor_id = request.GET.get("actor", "")
    actor = actors.filter(pk=int(actor_id)).first() if actor_id.isascii() and actor_id.isdigit() and len(actor_id) < 10 else None
    try:
        since_day = date.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        since_day = None
    if since_day is not None and not 1900 <= since_day.year <= 9000:
        since_day = None
    since = timezone.make_aware(datetime.combine(since_day, time.min)) if since_day else None

    events = AuditEvent.objects.visible_to(user).select_related("actor", "region")
    action = request.GET.get("action", "")
    if action:
        events = events.filter(action=action)
    if actor is not None:
        events = events.filter(actor=actor)
    if since is not None:
        events = events.filter(at__gte=since)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    events = list(page.object_list)
    for e in events:
        e.action_label = audit.action_label(e.action)
        e.detail_text = audit.detail_text(e.detail)
        e.object_label = model_verbose_name(e.object_type) if e.object_type else ""
    log = change_log(user=user, labels=[model] if model else None, since=since, actor=actor)
    changes_page = Paginator(log, 50).get_page(request.GET.get("cpage"))
    codes = AuditEvent.objects.visible_to(user).order_by().values_list("action", flat=True).distinct()
    return render(request, "enrollment/audit_list.html", {
        "page_obj": page, "events": events, "action": action,
        "actions": [(a, audit.action_label(a)) for a in sorted(set(codes))],
        "changes_page": changes_page, "changes": changes_page.object_list,
        "models": model_names.items(), "model": model, "actors": actors, "actor": actor,
        "since": since_day.isoformat() if since_day else "",
        "year": page_year(request, user.county),
    })
