"""Check every partner's wallet: each running balance is the sum of the ledger up to it."""

from django.core.management.base import BaseCommand, CommandError

from orders.services.wallet_audit import (
    audit_partner,
    fill_missing_balances,
    partners_with_entries,
)


class Command(BaseCommand):
    help = (
        "Check, for every partner, that each wallet entry's running balance equals the sum of "
        "the ledger up to it and the newest equals the ledger's sum; exit 1 on any mismatch."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--fill-missing",
            action="store_true",
            help="First give entries written without a running balance (older release) theirs.",
        )

    def handle(self, *args, fill_missing=False, **options):
        partners = mismatches = 0
        for partner in partners_with_entries():
            if fill_missing and (filled := fill_missing_balances(partner)):
                self.stdout.write(f"partner {partner.slug}: {filled} running balances filled")
            partners += 1
            for mismatch in audit_partner(partner):
                mismatches += 1
                self.stdout.write(str(mismatch))
        self.stdout.write(f"{partners} partners audited, {mismatches} mismatches")
        if mismatches:
            raise CommandError(f"{mismatches} wallet running balances do not match the ledger.")
