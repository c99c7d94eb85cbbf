from .identities import PersonIdentity
from .policy import CategorySubsidy, PhaseTarget, PolicyYear, PrizeGrade, SubsidyCategory, Tier

__all__ = ["CategorySubsidy", "PersonIdentity", "PhaseTarget", "PolicyYear", "PrizeGrade", "SubsidyCategory", "Tier"]
