from tests.orders.conftest import catalog, esim_plan  # noqa: F401
