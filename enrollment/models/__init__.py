from .audit import AuditEvent
from .regions import Region, RegionQuota
from .roster import Enrollment, Household, HouseholdNotice, Person, TransferRequest, TransferStatus
from .users import CAPABILITIES, User

__all__ = ["AuditEvent", "CAPABILITIES", "Enrollment", "Household", "HouseholdNotice", "Person", "TransferRequest", "TransferStatus", "Region", "RegionQuota", "User"]
