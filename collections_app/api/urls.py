"""/api/: each part's routes, from its own api module, in one list (included by config/urls.py)."""

from ..cash import api as cash_api
from ..declarations import api as declarations_api
from ..refunds import api as refunds_api
from ..tax_import import api as tax_import_api

urlpatterns = [
    *cash_api.urlpatterns,  # receipts/, ledgers/, remittances/
    *declarations_api.urlpatterns,  # declarations/
    *refunds_api.urlpatterns,  # refunds/
    *tax_import_api.urlpatterns,  # imports/
]
