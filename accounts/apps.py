from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts.admin_library import audit_library_admins

        audit_library_admins()  # the admin app (listed first) has discovered every admin by now
