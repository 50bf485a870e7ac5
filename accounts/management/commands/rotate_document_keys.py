from django.core.management.base import BaseCommand

from accounts.documents import rotate_document_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored identity document with the first of IDENTITY_DOCUMENT_KEYS. "
        "Put the new key first, keep the old ones, run this, then remove the old keys."
    )

    def handle(self, *args, **options):
        count = rotate_document_keys()
        self.stdout.write(f"Re-encrypted {count} identity documents.")
