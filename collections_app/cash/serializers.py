"""The cash trail's API bodies: receipts, daily ledgers, remittances."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import DisclosedIdField

from ..choices import RECEIPT_CHANNELS
from ..models import DailyLedger, Receipt, ReceiptLine, Remittance
from .selectors import ledger_day, ledger_previous, remittance_now
from .services import remittance_warnings


class ReceiptLineSerializer(serializers.ModelSerializer):
    id_number = DisclosedIdField(read_only=True)

    class Meta:
        model = ReceiptLine
        fields = ["person", "enrollment", "name", "id_number", "tier", "standard", "subsidy", "amount", "subsidy_category_code"]


class ReceiptSerializer(serializers.ModelSerializer):
    lines = ReceiptLineSerializer(many=True, read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    collector_name = serializers.CharField(source="collector.display_name", read_only=True)

    class Meta:
        model = Receipt
        fields = [
            "id", "number", "year", "village", "village_name", "household", "collector", "collector_name", "payer_name",
            "channel", "total", "issued_at", "issued_on", "status", "voided_at", "voided_by", "void_reason",
            "remittance", "lines",
        ]
        read_only_fields = fields


class ReceiptCreateSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    persons = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    channel = serializers.ChoiceField(choices=RECEIPT_CHANNELS)
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    tiers = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=9), required=False)
    payer_name = serializers.CharField(required=False, allow_blank=True, max_length=50)


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class LedgerConfirmationSerializer(serializers.Serializer):
    """One earlier confirmation of a day, replaced by a later one (kept in the ledger's history)."""

    confirmed_at = serializers.DateTimeField()
    receipt_count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    cash_on_hand = serializers.DecimalField(max_digits=14, decimal_places=2)
    cash_counted = serializers.DecimalField(max_digits=14, decimal_places=2)
    note = serializers.CharField()


class LedgerSerializer(serializers.ModelSerializer):
    flags = serializers.SerializerMethodField()
    previous = serializers.SerializerMethodField()
    difference = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, help_text="实点现金减应有现金")

    class Meta:
        model = DailyLedger
        fields = ["id", "collector", "region", "day", "receipt_count", "total", "by_channel", "cash_on_hand", "cash_counted", "difference", "note", "confirmed_at", "flags", "previous"]
        read_only_fields = fields

    def get_flags(self, obj) -> list[str]:
        return ledger_day(collector=obj.collector, day=obj.day)["flags"]

    @extend_schema_field(LedgerConfirmationSerializer(many=True))
    def get_previous(self, obj) -> list[dict]:
        return LedgerConfirmationSerializer(ledger_previous(obj), many=True).data


class LedgerConfirmSerializer(serializers.Serializer):
    day = serializers.DateField()
    cash_counted = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class LedgerDayQuerySerializer(serializers.Serializer):
    day = serializers.DateField(required=False)


class LedgerDayReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    channel = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.CharField()


class LedgerDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()
    voided = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    by_channel = serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2))
    cash_on_hand = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="应有现金；确认前为空（盲点：先点数，后对账）"
    )
    confirmed = serializers.BooleanField()
    previous = LedgerConfirmationSerializer(many=True)
    flags = serializers.ListField(child=serializers.CharField())
    receipts = LedgerDayReceiptSerializer(many=True)


class RemittanceSerializer(serializers.ModelSerializer):
    """A remittance of ``selectors.remittance_list``: ``covered`` as recorded, ``valid_covered``
    and ``difference`` as its receipts stand now, ``changed`` when they changed since it was recorded."""

    receipts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    valid_covered = serializers.SerializerMethodField(help_text="现所含有效凭证金额")
    difference = serializers.SerializerMethodField(help_text="解缴金额减现有效凭证金额")
    changed = serializers.SerializerMethodField(help_text="报解登记后所含凭证有变动")
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = Remittance
        fields = [
            "id", "collector", "region", "deposited_on", "amount", "slip_number", "covered", "valid_covered", "difference",
            "changed", "warnings", "note", "receipts", "created_by", "created_at",
        ]
        read_only_fields = fields

    def _now(self, obj) -> dict:
        if not hasattr(obj, "_now"):
            obj._now = remittance_now(obj)
        return obj._now

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_valid_covered(self, obj) -> str:
        return str(self._now(obj)["valid"])

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_difference(self, obj) -> str:
        return str(self._now(obj)["difference"])

    def get_changed(self, obj) -> bool:
        return bool(self._now(obj)["change"])

    def get_warnings(self, obj) -> list[str]:
        now = self._now(obj)
        return remittance_warnings(obj.amount, now["valid"]) + ([now["change"]] if now["change"] else [])


class RemittanceCreateSerializer(serializers.Serializer):
    collector = serializers.IntegerField(required=False, help_text="默认为本人")
    deposited_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    slip_number = serializers.CharField(max_length=50)
    receipts = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)
