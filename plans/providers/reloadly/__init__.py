"""Reloadly Airtime: the adapter (``adapter``) and Reloadly's data in our terms (``parsing``)."""

from plans.providers.reloadly.adapter import ReloadlyAdapter

__all__ = ["ReloadlyAdapter"]
