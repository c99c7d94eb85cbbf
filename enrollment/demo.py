"""Demo accounts, one per role, for `make run`. Never used outside a demo."""

from django.db.models import Count, Q

from core.choices import Department, RegionLevel, Role
from core.models import Region, User

from .choices import EnrollmentStatus

DEMO_PASSWORD = "canbao-demo-2025"

# username, role, region code (first matching level is taken when a code is None), department
DEMO_ACCOUNTS = [
    ("admin", None, None, ""),
    ("bureau_neixiang", Role.BUREAU, "411325", ""),
    ("tax_neixiang", Role.TAX, "411325", ""),
    ("leader_neixiang", Role.LEADERSHIP, "411325", ""),
    ("dept_civil_neixiang", Role.DEPARTMENT, "411325", Department.CIVIL_AFFAIRS),
    ("clerk_neixiang01", Role.TOWNSHIP, "411325101", ""),
    ("collector_neixiang01", Role.COLLECTOR, None, ""),  # a village of 411325101, see demo_village()
    ("bureau_shizhu", Role.BUREAU, "500240", ""),
    ("tax_shizhu", Role.TAX, "500240", ""),
    ("clerk_xialu", Role.TOWNSHIP, "500240001", ""),
    ("collector_hongyan", Role.COLLECTOR, "500240001001", ""),
]


# Names shown in the pages (cash tables, receipts, histories); synthetic, like the residents.
DEMO_NAMES = {
    "bureau_neixiang": "县医保局·刘敏", "tax_neixiang": "县税务局·赵强", "leader_neixiang": "县领导·孙伟",
    "dept_civil_neixiang": "县民政局·钱芳", "clerk_neixiang01": "乡镇经办员·周华", "collector_neixiang01": "协办员·王秀兰",
    "bureau_shizhu": "县医保局·陈静", "tax_shizhu": "县税务局·冉勇", "clerk_xialu": "街道经办员·谭丽",
    "collector_hongyan": "协办员·马德明",
}


def demo_village(township_code: str) -> Region | None:
    """The township's village with the most residents still to pay (so the demo collector has
    households to take cash from), else its first village."""
    villages = Region.objects.filter(parent__code=township_code, level=RegionLevel.VILLAGE)
    busiest = (
        villages.annotate(pending=Count("enrollments", filter=Q(enrollments__status=EnrollmentStatus.PENDING)))
        .filter(pending__gt=0)
        .order_by("-pending", "code")
        .first()
    )
    return busiest or villages.order_by("code").first()


def ensure_demo_accounts():
    rows = []
    for username, role, code, department in DEMO_ACCOUNTS:
        user = User.objects.filter(username=username).select_related("region__parent").first()
        if role is None:
            region = None
        elif code is None:
            # Keep the village once chosen: the demo collector's receipts are there.
            kept = user.region if user and user.region and user.region.parent.code == "411325101" else None
            region = kept or demo_village("411325101")
        else:
            region = Region.objects.filter(code=code).first()
        if role is not None and region is None:
            continue
        user = user or User(username=username)
        user.role = role or ""
        user.region = region
        user.department = department
        user.is_superuser = user.is_staff = role is None
        user.first_name = DEMO_NAMES.get(username, username)
        user.set_password(DEMO_PASSWORD)
        user.save()
        rows.append(
            {
                "username": username,
                "password": DEMO_PASSWORD,
                "role": user.get_role_display() if role else "系统管理员",
                "region": region.full_name if region else "全部",
            }
        )
    return rows
