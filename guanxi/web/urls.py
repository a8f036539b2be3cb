from django.urls import path

from guanxi.web import lists, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("lists/<str:entity>/views/", lists.view_create, name="view_create"),
    path("lists/views/<int:pk>/", lists.view_update, name="view_update"),
    path("lists/views/<int:pk>/delete/", lists.view_delete, name="view_delete"),
    path("lists/<str:entity>/default/", lists.view_default, name="view_default"),
    path("lists/<str:entity>/columns/", lists.columns_save, name="columns"),
    path("lists/<str:entity>/bulk/", lists.bulk_action, name="bulk"),
    path("lists/bulk/<int:pk>/undo/", lists.bulk_undo, name="bulk_undo"),
]
