"""/api/refunds/: refund applications — apply with evidence, the bureau decides, the tax office
marks them paid. Thin."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api.viewsets import ScopedViewSet
from core.scoping import visible_or_404
from enrollment.models import Enrollment

from ..api.errors import ErrorSerializer, raise_validation_error
from ..models import Refund
from . import serializers as s
from . import services as refund_services
from .filtersets import RefundFilterSet


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

    @extend_schema(request={"multipart/form-data": s.RefundCreateSerializer}, responses={201: s.RefundSerializer, 400: ErrorSerializer})
    def create(self, request):
        data = s.RefundCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        enrollment = visible_or_404(request.user, Enrollment, pk=v.pop("enrollment"))
        try:
            refund = refund_services.refund_apply(actor=request.user, enrollment=enrollment, **v)
        except DjangoValidationError as exc:
            raise_validation_error(exc)
        return Response(self.get_serializer(refund).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RefundDecisionSerializer, responses={200: s.RefundSerializer, 400: ErrorSerializer})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def decide(self, request, pk=None):
        refund = self.get_object()
        data = s.RefundDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            refund = refund_services.refund_decide(actor=request.user, refund=refund, **data.validated_data)
        except DjangoValidationError as exc:
            raise_validation_error(exc)
        return Response(self.get_serializer(refund).data)

    @extend_schema(request=s.RefundPaidSerializer, responses={200: s.RefundSerializer, 400: ErrorSerializer})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser])
    def pay(self, request, pk=None):
        refund = self.get_object()
        data = s.RefundPaidSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            refund = refund_services.refund_mark_paid(actor=request.user, refund=refund, **data.validated_data)
        except DjangoValidationError as exc:
            raise_validation_error(exc)
        return Response(self.get_serializer(refund).data)


router = SimpleRouter(trailing_slash=True)
router.register("refunds", RefundViewSet, basename="refund")
urlpatterns = router.urls
