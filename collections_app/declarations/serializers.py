"""Declarations' API bodies: the form and its lines, the tax office's answer, reconciliation."""

from rest_framework import serializers

from core import disclosure
from core.api.fields import DisclosedIdField

from ..models import Declaration, DeclarationLine


class DeclarationLineSerializer(serializers.ModelSerializer):
    id_number = DisclosedIdField(full_ids=disclosure.DECLARATION_ID_FULL, read_only=True)

    class Meta:
        model = DeclarationLine
        fields = ["id", "enrollment", "village", "name", "id_number", "tier", "amount", "subsidy_category_code", "result", "fail_reason"]


class DeclarationSerializer(serializers.ModelSerializer):
    lines = DeclarationLineSerializer(many=True, read_only=True)

    class Meta:
        model = Declaration
        fields = ["id", "township", "village", "year", "status", "person_count", "zero_count", "total", "accepted_count", "failed_count", "confirmed_total", "created_by", "created_at", "answered_at", "lines"]
        read_only_fields = fields


class DeclarationPreviewQuerySerializer(serializers.Serializer):
    region = serializers.IntegerField(help_text="村/社区或乡镇/街道")
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class DeclarationCreateSerializer(DeclarationPreviewQuerySerializer):
    expect = serializers.CharField(required=False, allow_blank=True, max_length=128,
                                   help_text="preview 返回的 fingerprint：名单在预览后有变动则拒绝生成")


class DeclarationPreviewLineSerializer(serializers.Serializer):
    village = serializers.CharField()
    name = serializers.CharField()
    id_number = DisclosedIdField(full_ids=disclosure.DECLARATION_ID_FULL, help_text="按申报表的规则显示（完整或脱敏）")
    tier = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    zero = serializers.BooleanField(help_text="零申报")


class DeclarationPreviewSerializer(serializers.Serializer):
    region = serializers.IntegerField()
    year = serializers.IntegerField()
    person_count = serializers.IntegerField()
    zero_count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    fingerprint = serializers.CharField()
    first = DeclarationPreviewLineSerializer(many=True)


class AnswerUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class AnswerResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    failed = serializers.IntegerField()
    declaration = DeclarationSerializer()


class ReconciliationQuerySerializer(serializers.Serializer):
    region = serializers.IntegerField()
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)


class ReconciliationRowSerializer(serializers.Serializer):
    village = serializers.IntegerField(source="village.pk")
    village_name = serializers.CharField(source="village.name")
    receipts = serializers.DecimalField(max_digits=14, decimal_places=2)
    receipt_count = serializers.IntegerField()
    voided = serializers.IntegerField()
    ledger = serializers.DecimalField(max_digits=14, decimal_places=2)
    cash = serializers.DecimalField(max_digits=14, decimal_places=2)
    remitted = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="解缴实存金额（银行回单）")
    unremitted = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="未报解的有效现金凭证")
    declared = serializers.DecimalField(max_digits=14, decimal_places=2)
    declared_n = serializers.IntegerField()
    confirmed = serializers.DecimalField(max_digits=14, decimal_places=2)
    confirmed_n = serializers.IntegerField()
    in_treasury = serializers.IntegerField()
    agrees = serializers.BooleanField()


class DifferenceSerializer(serializers.Serializer):
    village = serializers.CharField()
    kind = serializers.CharField()
    text = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class CollectorRemittanceSerializer(serializers.Serializer):
    collector = serializers.IntegerField(source="collector_id")
    collector_name = serializers.CharField(source="collector")
    cash = serializers.DecimalField(max_digits=14, decimal_places=2)
    unremitted = serializers.DecimalField(max_digits=14, decimal_places=2)
    deposited = serializers.DecimalField(max_digits=14, decimal_places=2)
    covered = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="所含有效凭证金额")
    gap = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="负数为少解，正数为多解")
    agrees = serializers.BooleanField()


class ReconciliationSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    rows = ReconciliationRowSerializer(many=True)
    collectors = CollectorRemittanceSerializer(many=True)
    differences = DifferenceSerializer(many=True)
