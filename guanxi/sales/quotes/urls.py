from django.urls import path

from guanxi.sales.quotes import views

app_name = "quotes"
urlpatterns = [
    path("", views.quote_list, name="list"),
    path("new/", views.quote_create, name="create"),
    path("settings/", views.quote_settings, name="settings"),
    path("<int:pk>/", views.quote_detail, name="detail"),
    path("<int:pk>/edit/", views.quote_edit, name="edit"),
    path("<int:pk>/pdf/", views.quote_pdf, name="pdf"),
    path("<int:pk>/lines/", views.quote_line_add, name="line_add"),
    path("<int:pk>/lines/<int:line_id>/", views.quote_line_edit, name="line_edit"),
    path("<int:pk>/lines/<int:line_id>/delete/", views.quote_line_delete, name="line_delete"),
    path("deals/<int:pk>/products/", views.deal_products, name="deal_products"),
    path(
        "deals/<int:pk>/products/<int:line_id>/remove/",
        views.deal_product_remove,
        name="deal_product_remove",
    ),
    path("<int:pk>/decide/", views.quote_decide, name="decide"),
    path("<int:pk>/<slug:action>/", views.quote_action, name="action"),
]
