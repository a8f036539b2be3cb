"""Pages of the customer analytics and the report builder (``/reports/analytics/…``,
``/reports/builder/…``)."""

from django.urls import path

from guanxi.reports import analytics_views as views

app_name = "analytics"

urlpatterns = [
    path("reports/analytics/rfm/", views.rfm, name="rfm"),
    path("reports/analytics/refresh/", views.refresh, name="refresh"),
    path("reports/analytics/churn/", views.churn, name="churn"),
    path("reports/analytics/cohorts/", views.cohort_page, name="cohorts"),
    path("reports/builder/", views.builder, name="builder"),
    path("reports/builder/records/", views.builder_records, name="builder_records"),
    path("reports/builder/export/", views.builder_export, name="builder_export"),
    path("reports/builder/save/", views.builder_save, name="builder_save"),
    path("reports/builder/saved/<int:pk>/delete/", views.saved_delete, name="saved_delete"),
]
