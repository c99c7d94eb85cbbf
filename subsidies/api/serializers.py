from rest_framework import serializers

from ..choices import CoverGroup
from ..models import CategorySubsidy, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory, Tier

ERR_YEAR_RANGE = "年度应在2000–2100之间。"


class QuoteQuerySerializer(serializers.Serializer):
    county = serializers.CharField(max_length=12, help_text="县/区编码，如 500240")
    year = serializers.IntegerField(min_value=2000, max_value=2100, help_text="待遇年度")
    tier = serializers.IntegerField(min_value=1, max_value=9, default=1)
    categories = serializers.CharField(required=False, allow_blank=True, default="", help_text="资助类别编码或名称，逗号分隔")
    student = serializers.BooleanField(required=False, default=False, help_text="在校大学生标准")
    paid_on = serializers.DateField(required=False, allow_null=True, default=None)
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    registered_on = serializers.DateField(required=False, allow_null=True, default=None)
    break_years = serializers.IntegerField(required=False, min_value=0, max_value=100, default=0)
    backpaid_years = serializers.IntegerField(required=False, min_value=0, max_value=100, default=0)
    parent_insured = serializers.BooleanField(required=False, default=False)
    cover_group = serializers.ChoiceField(
        choices=CoverGroup.choices, required=False, allow_blank=True, default="",
        help_text="特殊参保人群（部分县自缴费之日或进入福利机构之日起享受）",
    )
    cover_group_since = serializers.DateField(required=False, allow_null=True, default=None, help_text="进入儿童福利机构之日")
    continuous_years = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100, default=None, help_text="本年度之前已连续参保年数（计算大病保险激励）"
    )
    zero_claim_last_year = serializers.BooleanField(required=False, default=False, help_text="上年度医保基金零报销")

    def category_list(self):
        raw = self.validated_data.get("categories") or ""
        return [p for p in raw.replace("，", ",").split(",") if p.strip()]


class QuoteCategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class QuoteSerializer(serializers.Serializer):
    county = serializers.CharField()
    county_name = serializers.CharField()
    year = serializers.IntegerField()
    tier = serializers.IntegerField()
    standard = serializers.DecimalField(max_digits=12, decimal_places=2)
    subsidy = serializers.DecimalField(max_digits=12, decimal_places=2)
    self_pay = serializers.DecimalField(max_digits=12, decimal_places=2)
    category = QuoteCategorySerializer(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())
    birth_year = serializers.IntegerField(required=False, help_text="新生儿出生当年（可补缴或须同时缴纳时）")
    birth_year_must_pay = serializers.BooleanField(required=False, help_text="出生当年须同时缴纳（否则为可补缴）")
    birth_year_self_pay = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    incentive_raise = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, help_text="本年度缴费后大病保险最高支付限额提高（元）"
    )
    benefit_start = serializers.DateField(allow_null=True, required=False)
    benefit_reason = serializers.CharField(allow_blank=True, required=False)
    waiting_months = serializers.IntegerField(required=False)


class QuoteErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class CategoryAmountSerializer(serializers.ModelSerializer):
    class Meta:
        model = CategorySubsidy
        fields = ["tier", "amount", "percent"]


class SubsidyCategorySerializer(serializers.ModelSerializer):
    amounts = CategoryAmountSerializer(many=True, read_only=True)
    county = serializers.CharField(source="policy.county.code", read_only=True)
    year = serializers.IntegerField(source="policy.year", read_only=True)

    class Meta:
        model = SubsidyCategory
        fields = [
            "id", "county", "year", "code", "name", "department", "department_label",
            "applies_to_all", "is_low_income", "is_special_group", "sort_order", "amounts",
        ]


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tier
        fields = ["number", "name", "standard", "student_standard"]


class PhaseTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = PhaseTarget
        fields = ["name", "due", "rate"]


class PrizeGradeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PrizeGrade
        fields = ["rank", "name", "count", "amount"]


class PolicyYearSerializer(serializers.ModelSerializer):
    county_code = serializers.CharField(source="county.code", read_only=True)
    county_name = serializers.CharField(source="county.name", read_only=True)
    tiers = TierSerializer(many=True, read_only=True)
    categories = SubsidyCategorySerializer(many=True, read_only=True)
    phase_targets = PhaseTargetSerializer(many=True, read_only=True)
    prize_grades = PrizeGradeSerializer(many=True, read_only=True)

    class Meta:
        model = PolicyYear
        exclude = ["county"]


class PublicCategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    applies_to_all = serializers.BooleanField()


class PublicPolicySerializer(serializers.Serializer):
    county = serializers.CharField(source="county.code")
    county_name = serializers.CharField(source="county.name")
    year = serializers.IntegerField()
    tiers = TierSerializer(many=True)
    categories = PublicCategorySerializer(many=True)
