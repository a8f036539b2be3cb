from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "guanxi.activities"
    label = "activities"
