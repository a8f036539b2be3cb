from django.urls import path

from guanxi.importing import dedupe_views, views

app_name = "importing"
urlpatterns = [
    path("imports/", views.batch_list, name="batch_list"),
    path("imports/new/", views.batch_new, name="new"),
    path("imports/<int:pk>/", views.batch_detail, name="detail"),
    path("imports/<int:pk>/setup/", views.batch_setup, name="setup"),
    path("imports/<int:pk>/cancel/", views.batch_cancel, name="cancel"),
    path("imports/<int:pk>/undo/", views.batch_undo, name="undo"),
    path("imports/<int:pk>/errors.csv", views.batch_errors_csv, name="errors_csv"),
    path("export/<str:entity>/", views.export_download, name="export"),
    path("data-quality/", views.data_quality, name="quality"),
    path(
        "data-quality/required-fields/",
        dedupe_views.required_fields_settings,
        name="required_fields",
    ),
    path("duplicates/", dedupe_views.duplicate_list, name="duplicates"),
    path("duplicates/scan/", dedupe_views.duplicate_scan, name="duplicate_scan"),
    path("duplicates/merge/<str:entity>/", dedupe_views.merge_screen, name="merge"),
]
