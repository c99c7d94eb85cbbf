"""Record reads and actions that must be traceable (full-ID views, exports, imports)."""

from .models import AuditEvent

ACTION_VIEW_FULL_ID = "view_full_id"
ACTION_EXPORT = "export"
ACTION_IMPORT = "import"
ACTION_CARRY_OVER = "carry_over"

# What the bureau reads for each action code. Codes recorded by other modules under their own
# constants (config.tokens, collections_app.tax_import.services) are listed here too, by value,
# since enrollment imports neither; tests check the two stay in step.
ACTION_LABELS = {
    ACTION_VIEW_FULL_ID: "查看完整身份证号码",
    ACTION_EXPORT: "导出",
    ACTION_IMPORT: "导入",
    ACTION_CARRY_OVER: "花名册结转",
    "tax_import": "导入税务缴费数据",
    "token_create": "生成 API 令牌",
    "token_revoke": "注销 API 令牌",
}


# How an event's detail reads: a key with a label shows "label：value"; a count shows as a phrase
# ("读取7行"); step and kind codes read as words. Keys recorded by other modules (the tax import's
# outcomes, the carry-over's counts) are listed here by value, as ACTION_LABELS are; a key with no
# label reads as itself (a new key is still shown, only not in Chinese).
DETAIL_LABELS = {
    "step": "步骤", "file": "文件", "county": "县/区", "year": "年度", "region": "地区", "run": "批次",
    "import": "批次", "page": "页面", "what": "内容", "kind": "类型", "source": "来源", "status": "状态",
    "date": "日期", "token": "令牌", "reason": "原因", "outcome": "结果", "export": "导出", "filters": "筛选条件",
    "error": "错误", "village": "村/社区", "from_year": "转出年度", "to_year": "转入年度",
}
DETAIL_COUNTS = {
    "rows_read": "读取{n}行", "rows": "{n}行", "confirmed": "确认入库{n}行", "already_confirmed": "此前已入库{n}行",
    "amount_mismatch": "金额不符{n}行", "unknown_person": "查无此人{n}行", "duplicate": "重复缴费{n}行",
    "invalid": "无效{n}行", "accepted": "成功{n}人", "failed": "失败{n}人", "crashes": "中断{n}次",
    "households": "{n}户", "persons": "{n}人", "identities": "资助身份{n}条", "created": "新建{n}条",
    "updated": "更新{n}条", "unchanged": "未改动{n}条", "already": "新年度已有{n}人",
    "deceased": "已死亡跳过{n}人", "excluded": "不在本地参保跳过{n}人", "refunded": "已退费跳过{n}人",
}
DETAIL_VALUES = {
    "upload": "上传并预检", "apply": "确认导入", "preview": "预检", "resume": "重新开始", "given_up": "多次中断后放弃",
    "seed_demo": "演示数据", "roster": "花名册", "declaration": "申报表", "declaration_answer": "税务回执",
    "tax_import_problems": "税务导入问题行", "tax_import_township_problems": "乡镇税务导入问题行", "export": "导出",
    "previewed": "已预检", "applying": "正在导入", "applied": "已导入", "failed": "失败",
    True: "是", False: "否",
}


def detail_text(detail: dict | None) -> str:
    """An event's detail in Chinese: 步骤：确认导入；文件：x.xlsx；读取7行；查无此人6行. Counts of
    zero are left out (the row count is always said)."""
    parts = []
    for key, value in (detail or {}).items():
        if key in DETAIL_COUNTS and isinstance(value, int) and not isinstance(value, bool):
            if value or key == "rows_read":
                parts.append(DETAIL_COUNTS[key].format(n=value))
            continue
        if key == "full_id":
            parts.append("含完整身份证号码" if value else "身份证号码已遮挡")
            continue
        if value in (None, "", [], {}):
            continue
        shown = DETAIL_VALUES.get(value, value) if isinstance(value, (str, bool)) else value
        if isinstance(shown, dict):
            shown = "，".join(f"{DETAIL_LABELS.get(k, k)} {v}" for k, v in shown.items())
        parts.append(f"{DETAIL_LABELS.get(key, key)}：{shown}")
    return "；".join(parts)


def action_label(action: str) -> str:
    """The Chinese label of an action code (the code itself when it has none)."""
    return ACTION_LABELS.get(action, action)


def record(*, actor, action: str, obj=None, detail: dict | None = None, region=None) -> AuditEvent:
    """``region``: where to file an event no one in a region did (a lock-out, a command); an
    actor's event is filed at the actor's county."""
    if actor is not None and getattr(actor, "region_id", None):
        region = actor.county
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        region=region,
        detail=detail or {},
    )


def record_export(*, actor, obj=None, detail: dict, full_ids: bool) -> None:
    """An export; one that wrote full ID numbers is recorded as a view of full IDs as well."""
    detail = {**detail, "full_id": full_ids}
    record(actor=actor, action=ACTION_EXPORT, obj=obj, detail=detail)
    if full_ids:
        record(actor=actor, action=ACTION_VIEW_FULL_ID, obj=obj, detail={**detail, "page": "export"})
