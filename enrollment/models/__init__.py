from .identities import PersonIdentity
from .roster import Enrollment, Household, HouseholdNotice, Person, TransferRequest, TransferStatus

__all__ = ["Enrollment", "Household", "HouseholdNotice", "Person", "PersonIdentity", "TransferRequest", "TransferStatus"]
