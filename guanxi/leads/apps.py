from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "guanxi.leads"
    label = "leads"
