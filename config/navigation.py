"""The navigation each role sees, in one place. Entries whose URL name is not (yet)
registered are left out, so the menu never links to a page that does not exist."""

from django.urls import NoReverseMatch, reverse

from core.choices import Role

B, T, W, C, D, L = Role.BUREAU, Role.TAX, Role.TOWNSHIP, Role.COLLECTOR, Role.DEPARTMENT, Role.LEADERSHIP

# (label, url name, roles, help shown on the landing page)
MENU = [
    ("首页", "home", {B, T, W, C, D, L}, ""),
    ("进度看板", "reporting:dashboard", {B, T, W, C, L}, "参保进度、排名与预警"),
    ("花名册", "enrollment:roster", {B, W, C, L}, "按户登记、查找参保人与未参保原因"),
    ("收款开票", "collections:receipt_list", {W, C}, "收取保费、开具收款凭证"),
    ("现金台账", "collections:ledger", {W, C}, "每日核对台账与凭证"),
    ("报解", "collections:remittance_list", {W, C}, "双限报解：现金按期限、限额及时解缴"),
    ("申报与对账", "collections:declaration_list", {W, T, B}, "申报表、税务回执、钱票册对账"),
    ("公示", "collections:publicity_list", {W, C}, "已缴费人员公示"),
    ("退费", "collections:refund_list", {B, T, W, C}, "退费申请、审批与支付"),
    ("税务数据导入", "collections:taximport_list", {T, B}, "导入缴费/入库明细"),
    ("税务导入问题", "collections:taximport_township", {W, B, T}, "税务导入中本乡镇的问题行（查无此人、金额不符等）；县里看未归属乡镇的"),
    ("报表", "reporting:report_list", {B, T, W, C, L}, "日报、周排名与考核"),
    ("资助身份", "enrollment:identity_list", {B, D}, "部门认定名单导入"),
    ("征缴政策", "subsidies:policy_list", {B, T, L}, "缴费标准、资助类别与时间安排"),
    ("审计记录", "enrollment:audit_list", {B}, "谁在何时做了什么"),
    ("缴费计算器", "subsidies:quote_page", {B, T, W, C, D, L}, "个人应缴多少、何时享受待遇"),
    ("API 文档", "api-docs", {B, T}, ""),
]


def _resolve(name):
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def menu_for(user):
    if not user.is_authenticated:
        return []
    items = []
    for label, name, roles, help_text in MENU:
        if user.is_superuser or user.role in roles:
            url = _resolve(name)
            if url:
                items.append({"label": label, "url": url, "name": name, "help": help_text})
    return items


def landing_for(user):
    return [item for item in menu_for(user) if item["name"] != "home"]
