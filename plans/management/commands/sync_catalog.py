"""Preview a provider's catalog sync, or apply it: ``manage.py sync_catalog Sandbox [--apply]``."""

from django.core.management.base import BaseCommand, CommandError

from plans.models import Provider
from plans.services import catalog_sync
from plans.services.catalog_sync import shown


class Command(BaseCommand):
    help = "Compare a provider's catalog with our plans; apply the changes with --apply."

    def add_arguments(self, parser):
        parser.add_argument("provider", help="the provider's name or id")
        parser.add_argument("--apply", action="store_true", help="apply the changes shown")

    def handle(self, *args, provider, apply, **options):
        found = _provider(provider)
        try:
            sync_plan = catalog_sync.preview(provider=found)
            self._show(sync_plan)
            if not apply:
                self.stdout.write("Dry run: nothing changed. Run with --apply to apply.")
                return
            result = catalog_sync.apply(provider=found, sync_plan=sync_plan)
        except catalog_sync.CatalogSyncError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Applied: {result.created} created (inactive, without retail prices), "
            f"{result.updated} updated, {result.reactivated} reactivated, "
            f"{result.deactivated} deactivated."
        )

    def _show(self, sync_plan: catalog_sync.SyncPlan) -> None:
        self.stdout.write(
            f"Catalog of {sync_plan.provider}: {len(sync_plan.new)} new, "
            f"{len(sync_plan.changed)} changed, {len(sync_plan.deactivated)} to deactivate, "
            f"{len(sync_plan.skipped)} skipped."
        )
        new = [
            [
                n.item.sku,
                n.operator.code,
                n.item.kind,
                f"{n.item.cost_currency} {shown(n.item.cost)}",
                f"{n.item.validity_days} d",
                n.item.name,
            ]
            for n in sync_plan.new
        ]
        changed = [[c.plan.provider_sku, "; ".join(_change(c))] for c in sync_plan.changed]
        gone = [[p.provider_sku, p.name] for p in sync_plan.deactivated]
        skipped = [[s.sku, s.reason] for s in sync_plan.skipped]
        self._table("New (created inactive, without retail prices)", new)
        self._table("Changed (ours → theirs)", changed)
        self._table("Deactivated (no longer sold upstream)", gone)
        self._table("Skipped", skipped)

    def _table(self, title: str, rows: list[list[str]]) -> None:
        if not rows:
            return
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        self.stdout.write(f"\n{title}:")
        for row in rows:
            cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
            self.stdout.write("  " + "  ".join(cells).rstrip())
        self.stdout.write("")


def _provider(name_or_id: str) -> Provider:
    lookup = {"pk": int(name_or_id)} if name_or_id.isdigit() else {"name__iexact": name_or_id}
    found = Provider.objects.filter(**lookup).first()
    if found is None:
        raise CommandError(f"No provider with the name or id {name_or_id!r}.")
    return found


def _change(change: catalog_sync.PlanChange) -> list[str]:
    parts = [
        f"{name}: {shown(ours)} → {shown(theirs)}" for name, (ours, theirs) in change.fields.items()
    ]
    return parts + (["reactivated"] if change.reactivate else [])
