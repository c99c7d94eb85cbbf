"""/api/import-runs/: every import of the one flow (roster, identity lists, …) — upload and
preview, the run with its counts and rows, confirm, cancel, the problem-row sheet. Thin: the
flow (``core.imports.flow``) does the work, the importer says which fields a kind needs."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from .. import disclosure
from ..choices import ImportStatus
from ..imports import exports, flow, progress, tasks
from ..imports.importers import TargetError, importer_for, kinds
from ..models import ImportRun
from ..spreadsheets import UploadError, xlsx_response
from .viewsets import ScopedViewSet

ERR_KIND = "请填写导入类型（kind）：{kinds}。"
ERR_NOT_CONFIRMABLE = "这个导入现在不能确认（状态：{status}）。"


class ImportRunSerializer(serializers.ModelSerializer):
    region_code = serializers.CharField(source="region.code", read_only=True)
    status_display = serializers.SerializerMethodField(help_text="状态（处理进程已停止的显示“中断”）")
    interrupted = serializers.SerializerMethodField(help_text="处理它的进程已停止：可放弃后重新上传")
    confirmable = serializers.SerializerMethodField(help_text="确认后将写入的行数（0：不能确认）")
    progress = serializers.SerializerMethodField(help_text="运行中：已处理/总行数")
    rows = serializers.SerializerMethodField(help_text="需要注意的行（错误、提示、换户），身份证号码按角色脱敏")

    class Meta:
        model = ImportRun
        fields = ["id", "kind", "region_code", "year", "original_name", "status", "status_display", "interrupted", "created_at",
                  "applied_at", "total_rows", "counts", "result", "error", "confirmable", "progress", "rows"]
        read_only_fields = fields

    def get_confirmable(self, obj) -> int:
        return flow.confirmable(obj)

    def get_status_display(self, obj) -> str:
        return flow.INTERRUPTED_LABEL if flow.interrupted(obj) else obj.get_status_display()

    def get_interrupted(self, obj) -> bool:
        return flow.interrupted(obj)

    def get_progress(self, obj) -> dict | None:
        return progress.get(obj.pk) if obj.status in (ImportStatus.PREVIEWING, ImportStatus.APPLYING) else None

    def get_rows(self, obj) -> list[dict]:
        request = self.context.get("request")
        rows = [{"line": line, "outcome": outcome, "message": message, "name": name, "id_number": number}
                for line, outcome, message, name, number in obj.rows]
        if request is None:
            return [{**r, "id_number": disclosure.MASKED.id_number(r["id_number"])} for r in rows]
        disclosure.show_ids(request.user, rows, page="api_import_run", obj=obj, number=lambda r: r["id_number"])
        return [{**{k: v for k, v in r.items() if k != "id_shown"}, "id_number": r["id_shown"]} for r in rows]


class ImportRunUploadSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="roster（花名册，另填 village、year）、identity_list（资助身份名单，另填 policy、source_list）或 departure_list（部门减员名单，另填 year、list_kind、source_list）")
    file = serializers.FileField()
    village = serializers.CharField(required=False, help_text="村/社区区划代码（花名册）")
    year = serializers.CharField(required=False, help_text="年度（花名册）")
    policy = serializers.CharField(required=False, help_text="年度政策编号（资助身份名单）")
    source_list = serializers.CharField(required=False, allow_blank=True, help_text="来源名单名称")
    list_kind = serializers.CharField(required=False, help_text="减员名单类型（departure_list）：deceased、employee、student_school、elsewhere")


class ImportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = ImportRun.objects.select_related("region")
    serializer_class = ImportRunSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def base_queryset(self):
        runs = self.queryset.all()
        kind = self.request.query_params.get("kind")
        return runs.filter(kind=kind) if kind else runs

    @extend_schema(request=ImportRunUploadSerializer, responses={201: ImportRunSerializer})
    def create(self, request):
        """Upload a file and preview it (eagerly, or queued: poll the run until it is previewed)."""
        form = ImportRunUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        kind = form.validated_data["kind"]
        if kind not in kinds():
            raise ValidationError({"kind": [ERR_KIND.format(kinds="、".join(kinds()))]})
        upload = form.validated_data["file"]
        importer = importer_for(kind)
        flow.require_importer(request.user, importer)  # before its fields: a refusal says nothing of them
        try:
            region, year, options = importer.target(request.user, {**{k: request.data.get(k) for k in request.data}, "file_name": upload.name})
            run = flow.import_upload(actor=request.user, kind=kind, region=region, year=year, upload=upload, options=options)
        except TargetError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        except UploadError as exc:
            raise ValidationError({"file": [exc.message]}) from None
        if not tasks.queue(run, actor=request.user, phase="preview"):
            raise ValidationError({"detail": tasks.ERR_QUEUE})
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ImportRunSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm a previewed run: its rows are written in one transaction (or none, with the rows
        that stopped it)."""
        run = self.get_object()
        if not flow.import_confirm(actor=request.user, run=run):
            raise ValidationError({"detail": ERR_NOT_CONFIRMABLE.format(status=run.get_status_display())})
        if not tasks.queue(run, actor=request.user, phase="apply"):
            raise ValidationError({"detail": tasks.ERR_QUEUE})
        return Response(self.get_serializer(run).data)

    @extend_schema(request=None, responses={200: ImportRunSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = self.get_object()
        try:
            flow.import_cancel(actor=request.user, run=run)
        except UploadError as exc:
            raise ValidationError({"detail": exc.message}) from None
        return Response(self.get_serializer(run).data)

    @extend_schema(responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes})
    @action(detail=True, methods=["get"], url_path="problems.xlsx")
    def problems(self, request, pk=None):
        run = self.get_object()
        return xlsx_response(exports.problems_workbook(actor=request.user, run=run), f"导入问题行-{run.pk}.xlsx")



router = SimpleRouter(trailing_slash=True)
router.register("import-runs", ImportRunViewSet, basename="import-run")
urlpatterns = router.urls
