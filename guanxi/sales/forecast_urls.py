from django.urls import path

from guanxi.sales import forecast_views as views

app_name = "forecast"
urlpatterns = [
    path("forecast/", views.forecast_page, name="forecast"),
    path("attainment/", views.attainment_page, name="attainment"),
    path("targets/", views.targets_page, name="targets"),
]
