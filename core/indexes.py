"""Index definitions beyond what ``models.Index`` writes on every database."""

import copy

from django.db import models


class NullsLastIndex(models.Index):
    """An index whose descending columns keep nulls last where indexes can say so (PostgreSQL).

    A query ordered ``DESC NULLS LAST`` then reads its order from this index alone: a primary key
    walked backwards yields ``DESC NULLS FIRST``, so the planner cannot trade this index for a
    walk of the whole table (which it may, from its statistics, for a correlated ``LIMIT 1``).
    SQLite's indexes take no ``NULLS`` clause: there it is a plain index.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        index = self
        if schema_editor.connection.vendor == "postgresql":
            index = copy.copy(self)
            index.fields_orders = [
                (name, f"{order} NULLS LAST" if order else order)
                for name, order in self.fields_orders
            ]
        return super(NullsLastIndex, index).create_sql(model, schema_editor, using, **kwargs)
