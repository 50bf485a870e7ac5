"""Forms of the customer site's order pages, one module per page area."""
