"""Regions, users, audit events and import runs.

Their Django app label stays ``enrollment`` (tables ``enrollment_region``, ``enrollment_user``…,
``AUTH_USER_MODEL = "enrollment.User"``): the classes moved, the database did not.
"""

from .audit import AuditEvent
from .imports import ImportRun
from .regions import Region, RegionQuota
from .users import CAPABILITIES, User

__all__ = ["AuditEvent", "ImportRun", "CAPABILITIES", "Region", "RegionQuota", "User"]
