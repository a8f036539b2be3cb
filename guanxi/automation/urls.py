from django.urls import path

from guanxi.automation import views

app_name = "automation"
urlpatterns = [
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/", views.approval_detail, name="approval_detail"),
    path("approvals/<int:pk>/cancel/", views.approval_cancel, name="approval_cancel"),
]
