from django.core.management.base import BaseCommand, CommandError

from portal.tasks import ping


class Command(BaseCommand):
    help = "Send a ping task through the broker and wait for a worker to answer."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, timeout, **options):
        try:
            answer = ping.apply_async().get(timeout=timeout)
        except Exception as exc:
            raise CommandError(f"No worker answered within {timeout} s: {exc}") from exc
        self.stdout.write(f"pong from {answer['worker']} (pid {answer['pid']})")
