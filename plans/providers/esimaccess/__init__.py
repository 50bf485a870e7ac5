"""eSIM Access open API v1: the adapter (``adapter``), units, signing and mapping (``parsing``)."""

from plans.providers.esimaccess.adapter import EsimAccessAdapter

__all__ = ["EsimAccessAdapter"]
