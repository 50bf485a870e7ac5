"""Airalo Partner API v2: the adapter (``adapter``) and its answers in our types (``parsing``)."""

from plans.providers.airalo.adapter import AiraloAdapter

__all__ = ["AiraloAdapter"]
