from django.db import models

from enrollment.choices import PaymentChannel

# What a collector may record on a receipt (a resident's own online payment is learnt from the tax office).
RECEIPT_CHANNELS = [(c.value, c.label) for c in PaymentChannel if c != PaymentChannel.SELF_ONLINE]
# Channels whose money the collector holds and must remit (双限报解). POS and online proxy
# payments go straight to the tax account; the family mutual-aid account is debited directly.
CASH_CHANNELS = (PaymentChannel.CASH,)


class ReceiptStatus(models.TextChoices):
    VALID = "valid", "有效"
    VOIDED = "voided", "已作废"


class LineResult(models.TextChoices):
    PENDING = "pending", "待回执"
    ACCEPTED = "accepted", "导入成功"
    FAILED = "failed", "导入失败"


class DeclarationStatus(models.TextChoices):
    SENT = "sent", "已申报"
    ANSWERED = "answered", "已回执"


class RefundStatus(models.TextChoices):
    CANDIDATE = "candidate", "待核实（系统提出的候选）"
    APPLIED = "applied", "已申请"
    APPROVED = "approved", "已审批"
    REJECTED = "rejected", "不予退费"
    PAID = "paid", "已退付"
