"""Sign-in backends: Django's and allauth's, with the session's user read by a query compiled
once per process (every signed-in request reads it; compiling it cost more than running it)."""

from allauth.account import auth_backends
from django.contrib.auth import backends

from accounts.models import User
from core.compiled import ScopedRows

USER_BY_PK = ScopedRows(User, lambda pk: User._default_manager.filter(pk=pk))


class CompiledUserLookup:
    """``get_user`` as Django's ``ModelBackend`` has it, the user read by ``USER_BY_PK``."""

    def get_user(self, user_id):
        """The active user with this id, else None."""
        try:
            user = USER_BY_PK.get(user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(CompiledUserLookup, backends.ModelBackend):
    """Django's username-and-password backend (the admin's sign-in)."""


class AccountBackend(CompiledUserLookup, auth_backends.AuthenticationBackend):
    """allauth's e-mail-and-password backend (the site's sign-in)."""
