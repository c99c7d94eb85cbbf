from .policy import CategorySubsidy, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory, Tier

__all__ = ["CategorySubsidy", "PhaseTarget", "PolicyYear", "PrizeGrade", "SubsidyCategory", "Tier"]
