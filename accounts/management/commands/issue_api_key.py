from django.core.management.base import BaseCommand, CommandError

from accounts.models import Partner
from accounts.services import issue_api_key


class Command(BaseCommand):
    help = "Issue an API key for a partner and print it once (only its HMAC is stored)."

    def add_arguments(self, parser):
        parser.add_argument("partner", help="the partner's slug")
        parser.add_argument("--name", default="API key", help="a label for the key")
        parser.add_argument("--allowed-ip", action="append", default=[], dest="allowed_ips")

    def handle(self, *args, partner, name, allowed_ips, **options):
        found = Partner.objects.filter(slug=partner, is_active=True).first()
        if found is None:
            raise CommandError(f"No active partner with the slug {partner!r}.")
        issued = issue_api_key(partner=found, name=name, allowed_ips=allowed_ips)
        self.stdout.write("Store this key now; it cannot be shown again:")
        self.stdout.write(issued.plaintext)
