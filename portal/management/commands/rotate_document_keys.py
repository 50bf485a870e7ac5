from django.core.management.base import BaseCommand

from accounts.documents import rotate_document_keys
from support.attachments import rotate_screenshot_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored identity document and support screenshot with the first of "
        "IDENTITY_DOCUMENT_KEYS. Put the new key first, keep the old ones, run this, then "
        "remove the old keys."
    )

    def handle(self, *args, **options):
        documents, screenshots = rotate_document_keys(), rotate_screenshot_keys()
        self.stdout.write(
            f"Re-encrypted {documents} identity documents and {screenshots} support screenshots."
        )
