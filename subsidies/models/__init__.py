from .calendar import CalendarDay
from .policy import CategorySubsidy, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory, Tier

__all__ = ["CalendarDay", "CategorySubsidy", "PhaseTarget", "PolicyYear", "PrizeGrade", "SubsidyCategory", "Tier"]
