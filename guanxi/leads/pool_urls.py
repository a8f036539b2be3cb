"""The account pool and the pool administration, included at the site root (``pool:``)."""

from django.urls import path

from guanxi.leads import pool_views

app_name = "pool"
urlpatterns = [
    path("accounts/pool/", pool_views.account_pool, name="accounts"),
    path("accounts/<int:pk>/claim/", pool_views.account_claim, name="account_claim"),
    path("accounts/<int:pk>/release/", pool_views.account_release, name="account_release"),
    path("accounts/<int:pk>/lock/", pool_views.account_lock, name="account_lock"),
    path("pool/settings/", pool_views.pool_settings, name="settings"),
    path("pool/settings/<int:department_pk>/remove/", pool_views.pool_remove, name="remove"),
]
