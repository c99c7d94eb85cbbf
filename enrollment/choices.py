from django.db import models


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Relation(models.TextChoices):
    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    GRANDCHILD = "grandchild", "孙子女"
    GRANDPARENT = "grandparent", "祖父母"
    SIBLING = "sibling", "兄弟姐妹"
    CHILD_IN_LAW = "child_in_law", "儿媳/女婿"
    OTHER = "other", "其他"


class EnrollmentStatus(models.TextChoices):
    PENDING = "pending", "待缴费"
    PAID = "paid", "已收款"
    DECLARED = "declared", "已申报"
    CONFIRMED = "confirmed", "已入库"
    REFUNDED = "refunded", "已退费"
    EXCLUDED = "excluded", "不在本地参保"


# Statuses in which money has been taken for the year.
PAID_STATUSES = (EnrollmentStatus.PAID, EnrollmentStatus.DECLARED, EnrollmentStatus.CONFIRMED)


class ExclusionReason(models.TextChoices):
    EMPLOYEE_INSURANCE = "employee", "参加职工医保"
    ENROLLED_ELSEWHERE = "elsewhere", "在外地参保"
    STUDENT_AT_SCHOOL = "student_school", "大学生在校参保"
    MILITARY = "military", "现役军人"
    PRISON = "prison", "服刑人员"
    DECEASED = "deceased", "已死亡"
    REFUSED = "refused", "拒绝参保（注明原因）"
    OTHER = "other", "其他（注明原因）"


# Exclusion reasons under which a person is not missing from the scheme: insured under another
# scheme or area, or out of the should-enrol base (military, prison, deceased). A refusal or an
# "other" note leaves a special-group member still to be enrolled (they must reach 100 %).
NOT_MISSING_REASONS = (
    ExclusionReason.EMPLOYEE_INSURANCE,
    ExclusionReason.ENROLLED_ELSEWHERE,
    ExclusionReason.STUDENT_AT_SCHOOL,
    ExclusionReason.MILITARY,
    ExclusionReason.PRISON,
    ExclusionReason.DECEASED,
)

# Reasons that need a free-text note.
REASONS_NEEDING_NOTE = (ExclusionReason.REFUSED, ExclusionReason.OTHER)


class PaymentChannel(models.TextChoices):
    CASH = "cash", "现金"
    POS = "pos", "POS机刷卡"
    ONLINE_PROXY = "online_proxy", "线上代缴"
    FAMILY_ACCOUNT = "family_account", "家庭共济账户"
    SELF_ONLINE = "self_online", "个人线上自缴"
