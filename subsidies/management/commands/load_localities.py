from django.core.management.base import BaseCommand

from core.localities import LOCALITIES_FILE, load_localities
from subsidies.policies import load_policies


class Command(BaseCommand):
    help = "Load the five seed localities (regions, quotas) and their policy years. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(LOCALITIES_FILE))

    def handle(self, *args, **opts):
        self.stdout.write(f"regions: {load_localities(opts['file'])}")
        self.stdout.write(f"policies: {load_policies()}")
