"""What the portal is doing, for Prometheus (``/metrics``) and, when configured, Sentry.

docs/deploy.md, "Metrics", lists every metric and what to alert on.
"""
