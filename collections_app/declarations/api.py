"""/api/declarations/: declaration forms for the tax office, their xlsx, the tax office's answer,
and reconciliation. Thin."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api.viewsets import ScopedViewSet
from core.choices import RegionLevel
from core.models import Region
from core.scoping import visible_or_404
from core.spreadsheets import xlsx_response
from subsidies.selectors import benefit_year

from ..api.errors import ErrorSerializer, raise_validation_error
from ..exports import declaration_workbook_for
from ..models import Declaration
from . import answers
from . import selectors as declaration_selectors
from . import serializers as s
from . import services as declaration_services
from .filtersets import DeclarationFilterSet


class DeclarationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Declaration forms for the tax office, their xlsx, the tax office's answer, and reconciliation."""

    serializer_class = s.DeclarationSerializer
    filterset_class = DeclarationFilterSet
    capabilities = {"*": ("declaration.manage", "report.view"), "create": "declaration.manage", "answer": "declaration.manage",
                    "preview": "declaration.manage"}

    queryset = Declaration.objects.all()

    def base_queryset(self):
        return Declaration.objects.prefetch_related("lines").order_by("-created_at", "-id")

    @extend_schema(request=s.DeclarationCreateSerializer, responses={201: s.DeclarationSerializer, 400: ErrorSerializer})
    def create(self, request):
        """Generate a declaration (its persons become 已申报). Send ``expect``, the fingerprint of
        ``POST preview/``, to be refused if the rows changed since you looked."""
        data = s.DeclarationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        region = visible_or_404(request.user, Region, pk=data.validated_data["region"])
        try:
            d = declaration_services.declaration_create(actor=request.user, region=region, year=data.validated_data["year"],
                                                        expect=data.validated_data.get("expect") or None)
        except DjangoValidationError as exc:
            raise_validation_error(exc)
        return Response(self.get_serializer(d).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.DeclarationPreviewQuerySerializer, responses={200: s.DeclarationPreviewSerializer, 400: ErrorSerializer})
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """What a declaration would hold now — counts, total, the first rows — written nowhere;
        its ``fingerprint`` goes with the create as ``expect``."""
        data = s.DeclarationPreviewQuerySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        region = visible_or_404(request.user, Region, pk=data.validated_data["region"])
        try:
            p = declaration_services.declaration_preview(actor=request.user, region=region, year=data.validated_data["year"])
        except DjangoValidationError as exc:
            raise_validation_error(exc)
        lines = declaration_selectors.preview_lines(request.user, p)
        return Response(s.DeclarationPreviewSerializer({
            "region": region.pk, "year": p.year, "person_count": p.person_count, "zero_count": p.zero_count, "total": p.total,
            "fingerprint": p.fingerprint,
            "first": [{"village": ln["village"], "name": ln["name"], "id_number": ln["id_number"], "tier": ln["tier"],
                       "amount": ln["amount"], "zero": ln["zero"]} for ln in lines],
        }, context=self.get_serializer_context()).data)

    @extend_schema(request={"multipart/form-data": s.AnswerUploadSerializer}, responses={200: s.AnswerResultSerializer, 400: ErrorSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def answer(self, request, pk=None):
        d = self.get_object()
        data = s.AnswerUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = answers.declaration_answer_import(actor=request.user, declaration=d, fileobj=data.validated_data["file"])
        except DjangoValidationError as exc:
            raise_validation_error(exc)
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


router = SimpleRouter(trailing_slash=True)
router.register("declarations", DeclarationViewSet, basename="declaration")
urlpatterns = router.urls
