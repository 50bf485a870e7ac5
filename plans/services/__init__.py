"""Every write to the catalog, as plain functions with keyword-only arguments.

- :mod:`plans.services.catalog_sync`: preview and apply an upstream provider's catalog.
- :mod:`plans.services.catalog_import`: write the plans and prices of an imported file.
- :mod:`plans.services.prices`: retail prices, partner price rules and promotions.
- :mod:`plans.services.catalog_checks`: whether an upstream item can be synced (reads only).
- :mod:`plans.services.catalog_version`: the catalog's version, replaced on every catalog write.

The admin, the management commands and the import call these; they never save catalog rows
themselves (``tests/plans/test_catalog_services.py`` holds them to it).
"""
