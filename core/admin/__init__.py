"""The admin's building blocks every app uses (audited admins, list filters, paging) and the
audit trail's own page, registered by :mod:`core.admin.audit_entries`."""

from core.admin import audit_entries

__all__ = ["audit_entries"]
