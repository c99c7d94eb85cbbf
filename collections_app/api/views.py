"""REST endpoints of the cash trail: the same services, rules and scoping as the pages."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.api.viewsets import ScopedViewSet
from core.choices import RegionLevel
from core.models import Region
from core.scoping import visible_or_404
from core.spreadsheets import xlsx_response
from enrollment.models import Enrollment, Household
from subsidies.selectors import benefit_year

from ..cash import selectors as cash_selectors
from ..cash import services as cash_services
from ..declarations import answers
from ..declarations import selectors as declaration_selectors
from ..declarations import services as declaration_services
from ..exports import declaration_workbook_for
from ..filtersets import DeclarationFilterSet, ReceiptFilterSet, RefundFilterSet, RemittanceFilterSet
from ..models import DailyLedger, Declaration, Receipt, Refund, Remittance
from ..refunds import services as refund_services
from . import serializers as s


def _raise(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        raise ValidationError(exc.message_dict)
    raise ValidationError({"detail": exc.messages})


class ReceiptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Receipts: issue (amounts from the policy), list, read, void (never delete or edit)."""

    serializer_class = s.ReceiptSerializer
    filterset_class = ReceiptFilterSet
    ordering_fields = ["issued_at", "number", "total"]
    capabilities = {"*": "roster.view", "create": "payment.take", "void": "receipt.void"}

    queryset = Receipt.objects.all()

    def base_queryset(self):
        return Receipt.objects.select_related("village", "collector").prefetch_related("lines").order_by("-issued_at", "-id")

    @extend_schema(request=s.ReceiptCreateSerializer, responses={201: s.ReceiptSerializer, 400: s.ErrorSerializer})
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
            _raise(exc)
        return Response(self.get_serializer(receipt).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.VoidSerializer, responses={200: s.ReceiptSerializer, 400: s.ErrorSerializer})
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        receipt = self.get_object()
        data = s.VoidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            receipt = cash_services.receipt_void(actor=request.user, receipt=receipt, reason=data.validated_data["reason"])
        except DjangoValidationError as exc:
            _raise(exc)
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
        """The caller's own cash ledger for one day (default today), confirmed or not, with its flags."""
        q = s.LedgerDayQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        summary = cash_selectors.ledger_day(collector=request.user, day=q.validated_data.get("day") or timezone.localdate())
        summary = dict(summary, confirmed=summary["confirmed"] is not None)
        return Response(s.LedgerDaySerializer(summary).data)

    @extend_schema(request=s.LedgerConfirmSerializer, responses={200: s.LedgerSerializer, 400: s.ErrorSerializer})
    @action(detail=False, methods=["post"])
    def confirm(self, request):
        data = s.LedgerConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            ledger = cash_services.ledger_confirm(actor=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(self.get_serializer(ledger).data)


class RemittanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Cash deposited to the township/tax account and the receipts it covers (over/under flagged)."""

    serializer_class = s.RemittanceSerializer
    filterset_class = RemittanceFilterSet
    capabilities = {"*": ("remittance.record", "report.view"), "create": "remittance.record"}

    queryset = Remittance.objects.all()

    def base_queryset(self):
        return cash_selectors.remittance_list(user=self.request.user).prefetch_related("receipts").order_by("-deposited_on", "-id")

    @extend_schema(request=s.RemittanceCreateSerializer, responses={201: s.RemittanceSerializer, 400: s.ErrorSerializer})
    def create(self, request):
        data = s.RemittanceCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        collector_id = v.pop("collector", None) or request.user.pk
        collector = visible_or_404(request.user, cash_selectors.collectors_for(request.user), pk=collector_id)
        try:
            out = cash_services.remittance_record(actor=request.user, collector=collector, **v)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(self.get_serializer(self.get_queryset().get(pk=out.obj.pk)).data, status=status.HTTP_201_CREATED)


class DeclarationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Declaration forms for the tax office, their xlsx, the tax office's answer, and reconciliation."""

    serializer_class = s.DeclarationSerializer
    filterset_class = DeclarationFilterSet
    capabilities = {"*": ("declaration.manage", "report.view"), "create": "declaration.manage", "answer": "declaration.manage"}

    queryset = Declaration.objects.all()

    def base_queryset(self):
        return Declaration.objects.prefetch_related("lines").order_by("-created_at", "-id")

    @extend_schema(request=s.DeclarationCreateSerializer, responses={201: s.DeclarationSerializer, 400: s.ErrorSerializer})
    def create(self, request):
        data = s.DeclarationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        region = visible_or_404(request.user, Region, pk=data.validated_data["region"])
        try:
            d = declaration_services.declaration_create(actor=request.user, region=region, year=data.validated_data["year"])
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(self.get_serializer(d).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": s.AnswerUploadSerializer}, responses={200: s.AnswerResultSerializer, 400: s.ErrorSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def answer(self, request, pk=None):
        d = self.get_object()
        data = s.AnswerUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = answers.declaration_answer_import(actor=request.user, declaration=d, fileobj=data.validated_data["file"])
        except DjangoValidationError as exc:
            _raise(exc)
        d.refresh_from_db()
        return Response({"accepted": result.accepted, "failed": result.failed, "declaration": self.get_serializer(d).data})

    @extend_schema(responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        d = self.get_object()
        return xlsx_response(declaration_workbook_for(actor=request.user, declaration=d), f"declaration_{d.pk}.xlsx")

    @extend_schema(parameters=[s.ReconciliationQuerySerializer], responses={200: s.ReconciliationSerializer})
    @action(detail=False, methods=["get"])
    def reconciliation(self, request):
        q = s.ReconciliationQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        region = visible_or_404(request.user, Region.objects.exclude(level=RegionLevel.COUNTY), pk=q.validated_data["region"])
        year = q.validated_data.get("year") or benefit_year(region.county)
        data = declaration_selectors.reconciliation(user=request.user, region=region, year=year)
        return Response(s.ReconciliationSerializer(data).data)


class RefundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Refund applications: apply with evidence, bureau decides, tax office marks paid."""

    serializer_class = s.RefundSerializer
    filterset_class = RefundFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    capabilities = {
        "*": ("refund.apply", "refund.approve", "refund.pay"),
        "create": "refund.apply",
        "decide": "refund.approve",
        "pay": "refund.pay",
    }

    def list(self, request, *args, **kwargs):
        refund_services.refund_candidates_sync(user=request.user)
        return super().list(request, *args, **kwargs)

    queryset = Refund.objects.all()

    def base_queryset(self):
        return Refund.objects.select_related("enrollment__person").order_by("-created_at", "-id")

    @extend_schema(request={"multipart/form-data": s.RefundCreateSerializer}, responses={201: s.RefundSerializer, 400: s.ErrorSerializer})
    def create(self, request):
        data = s.RefundCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        enrollment = visible_or_404(request.user, Enrollment, pk=v.pop("enrollment"))
        try:
            refund = refund_services.refund_apply(actor=request.user, enrollment=enrollment, **v)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(self.get_serializer(refund).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RefundDecisionSerializer, responses={200: s.RefundSerializer, 400: s.ErrorSerializer})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def decide(self, request, pk=None):
        refund = self.get_object()
        data = s.RefundDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            refund = refund_services.refund_decide(actor=request.user, refund=refund, **data.validated_data)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(self.get_serializer(refund).data)

    @extend_schema(request=s.RefundPaidSerializer, responses={200: s.RefundSerializer, 400: s.ErrorSerializer})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def pay(self, request, pk=None):
        refund = self.get_object()
        data = s.RefundPaidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            refund = refund_services.refund_mark_paid(actor=request.user, refund=refund, **data.validated_data)
        except DjangoValidationError as exc:
            _raise(exc)
        return Response(self.get_serializer(refund).data)
