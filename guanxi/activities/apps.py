from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "guanxi.activities"
    label = "activities"
    verbose_name = _("Follow-ups and tasks")

    def ready(self) -> None:
        from guanxi.activities import entities, services  # noqa: F401  (entities, events)
        from guanxi.identity.services import register_owned_counter

        register_owned_counter(services.owned_counts)
