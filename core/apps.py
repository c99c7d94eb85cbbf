from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "基础"

    def ready(self):
        from axes.signals import user_locked_out

        from .tokens import revoke_on_lockout

        user_locked_out.connect(revoke_on_lockout, dispatch_uid="core.tokens.revoke_on_lockout")
