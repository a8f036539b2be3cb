"""Contract pages under ``contracts/``, receivables under ``receivables/``."""

from django.urls import path

from guanxi.finance import views

app_name = "finance"
urlpatterns = [
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/new/", views.contract_create, name="contract_create"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/activate/", views.contract_activate, name="contract_activate"),
    path("contracts/<int:pk>/terminate/", views.contract_terminate, name="contract_terminate"),
    path("contracts/<int:pk>/delete/", views.contract_delete, name="contract_delete"),
    path("contracts/<int:pk>/scan/", views.contract_scan, name="contract_scan"),
    path(
        "contracts/<int:pk>/scan/upload/", views.contract_scan_upload, name="contract_scan_upload"
    ),
    path("contracts/<int:pk>/plan/", views.contract_plan, name="contract_plan"),
    path("contracts/<int:pk>/receipts/", views.receipt_create, name="receipt_create"),
    path(
        "contracts/<int:pk>/receipts/<int:receipt_id>/delete/",
        views.receipt_delete,
        name="receipt_delete",
    ),
    path("contracts/<int:pk>/invoices/", views.invoice_create, name="invoice_create"),
    path(
        "contracts/<int:pk>/invoices/<int:invoice_id>/status/",
        views.invoice_status,
        name="invoice_status",
    ),
    path("receivables/", views.receivables_page, name="receivables"),
    path(
        "receivables/installments/",
        views.receivables_installments,
        name="receivables_installments",
    ),
    path("org/finance/", views.finance_settings, name="settings"),
]
