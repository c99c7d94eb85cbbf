from .declarations import Declaration, DeclarationLine
from .ledgers import DailyLedger
from .publicity import PublicityPosting
from .receipts import Receipt, ReceiptCounter, ReceiptLine
from .refunds import Refund
from .remittances import DoubleLimitBreach, Remittance
from .tax_imports import RowOutcome, TaxImport, TaxImportRow  # noqa: E402  (tax-office import)

__all__ = [
    "DailyLedger", "Declaration", "DeclarationLine", "DoubleLimitBreach", "PublicityPosting", "Receipt", "ReceiptCounter",
    "ReceiptLine", "Refund", "Remittance", "RowOutcome", "TaxImport", "TaxImportRow",
]
