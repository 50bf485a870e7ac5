from pathlib import Path

from django.core.management.base import BaseCommand

from portal import icons


class Command(BaseCommand):
    help = "Draw the site's icons (SVG, PNG, ICO) into portal/static/portal/icons/."

    def add_arguments(self, parser):
        parser.add_argument("--into", type=Path, default=icons.ICON_DIR)

    def handle(self, *args, into, **options):
        into.mkdir(parents=True, exist_ok=True)
        for name, data in icons.files().items():
            (into / name).write_bytes(data)
            self.stdout.write(f"{into / name} ({len(data)} bytes)")
