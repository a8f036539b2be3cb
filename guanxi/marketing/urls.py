from django.urls import path

from guanxi.marketing import views

app_name = "marketing"
urlpatterns = [
    path("f/<slug:slug>/", views.public_form, name="public"),
    path("f/<slug:slug>/submit.json", views.public_submit_json, name="public_json"),
    path("marketing/web-forms/", views.webforms, name="webforms"),
    path("marketing/web-forms/new/", views.webform_create, name="webform_create"),
    path("marketing/web-forms/<int:pk>/", views.webform_detail, name="webform_detail"),
    path("marketing/web-forms/<int:pk>/edit/", views.webform_edit, name="webform_edit"),
    path("marketing/web-forms/<int:pk>/delete/", views.webform_delete, name="webform_delete"),
]
