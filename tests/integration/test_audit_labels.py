"""core.audit: every action code recorded anywhere has a Chinese label."""

from collections_app.tax_import.services import AUDIT_ACTION as TAX_IMPORT
from config.tokens import ACTION_TOKEN_CREATE, ACTION_TOKEN_REVOKE
from core import audit


def test_every_recorded_action_has_a_label():
    codes = {audit.ACTION_VIEW_FULL_ID, audit.ACTION_EXPORT, audit.ACTION_IMPORT, audit.ACTION_CARRY_OVER,
             TAX_IMPORT, ACTION_TOKEN_CREATE, ACTION_TOKEN_REVOKE}
    assert codes <= set(audit.ACTION_LABELS)
    assert all(audit.action_label(c) != c for c in codes)


def test_an_unknown_code_reads_as_itself():
    assert audit.action_label("something_new") == "something_new"


def test_a_tax_import_apply_detail_reads_in_chinese():
    from collections_app.tax_import.run import COUNT_KEYS

    detail = {"step": "apply", "file": "缴费明细.xlsx", "rows_read": 7, **{k: 0 for k in COUNT_KEYS}, "unknown_person": 6, "confirmed": 1}
    text = audit.detail_text(detail)
    assert text == "步骤：确认导入；文件：缴费明细.xlsx；读取7行；确认入库1行；查无此人6行"
    assert "=" not in text and "rows_read" not in text


def test_every_count_the_imports_record_has_a_label():
    from collections_app.tax_import.run import COUNT_KEYS
    from enrollment.rules import CARRY_LABELS

    assert set(COUNT_KEYS) | set(CARRY_LABELS) | {"rows_read"} <= set(audit.DETAIL_COUNTS)
    assert audit.detail_text({"step": "upload", "county": "411325"}) == "步骤：上传并预检；县/区：411325"
    assert audit.detail_text({"what": "roster", "full_id": False}) == "内容：花名册；身份证号码已遮挡"
