"""/api/reports/progress/ and /api/reports/rankings/: the figures the dashboards show."""

from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.access import Capabilities
from core.models import Region
from core.scoping import visible_or_404
from subsidies.selectors import benefit_year

from .. import metrics, selectors, services
from ..models import Ranking, RankingKind
from .serializers import ProgressSerializer, RankingSerializer

ERR_BAD_DATE = "date 须为 YYYY-MM-DD 格式。"


def _date(request, county=None) -> date:
    raw = request.query_params.get("date")
    if not raw:
        return selectors.default_day(county) if county is not None else services.local_today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise exceptions.ValidationError({"date": ERR_BAD_DATE}) from None


def _row(s, carried=False):
    return {
        "code": s.region.code,
        "name": s.region.name,
        "level": s.level,
        "date": s.date,
        "year": s.year,
        "carried": carried or getattr(s, "carried", False),
        **{f: getattr(s, f) for f in ROW_FIELDS},
        "rate": s.rate,
        "rate_target": s.rate_target,
        "special_rate": s.special_rate,
    }


ROW_FIELDS = (
    "quota_base",
    "quota_target",
    "quota_from_roster",
    "roster",
    "excluded",
    "collected",
    "declared",
    "confirmed",
    "refunded",
    "money_collected",
    "special_total",
    "special_confirmed",
    "no_record",
    "partial_households",
    "gaps",
    "gap_households",
)


class ProgressView(generics.GenericAPIView):
    """Progress of one unit (default: your own) and its child units on one day (default: today)."""

    permission_classes = [IsAuthenticated, Capabilities]
    capabilities = {"*": "report.view"}
    serializer_class = ProgressSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("region", OpenApiTypes.STR, description="区划代码（默认为本人所属单位）"),
            OpenApiParameter("date", OpenApiTypes.DATE, description="日期（默认今天）"),
        ]
    )
    def get(self, request):
        user = request.user
        region = selectors.region_for(user=user, code=request.query_params.get("region"))
        county = region.county
        day = _date(request, county)
        year = benefit_year(county, day)
        prog = selectors.progress(user=user, region=region, day=day, year=year)
        carried = prog["source"] == "carried"
        data = {
            "source": prog["source"],
            "as_of": prog["as_of"],
            "region": _row(prog["own"], carried) if prog["own"] else None,
            "children": [_row(s) for s in prog["children"]],
        }
        return Response(self.get_serializer(data).data)


class RankingView(generics.GenericAPIView):
    """The latest ranking of a county on or before a day: townships, and villages within each."""

    permission_classes = [IsAuthenticated, Capabilities]
    capabilities = {"*": "report.view"}
    serializer_class = RankingSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("county", OpenApiTypes.STR, description="县区代码（默认为本人所属县区）"),
            OpenApiParameter("date", OpenApiTypes.DATE, description="日期（默认今天）"),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(RankingKind.values), description="weekly 周排名 / final 最终考核"),
            OpenApiParameter("township", OpenApiTypes.STR, description="只看某乡镇内各村的排名"),
        ]
    )
    def get(self, request):
        user = request.user
        county = selectors.county_for(user=user, code=request.query_params.get("county"))
        kind = request.query_params.get("kind") or RankingKind.WEEKLY
        if kind not in RankingKind.values:
            raise exceptions.ValidationError({"kind": f"kind 须为 {', '.join(RankingKind.values)} 之一。"})
        ranking = (
            Ranking.objects.visible_to(user)
            .filter(county=county, kind=kind, date__lte=_date(request))
            .select_related("county")
            .order_by("-date")
            .first()
        )
        if ranking is None:
            raise exceptions.NotFound("还没有排名。")
        group = county
        township = request.query_params.get("township")
        if township:
            group = visible_or_404(user, Region.objects.filter(parent=county), code=township)
        entries = ranking.entries.filter(group=group).select_related("region", "group").order_by("rank")
        if group != county:  # townships are announced county-wide; villages only inside the reader's scope
            entries = entries.filter(region__in=Region.objects.visible_to(user))
        data = {
            "county": ranking.county,
            "date": ranking.date,
            "year": ranking.year,
            "kind": ranking.kind,
            "tie_break": metrics.TIE_BREAK_TEXT,
            "entries": list(entries),
        }
        return Response(self.get_serializer(data).data)
