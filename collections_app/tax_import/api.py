"""/api/imports/: tax filing imports — upload (preview), confirm, problem rows, progress. Thin."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api.fields import DisclosedIdField
from core.api.viewsets import ScopedViewSet
from core.choices import RUNNING_IMPORT_STATUSES, ImportStatus

from ..models.tax_imports import RowOutcome, TaxImport, TaxImportRow
from . import progress, selectors, services
from .tasks import ERR_QUEUE, queue_tax_import


class TaxImportSerializer(serializers.ModelSerializer):
    county_code = serializers.CharField(source="county.code", read_only=True)
    status_display = serializers.SerializerMethodField()
    interrupted = serializers.SerializerMethodField()
    interrupted_message = serializers.SerializerMethodField()
    summary = serializers.JSONField(read_only=True)

    class Meta:
        model = TaxImport
        fields = [
            "id", "county_code", "year", "original_name", "kind", "status", "status_display", "interrupted",
            "interrupted_message", "created_at", "applied_at", "summary", "preview", "result", "error",
        ]
        read_only_fields = fields

    def get_interrupted(self, obj) -> bool:
        return progress.tax_import_is_interrupted(obj)

    def get_status_display(self, obj) -> str:
        """中断 for an interrupted import (its status stays 正在预检 or 正在导入: resume it)."""
        return progress.status_label(obj)

    def get_interrupted_message(self, obj) -> str:
        return progress.interrupted_message(obj) if progress.tax_import_is_interrupted(obj) else ""


class TaxImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    year = serializers.IntegerField(required=False, allow_null=True, min_value=2000, max_value=2100)


class TaxImportRowSerializer(serializers.ModelSerializer):
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    id_number = DisclosedIdField(read_only=True)
    owed = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True)

    class Meta:
        model = TaxImportRow
        fields = [
            "row_number", "outcome", "outcome_display", "message", "name", "id_number", "amount", "owed", "paid_on",
            "voucher", "channel", "place", "township", "year", "refund_candidate",
        ]
        read_only_fields = fields


PROGRESS = inline_serializer(
    "TaxImportProgress",
    {
        "percent": serializers.IntegerField(), "message": serializers.CharField(), "done": serializers.BooleanField(),
        "status": serializers.CharField(), "interrupted": serializers.BooleanField(),
    },
)


class QueueDown(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = ERR_QUEUE
    default_code = "queue_unavailable"


def _queue(ti, *, actor, apply: bool, previous: str | None = None) -> None:
    """Queue the run as the pages do; 503 with the pages' message when it could not be."""
    if not queue_tax_import(ti, actor=actor, apply=apply, previous=previous):
        raise QueueDown()


class TaxImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = TaxImportSerializer
    capabilities = {"read": ("taximport.run", "refund.approve"), "write": "taximport.run"}  # reading: the bureau too
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["status", "year"]
    ordering_fields = ["created_at", "id"]
    queryset = TaxImport.objects.all()

    def base_queryset(self):
        return selectors.tax_import_list(user=self.request.user)

    @extend_schema(request=TaxImportUploadSerializer, responses={201: TaxImportSerializer})
    def create(self, request):
        """Upload a filing; it is checked and previewed (a dry run) — confirm it with POST …/confirm/."""
        data = TaxImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            ti = services.tax_import_create(
                actor=request.user, county=request.user.county, upload=upload, name=upload.name,
                year=data.validated_data.get("year"),
            )
        except services.ImportFailed as exc:
            raise ValidationError({"file": [exc.message]}) from None
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        _queue(ti, actor=request.user, apply=False)
        ti.refresh_from_db()
        return Response(TaxImportSerializer(ti).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: TaxImportSerializer, 200: TaxImportSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Apply a previewed import (atomically). Confirming an applied import again changes nothing;
        an interrupted apply (its worker gone) may be confirmed again, as …/resume/ does."""
        ti = self.get_object()
        if ti.status == ImportStatus.APPLIED:
            return Response(TaxImportSerializer(ti).data)
        previous = ti.status
        if not services.tax_import_mark_applying(actor=request.user, tax_import=ti):
            if ti.status == ImportStatus.APPLIED:
                return Response(TaxImportSerializer(ti).data)
            if ti.status == ImportStatus.APPLYING:  # running (not interrupted): nothing to queue
                return Response(TaxImportSerializer(ti).data, status=status.HTTP_202_ACCEPTED)
            raise ValidationError({"status": [services.ERR_NOT_PREVIEWED]})
        _queue(ti, actor=request.user, apply=True, previous=previous)
        ti.refresh_from_db()
        code = status.HTTP_200_OK if ti.status == ImportStatus.APPLIED else status.HTTP_202_ACCEPTED
        return Response(TaxImportSerializer(ti).data, status=code)

    @extend_schema(request=None, responses={202: TaxImportSerializer, 200: TaxImportSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Rerun the preview or the apply of an interrupted import (``interrupted``: its worker is
        gone). 400 when it is not interrupted (running, or done); of two resumes at once one runs."""
        ti = self.get_object()
        if not services.tax_import_resume(actor=request.user, tax_import=ti):
            raise ValidationError({"status": [services.ERR_NOT_INTERRUPTED]})
        _queue(ti, actor=request.user, apply=ti.status == ImportStatus.APPLYING)
        ti.refresh_from_db()
        running = ti.status in RUNNING_IMPORT_STATUSES
        return Response(TaxImportSerializer(ti).data, status=status.HTTP_202_ACCEPTED if running else status.HTTP_200_OK)

    @extend_schema(responses=TaxImportRowSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=TaxImportRowSerializer, filterset_fields=[])
    def rows(self, request, pk=None):
        """The problem rows with their reasons (?outcome=amount_mismatch|unknown_person|duplicate|invalid)."""
        ti = self.get_object()
        outcome = request.query_params.get("outcome")
        qs = selectors.tax_import_rows(
            user=request.user, tax_import=ti, outcome=outcome if outcome in dict(RowOutcome.choices) else None
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(TaxImportRowSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(responses=PROGRESS)
    @action(detail=True, methods=["get"], filterset_fields=[])
    def progress(self, request, pk=None):
        ti = self.get_object()
        interrupted = progress.tax_import_is_interrupted(ti)
        running = ti.status in RUNNING_IMPORT_STATUSES and not interrupted
        p = progress.get_progress(ti.pk) or {}
        message = progress.interrupted_message(ti) if interrupted else p.get("message") or ti.get_status_display()
        return Response(
            {
                "percent": p.get("percent", 0) if running else 100, "message": message, "done": not running,
                "status": ti.status, "interrupted": interrupted,
            }
        )


router = SimpleRouter(trailing_slash=True)
router.register("imports", TaxImportViewSet, basename="taximport")
urlpatterns = router.urls
