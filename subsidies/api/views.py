from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from core.api.viewsets import ScopedViewSet

from .. import selectors
from ..benefit import BIRTH_YEAR_MUST_PAY, PaymentNotAccepted
from ..filtersets import PolicyYearFilterSet, SubsidyCategoryFilterSet
from ..models import CategorySubsidy, PolicyYear, SubsidyCategory
from .serializers import (
    PolicyYearSerializer,
    PublicPolicySerializer,
    QuoteErrorSerializer,
    QuoteQuerySerializer,
    QuoteSerializer,
    SubsidyCategorySerializer,
)


def quote_payload(q) -> dict:
    o = q.owed
    data = {
        "county": q.policy.county.code,
        "county_name": q.policy.county.name,
        "year": q.policy.year,
        "tier": q.tier,
        "standard": o.standard,
        "subsidy": o.subsidy,
        "self_pay": o.self_pay,
        "category": {"code": o.category.code, "name": o.category.name} if o.category else None,
        "notes": list(q.notes),
    }
    if q.cover is not None:
        data.update(benefit_start=q.cover.start, benefit_reason=q.cover.reason, waiting_months=q.cover.waiting_months)
        if q.cover.birth_year:
            data.update(birth_year=q.policy.year - 1, birth_year_must_pay=q.cover.birth_year == BIRTH_YEAR_MUST_PAY,
                        birth_year_self_pay=q.birth_year_owed.self_pay if q.birth_year_owed else None)
    if q.incentive is not None:
        data["incentive_raise"] = q.incentive
    return data


class QuoteView(APIView):
    """What a resident owes (and, given dates, when cover starts). Reveals no personal data:
    anonymous clients may call it; it is throttled."""

    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle, UserRateThrottle]
    serializer_class = QuoteSerializer

    @extend_schema(parameters=[QuoteQuerySerializer], responses={200: QuoteSerializer, 400: QuoteErrorSerializer, 404: QuoteErrorSerializer})
    def get(self, request):
        query = QuoteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        v = query.validated_data
        try:
            q = selectors.quote(
                county_code=v["county"],
                year=v["year"],
                tier=v["tier"],
                categories=query.category_list(),
                student=v["student"],
                paid_on=v["paid_on"],
                birth_date=v["birth_date"],
                registered_on=v["registered_on"],
                break_years=v["break_years"],
                backpaid_years=v["backpaid_years"],
                parent_insured=v["parent_insured"],
                cover_group=v["cover_group"],
                cover_group_since=v["cover_group_since"],
                continuous_years=v["continuous_years"],
                zero_claim_last_year=v["zero_claim_last_year"],
            )
        except selectors.PolicyMissing as exc:
            return Response({"detail": str(exc)}, status=404)
        except PaymentNotAccepted as exc:
            return Response({"detail": exc.message}, status=400)
        return Response(QuoteSerializer(quote_payload(q)).data)


class QuoteOptionsView(APIView):
    """The counties, years, tiers and category names the public calculator offers."""

    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle, UserRateThrottle]
    serializer_class = PublicPolicySerializer
    pagination_class = None

    @extend_schema(responses={200: PublicPolicySerializer(many=True)})
    def get(self, request):
        policies = selectors.public_policies()
        return Response(PublicPolicySerializer(policies, many=True).data)


class PolicyYearViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = PolicyYearSerializer
    capabilities = {"*": ("report.view", "policy.edit", "identity.import")}
    filterset_class = PolicyYearFilterSet
    ordering_fields = ["year"]

    queryset = PolicyYear.objects.all()

    def base_queryset(self):
        cats = SubsidyCategory.objects.select_related("policy__county").prefetch_related(
            Prefetch("amounts", queryset=CategorySubsidy.objects.order_by("tier"))
        )
        return (
            PolicyYear.objects.select_related("county")
            .prefetch_related("tiers", "phase_targets", "prize_grades", Prefetch("categories", queryset=cats))
        )


class SubsidyCategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = SubsidyCategorySerializer
    capabilities = {"*": ("report.view", "policy.edit", "identity.import")}
    filterset_class = SubsidyCategoryFilterSet
    ordering_fields = ["sort_order", "code"]

    queryset = SubsidyCategory.objects.all()

    def base_queryset(self):
        return selectors.categories_visible_to(self.request.user).prefetch_related("amounts")
