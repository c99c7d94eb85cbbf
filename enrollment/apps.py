from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "参保登记"

    def ready(self):
        from . import importers  # noqa: F401 - registers the roster and identity-list importers with core.imports
