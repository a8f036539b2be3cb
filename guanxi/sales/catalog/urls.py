from django.urls import path

from guanxi.sales.catalog import views

app_name = "catalog"
urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_edit, name="product_edit"),
    path("price-lists/", views.price_lists, name="price_lists"),
    path("price-lists/<int:pk>/", views.price_list_detail, name="price_list_detail"),
    path(
        "price-lists/<int:pk>/items/<int:product_id>/remove/",
        views.price_list_remove,
        name="price_list_remove",
    ),
]
