"""Reminders and in-site notifications about SIMs: the sweeps (``reminders``) and the
customer's list (``views``, ``urls``). The model is ``orders.models.notifications``."""
