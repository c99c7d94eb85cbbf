"""Roster API shapes. Writes go through the same services (and so the same rules) as the pages."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import BirthYearField, DisclosedBirthDateField, DisclosedIdField
from core.models import Region
from subsidies.choices import CoverGroup

from ..choices import EnrollmentStatus, ExclusionReason, Relation, Sex
from ..models import Enrollment, Household, Person, PersonIdentity
from ..selectors import household_members, household_split
from ..services import ALLOWED_TIERS, PARTICIPATION_CHOICES, MemberInput

PARTICIPATION_HELP = "参保：enrol；不参保：原因代码（" + "、".join(f"{c.value}={c.label}" for c in ExclusionReason) + "）；空：未确定"


class OwedSerializer(serializers.Serializer):
    standard = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    subsidy = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    self_pay = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    category = serializers.CharField()
    missing = serializers.CharField(help_text="无法计算的原因，如“尚未设置政策”")


class MemberWriteSerializer(serializers.Serializer):
    """One member row when creating or updating a household."""

    id = serializers.IntegerField(required=False, help_text="已有成员的 id；新成员不填")
    delete = serializers.BooleanField(required=False, default=False, help_text="为 true 时从本户删除此成员")
    name = serializers.CharField(max_length=50, required=False, default="")
    id_number = serializers.CharField(max_length=40, required=False, default="")
    relation = serializers.ChoiceField(choices=Relation.choices, required=False, default=Relation.OTHER)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    hukou_place = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    is_student = serializers.BooleanField(required=False, default=False)
    is_deceased = serializers.BooleanField(required=False, default=False)
    deceased_on = serializers.DateField(required=False, allow_null=True, default=None)
    deceased_source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    cover_group = serializers.ChoiceField(choices=CoverGroup.choices, required=False, allow_blank=True, default="",
                                          help_text="特殊参保人群（按缴费之日或进入机构之日起享受待遇的人群）；空=无")
    cover_group_since = serializers.DateField(required=False, allow_null=True, default=None, help_text="儿童福利机构接收的儿童：进入机构日期")
    participation = serializers.ChoiceField(
        choices=PARTICIPATION_CHOICES, required=False, allow_blank=True, allow_null=True, default=None, help_text=PARTICIPATION_HELP
    )
    reason_note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    tier = serializers.ChoiceField(choices=[(t, str(t)) for t in ALLOWED_TIERS], required=False, default=1)


class GuardianSerializer(serializers.Serializer):
    guardian = serializers.IntegerField(help_text="本户已缴费的成年成员的 id")


class MemberReadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    id_number = DisclosedIdField(full_ids=None, help_text="脱敏；完整号码用 POST /api/persons/{id}/reveal/")
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_date = DisclosedBirthDateField()
    birth_year = BirthYearField(source="birth_date")
    relation = serializers.ChoiceField(choices=Relation.choices)
    phone = serializers.CharField()
    is_student = serializers.BooleanField()
    is_deceased = serializers.BooleanField()
    cover_group = serializers.CharField(allow_blank=True)
    cover_group_since = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=EnrollmentStatus.choices, allow_null=True, help_text="本年度状态；空=缺口")
    exclusion_reason = serializers.CharField(allow_blank=True)
    tier = serializers.IntegerField(allow_null=True)
    owed = OwedSerializer(allow_null=True)


def member_read(row) -> dict:
    p, e = row.person, row.enrollment
    owed = None
    if row.owed is not None:
        o = row.owed
        owed = {"standard": o.standard, "subsidy": o.subsidy, "self_pay": o.self_pay, "category": o.category, "missing": o.missing}
    return {
        "id": p.pk, "name": p.name, "id_number": p.id_number, "sex": p.sex, "birth_date": p.birth_date,
        "relation": p.relation, "phone": p.phone, "is_student": p.is_student, "is_deceased": p.is_deceased,
        "cover_group": p.cover_group, "cover_group_since": p.cover_group_since,
        "status": e.status if e else None, "exclusion_reason": e.exclusion_reason if e else "",
        "tier": e.tier if e else None, "owed": owed,
    }


class HouseholdSerializer(serializers.ModelSerializer):
    village = serializers.PrimaryKeyRelatedField(queryset=Region.objects.none())
    village_name = serializers.CharField(source="village.full_name", read_only=True)
    members = MemberWriteSerializer(many=True, write_only=True, required=False)
    member_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Household
        fields = ["id", "village", "village_name", "number", "address", "member_count", "members"]
        # Uniqueness (village, number) is checked by the service with a Chinese message.
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["village"].queryset = Region.objects.visible_to(request.user).filter(level="village")

    def member_inputs(self, household=None) -> list[MemberInput]:
        own = {p.pk: p for p in household.members.all()} if household is not None else {}
        inputs = []
        for i, data in enumerate(self.validated_data.get("members", [])):
            pid = data.get("id")
            person = None
            if pid is not None:
                person = own.get(pid)
                if person is None:
                    raise serializers.ValidationError({"members": {str(i): {"id": ["本户没有这个成员。"]}}})
            if data.get("delete"):
                inputs.append(MemberInput(person=person, delete=True))
                continue
            values = dict(data)
            values["tier"] = int(values.get("tier") or 1)
            if person is not None:
                # Fields not sent keep their current values.
                for key in ("name", "id_number", "relation", "phone", "hukou_place", "is_student", "is_deceased",
                            "deceased_on", "deceased_source", "cover_group", "cover_group_since"):
                    if key not in self.initial_data["members"][i]:
                        values[key] = getattr(person, key)
            inputs.append(MemberInput.from_dict(values, person=person))
        return inputs


class HouseholdDetailSerializer(HouseholdSerializer):
    year = serializers.SerializerMethodField()
    split = serializers.SerializerMethodField(help_text="整户参保提醒：部分应参保成员已缴费、部分未缴")
    member_rows = serializers.SerializerMethodField()

    class Meta(HouseholdSerializer.Meta):
        fields = HouseholdSerializer.Meta.fields + ["year", "split", "member_rows"]

    def get_year(self, obj) -> int:
        return self.context["year"]

    def get_split(self, obj) -> bool:
        return household_split(self._rows(obj))

    @extend_schema_field(MemberReadSerializer(many=True))
    def get_member_rows(self, obj):
        return MemberReadSerializer([member_read(r) for r in self._rows(obj)], many=True, context=self.context).data

    def _rows(self, obj):
        cache = self.context.setdefault("_rows", {})
        if obj.pk not in cache:
            cache[obj.pk] = household_members(obj, year=self.context["year"])
        return cache[obj.pk]


class PersonSerializer(serializers.ModelSerializer):
    id_number = DisclosedIdField(full_ids=None, max_length=40, help_text="读取时脱敏；修改时填写完整的18位号码")
    birth_date = DisclosedBirthDateField()
    birth_year = BirthYearField(source="birth_date")
    household_number = serializers.CharField(source="household.number", read_only=True)
    village = serializers.IntegerField(source="household.village_id", read_only=True)
    status = serializers.SerializerMethodField(help_text="本年度状态；空=缺口")

    class Meta:
        model = Person
        fields = [
            "id", "household", "household_number", "village", "name", "id_number", "sex", "birth_date", "birth_year", "relation",
            "phone", "hukou_place", "is_student", "is_deceased", "deceased_on", "deceased_source", "cover_group",
            "cover_group_since", "guardian", "status",
        ]
        read_only_fields = ["household", "sex", "guardian"]
        validators = []
        extra_kwargs = {"id_number": {"validators": []}}

    def get_status(self, obj) -> str | None:
        return getattr(obj, "year_status", None)


class RevealSerializer(serializers.Serializer):
    id_number = serializers.CharField(read_only=True)


class EnrollmentSerializer(serializers.ModelSerializer):
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.none())
    participation = serializers.ChoiceField(
        choices=PARTICIPATION_CHOICES, write_only=True, allow_blank=False, help_text=PARTICIPATION_HELP
    )
    person_name = serializers.CharField(source="person.name", read_only=True)

    class Meta:
        model = Enrollment
        fields = [
            "id", "person", "person_name", "year", "village", "tier", "status", "exclusion_reason", "reason_note",
            "participation", "standard", "subsidy", "amount_due", "paid_on", "declared_on", "confirmed_on",
            "benefit_start", "refunded_on",
        ]
        read_only_fields = [
            "village", "status", "exclusion_reason", "standard", "subsidy", "amount_due", "paid_on", "declared_on",
            "confirmed_on", "benefit_start", "refunded_on",
        ]
        validators = []
        extra_kwargs = {"year": {"min_value": 2000, "max_value": 2100}, "tier": {"min_value": 1, "max_value": 2}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["person"].queryset = Person.objects.visible_to(request.user)


class CarryOverSerializer(serializers.Serializer):
    village = serializers.PrimaryKeyRelatedField(queryset=Region.objects.none())
    to_year = serializers.IntegerField(min_value=2001, max_value=2100)
    from_year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["village"].queryset = Region.objects.visible_to(request.user).filter(level="village")


class CarryOverReportSerializer(serializers.Serializer):
    village = serializers.CharField()
    from_year = serializers.IntegerField()
    to_year = serializers.IntegerField()
    created = serializers.IntegerField()
    already = serializers.IntegerField()
    deceased = serializers.IntegerField()
    excluded = serializers.IntegerField()
    refunded = serializers.IntegerField()
    summary = serializers.CharField()


class NoticeSerializer(serializers.Serializer):
    """Whether an unpaid household's notice receipt (告知书回执) and pledge letter (承诺书) are in."""

    notice_receipt = serializers.BooleanField()
    pledge_letter = serializers.BooleanField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TransferRequestSerializer(serializers.Serializer):
    """Ask for a resident registered elsewhere to be moved into this household."""

    id_number = serializers.CharField(max_length=40, write_only=True)
    relation = serializers.ChoiceField(choices=[c for c in Relation.choices if c[0] != Relation.HEAD], default=Relation.OTHER)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    id = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True)
    from_place = serializers.CharField(read_only=True, source="from_household.village.full_name")


class PersonIdentitySerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    # Masked for everyone: full numbers are shown only on audited pages.
    id_number = DisclosedIdField(full_ids=None, source="person.id_number", read_only=True)
    category_code = serializers.CharField(source="category.code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)

    class Meta:
        model = PersonIdentity
        fields = ["id", "person", "person_name", "id_number", "category", "category_code", "category_name", "year", "certified_on", "source_list", "created_at"]
