"""Read usage from the providers now, as the periodic ``sync-usage`` job does."""

from django.core.management.base import BaseCommand

from orders.services.usage import sync_usage


class Command(BaseCommand):
    help = "Read data left and expiry from the providers for SIMs due a usage sync."

    def add_arguments(self, parser):
        parser.add_argument("--provider", type=int, help="Only this provider's SIMs (its id).")
        parser.add_argument("--batch-size", type=int, help="SIMs per batch.")

    def handle(self, *args, provider=None, batch_size=None, **options):
        counts = sync_usage(provider_id=provider, batch_size=batch_size)
        self.stdout.write(
            "synced {synced}, deferred {deferred} (rate limit), errors {errors}".format(**counts)
        )
