from django.urls import path

from guanxi.core import views

app_name = "core"
urlpatterns = [
    path("org/numbering/", views.numbering_settings, name="numbering"),
]
