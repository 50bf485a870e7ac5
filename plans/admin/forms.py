"""Admin forms for the catalog that explain constraint violations on the field to fix."""

import copy

from django import forms
from django.forms.models import construct_instance

from plans.models.constraints import constraint_errors


class ConstraintErrorsForm(forms.ModelForm):
    """A model form that reports the model's named constraints as field errors.

    Fields with an error are then left out of Django's own constraint checks, so staff see one
    clear message instead of "Constraint … is violated." (and never an IntegrityError).
    """

    def clean(self):
        cleaned_data = super().clean()
        candidate = construct_instance(
            self, copy.copy(self.instance), self._meta.fields, self._meta.exclude
        )
        for field, messages in constraint_errors(candidate, exclude=set(self.errors)).items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return cleaned_data
