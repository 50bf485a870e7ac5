"""The ceiling's table, created by the benchmark in the portal's database (no migrations)."""

TABLE = "bench_ceiling_item"


def create_table_sql(rows: int) -> str:
    """The table and its ``rows`` rows."""
    return f"""
DROP TABLE IF EXISTS {TABLE};
CREATE TABLE {TABLE} (
    id bigserial PRIMARY KEY, name varchar(100) NOT NULL, sku varchar(50) NOT NULL,
    price numeric(12, 2) NOT NULL, currency varchar(3) NOT NULL, active boolean NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO {TABLE} (name, sku, price, currency, active, created_at)
SELECT 'Item ' || n, 'sku-' || n, n % 1000 + 0.99, 'PKR', true, now() - n * interval '1 minute'
FROM generate_series(1, {rows}) AS n;
ANALYZE {TABLE};
"""
