"""Account pages under ``accounts/`` and contact pages under ``contacts/`` (one namespace).

Included at the site root: ``path("", include("guanxi.customers.urls"))``.
"""

from django.urls import path

from guanxi.customers import views

app_name = "customers"
urlpatterns = [
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/autocomplete/", views.account_autocomplete, name="account_autocomplete"),
    path("accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:pk>/transfer/", views.account_transfer, name="account_transfer"),
    path("accounts/<int:pk>/delete/", views.account_delete, name="account_delete"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/transfer/", views.contact_transfer, name="contact_transfer"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("contacts/<int:pk>/reveal/<str:field>/", views.contact_reveal, name="contact_reveal"),
]
