"""Outgoing partner webhooks: events recorded with the change (``services``), sent and retried
(``delivery``) to public addresses only (``transport``), signed the Standard Webhooks way
(``signing``). The models are ``orders.models.partner_webhooks``."""
