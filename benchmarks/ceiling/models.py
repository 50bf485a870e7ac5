"""One simple table (benchmarks/ceiling/schema.py)."""

from django.db import models

from benchmarks.ceiling.schema import TABLE


class Item(models.Model):
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    active = models.BooleanField()
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = TABLE

    def __str__(self):
        return self.name
