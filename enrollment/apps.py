from django.apps import AppConfig


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "参保登记"

    def ready(self):
        from axes.signals import user_locked_out

        from .tokens import revoke_on_lockout

        user_locked_out.connect(revoke_on_lockout, dispatch_uid="enrollment.tokens.revoke_on_lockout")
