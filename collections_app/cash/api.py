"""/api/receipts/, /api/ledgers/, /api/remittances/: the cash trail — the same services, rules and
scoping as the pages. Thin."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api.viewsets import ScopedViewSet
from core.scoping import visible_or_404
from enrollment.models import Household
from subsidies.selectors import benefit_year

from ..api.errors import ErrorSerializer, raise_validation_error
from ..models import DailyLedger, Receipt, Remittance
from . import selectors as cash_selectors
from . import serializers as s
from . import services as cash_services
from .filtersets import ReceiptFilterSet, RemittanceFilterSet


class ReceiptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Receipts: issue (amounts from the policy), list, read, void (never delete or edit)."""

    serializer_class = s.ReceiptSerializer
    filterset_class = ReceiptFilterSet
    ordering_fields = ["issued_at", "number", "total"]
    capabilities = {"*": "roster.view", "create": "payment.take", "void": "receipt.void"}

    queryset = Receipt.objects.all()

    def base_queryset(self):
        return Receipt.objects.select_related("village", "collector").prefetch_related("lines").order_by("-issued_at", "-id")

    @extend_schema(request=s.ReceiptCreateSerializer, responses={201: s.ReceiptSerializer, 400: ErrorSerializer})
    def create(self, request):
        data = s.ReceiptCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        household = visible_or_404(request.user, Household.objects.select_related("village"), pk=v["household"])
        year = v.get("year") or benefit_year(household.village.county)
        try:
            receipt = cash_services.receipt_issue(
                actor=request.user, household=household, persons=v["persons"], channel=v["channel"], year=year,
                tiers={int(k): t for k, t in (v.get("tiers") or {}).items() if str(k).isdigit()},
                payer_name=v.get("payer_name", ""),
            )
        except DjangoValidationError as exc:
            raise_validation_error(exc)
        return Response(self.get_serializer(receipt).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.VoidSerializer, responses={200: s.ReceiptSerializer, 400: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        receipt = self.get_object()
        data = s.VoidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            receipt = cash_services.receipt_void(actor=request.user, receipt=receipt, reason=data.validated_data["reason"])
        except DjangoValidationError as exc:
            raise_validation_error(exc)
        return Response(self.get_serializer(receipt).data)


class LedgerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Confirmed daily cash ledgers, each with its current mismatch flags; ``confirm`` closes a day."""

    serializer_class = s.LedgerSerializer
    filterset_fields = ["day", "collector"]
    capabilities = {"*": ("payment.take", "report.view"), "confirm": "payment.take", "day": "payment.take"}

    queryset = DailyLedger.objects.all()

    def base_queryset(self):
        return DailyLedger.objects.select_related("collector").order_by("-day", "collector_id")

    @extend_schema(parameters=[s.LedgerDayQuerySerializer], responses={200: s.LedgerDaySerializer})
    @action(detail=False, methods=["get"], url_path="day")
    def day(self, request):
        """The caller's own cash ledger for one day (default today), confirmed or not, with its flags.
        A blind count: ``cash_on_hand`` (the expected cash) is null until the day is confirmed;
        ``confirm`` takes only what was counted and answers with the expected cash and the difference."""
        q = s.LedgerDayQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        summary = cash_selectors.ledger_day_blind(
            cash_selectors.ledger_day(collector=request.user, day=q.validated_data.get("day") or timezone.localdate())
        )
        summary = dict(summary, confirmed=summary["confirmed"] is not None)
        return Response(s.LedgerDaySerializer(summary).data)

    @extend_schema(request=s.LedgerConfirmSerializer, responses={200: s.LedgerSerializer, 400: ErrorSerializer})
    @action(detail=False, methods=["post"])
    def confirm(self, request):
        data = s.LedgerConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            ledger = cash_services.ledger_confirm(actor=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            raise_validation_error(exc)
        return Response(self.get_serializer(ledger).data)


class RemittanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Cash deposited to the township/tax account and the receipts it covers (over/under flagged)."""

    serializer_class = s.RemittanceSerializer
    filterset_class = RemittanceFilterSet
    capabilities = {"*": ("remittance.record", "report.view"), "create": "remittance.record"}

    queryset = Remittance.objects.all()

    def base_queryset(self):
        return cash_selectors.remittance_list(user=self.request.user).prefetch_related("receipts").order_by("-deposited_on", "-id")

    @extend_schema(request=s.RemittanceCreateSerializer, responses={201: s.RemittanceSerializer, 400: ErrorSerializer})
    def create(self, request):
        data = s.RemittanceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        collector_id = v.pop("collector", None) or request.user.pk
        collector = visible_or_404(request.user, cash_selectors.collectors_for(request.user), pk=collector_id)
        try:
            out = cash_services.remittance_record(actor=request.user, collector=collector, **v)
        except DjangoValidationError as exc:
            raise_validation_error(exc)
        return Response(self.get_serializer(self.get_queryset().get(pk=out.obj.pk)).data, status=status.HTTP_201_CREATED)


router = SimpleRouter(trailing_slash=True)
router.register("receipts", ReceiptViewSet, basename="receipt")
router.register("ledgers", LedgerViewSet, basename="ledger")
router.register("remittances", RemittanceViewSet, basename="remittance")
urlpatterns = router.urls
