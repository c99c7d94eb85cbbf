from .audit import AuditEvent
from .regions import Region, RegionQuota
from .roster import Enrollment, Household, Person
from .users import CAPABILITIES, User

__all__ = ["AuditEvent", "CAPABILITIES", "Enrollment", "Household", "Person", "Region", "RegionQuota", "User"]
