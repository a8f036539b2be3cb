"""The project's URLs plus this app's pages, until the lead mounts them in guanxi/urls.py."""

from django.urls import include, path

from guanxi.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("", include("guanxi.activities.urls"))]
