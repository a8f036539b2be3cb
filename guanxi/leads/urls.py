from django.urls import path

from guanxi.leads import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_create, name="create"),
    path("likely/", views.lead_likely, name="likely"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/convert/", views.lead_convert, name="convert"),
    path("<int:pk>/transfer/", views.lead_transfer, name="transfer"),
    path("<int:pk>/delete/", views.lead_delete, name="delete"),
    path("<int:pk>/reveal/<str:field>/", views.lead_reveal, name="reveal"),
]
