from django.core.management.base import BaseCommand

from accounts.roles import sync_staff_roles


class Command(BaseCommand):
    help = "Create or update the staff role groups and their permissions."

    def handle(self, *args, **options):
        for name, group in sync_staff_roles().items():
            self.stdout.write(f"{name}: {group.permissions.count()} permissions")
