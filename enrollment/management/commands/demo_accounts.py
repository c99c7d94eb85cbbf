from django.core.management.base import BaseCommand

from enrollment.demo import ensure_demo_accounts


class Command(BaseCommand):
    help = "Create (or reset) one demo account per role and print them. For demos only."

    def handle(self, *args, **opts):
        rows = ensure_demo_accounts()
        self.stdout.write("")
        self.stdout.write("演示账户（仅供演示，密码均为 {}）:".format(rows[0]["password"] if rows else ""))
        for r in rows:
            self.stdout.write(f"  {r['username']:<22} {r['role']:<12} {r['region']}")
        self.stdout.write("")
