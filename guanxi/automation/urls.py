from django.urls import path

from guanxi.automation import views

app_name = "automation"
urlpatterns = [
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/", views.approval_detail, name="approval_detail"),
    path("approvals/<int:pk>/cancel/", views.approval_cancel, name="approval_cancel"),
    path("approvals/flows/", views.flows_list, name="flows"),
    path("approvals/flows/new/", views.flow_create, name="flow_create"),
    path("approvals/flows/<int:pk>/", views.flow_edit, name="flow_edit"),
    path("approvals/flows/<int:pk>/delete/", views.flow_delete, name="flow_delete"),
    path("approvals/delegation/", views.delegation, name="delegation"),
    path("approvals/delegation/<int:pk>/end/", views.delegation_end, name="delegation_end"),
]
