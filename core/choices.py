"""Choices every package shares: levels of region, roles, departments and the statuses of an import."""

from django.db import models


class RegionLevel(models.TextChoices):
    COUNTY = "county", "县/区"
    TOWNSHIP = "township", "乡镇/街道"
    VILLAGE = "village", "村/社区"


class Role(models.TextChoices):
    BUREAU = "bureau", "医保局工作人员"
    TAX = "tax", "税务局工作人员"
    TOWNSHIP = "township", "乡镇经办员"
    COLLECTOR = "collector", "村级协办员"
    DEPARTMENT = "department", "部门工作人员"
    LEADERSHIP = "leadership", "领导（只读）"


# The level of region each role is bound to.
ROLE_LEVELS = {
    Role.BUREAU: {RegionLevel.COUNTY},
    Role.TAX: {RegionLevel.COUNTY},
    Role.DEPARTMENT: {RegionLevel.COUNTY},
    Role.LEADERSHIP: {RegionLevel.COUNTY, RegionLevel.TOWNSHIP},
    Role.TOWNSHIP: {RegionLevel.TOWNSHIP},
    Role.COLLECTOR: {RegionLevel.VILLAGE},
}


class Department(models.TextChoices):
    CIVIL_AFFAIRS = "civil_affairs", "民政局"
    RURAL = "rural", "乡村振兴/农业农村局"
    DISABLED = "disabled", "残联"
    HEALTH = "health", "卫生健康委"
    VETERANS = "veterans", "退役军人事务局"
    EDUCATION = "education", "教体局"
    OTHER = "other", "其他"


class ImportStatus(models.TextChoices):
    """Every import's statuses — the flow's runs and the tax office's files alike."""

    UPLOADED = "uploaded", "已上传"
    PREVIEWING = "previewing", "正在预检"
    PREVIEWED = "previewed", "待确认"
    APPLYING = "applying", "正在导入"
    APPLIED = "applied", "已导入"
    REFUSED = "refused", "有错误，未导入"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已放弃"


# Queued or running (a worker is meant to be on it): the statuses an interruption applies to.
RUNNING_IMPORT_STATUSES = (ImportStatus.UPLOADED, ImportStatus.PREVIEWING, ImportStatus.APPLYING)
