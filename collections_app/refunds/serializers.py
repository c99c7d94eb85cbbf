"""Refunds' API bodies: an application, a decision, a payment."""

from rest_framework import serializers

from subsidies.choices import RefundReason

from ..models import Refund


class RefundSerializer(serializers.ModelSerializer):
    person_name = serializers.CharField(source="enrollment.person.name", read_only=True)
    year = serializers.IntegerField(source="enrollment.year", read_only=True)

    class Meta:
        model = Refund
        fields = ["id", "enrollment", "person_name", "year", "village", "reason", "amount", "status", "note", "source", "applied_by", "applied_at", "decided_by", "decided_at", "decision_note", "paid_by", "paid_on", "paid_voucher", "created_at"]
        read_only_fields = fields


class RefundCreateSerializer(serializers.Serializer):
    enrollment = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=RefundReason.choices)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    evidence = serializers.FileField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class RefundDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class RefundPaidSerializer(serializers.Serializer):
    paid_on = serializers.DateField()
    voucher = serializers.CharField(max_length=50)
