from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    name = "guanxi.identity"
    label = "identity"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from guanxi.identity import entities  # noqa: F401  (registers permission entities)
