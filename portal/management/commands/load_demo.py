from django.core.management.base import BaseCommand

from portal.demo import load_demo_data


class Command(BaseCommand):
    help = "Load the demo catalog and demo logins (idempotent) and print the logins."

    def handle(self, *args, **options):
        result = load_demo_data()
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"Demo data: created {result.created} objects."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        self.stdout.write("\nDemo logins:")
        for line in result.logins:
            self.stdout.write(f"  {line}")
