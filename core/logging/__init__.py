"""Structured logs: a request id that follows work from a request into its tasks, JSON lines in
production, plain text in development, and no secrets in either (docs/deploy.md, "Logs")."""
