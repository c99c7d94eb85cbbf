from django.apps import AppConfig


class CollectionsAppConfig(AppConfig):
    name = "collections_app"
    verbose_name = "收缴与对账"

    def ready(self):
        from .departures import importer  # noqa: F401 - registers the departures list with core.imports
        from .refunds import differences

        differences.register()  # an identity list applied proposes subsidy-difference refunds
