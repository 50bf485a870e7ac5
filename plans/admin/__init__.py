"""The catalog's admin: each module registers the model admins of its area."""

from plans.admin import catalog, pricing, upstream

__all__ = ["catalog", "pricing", "upstream"]
