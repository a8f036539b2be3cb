from django.urls import path

from guanxi.automation import rules_views, views

app_name = "automation"
urlpatterns = [
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/", views.approval_detail, name="approval_detail"),
    path("approvals/<int:pk>/cancel/", views.approval_cancel, name="approval_cancel"),
    path("automation/rules/", rules_views.rules, name="rules"),
    path("automation/rules/new/", rules_views.rule_create, name="rule_create"),
    path("automation/rules/row/<str:kind>/", rules_views.rule_row, name="rule_row"),
    path("automation/rules/<int:pk>/", rules_views.rule_edit, name="rule_edit"),
    path("automation/rules/<int:pk>/toggle/", rules_views.rule_toggle, name="rule_toggle"),
    path("automation/rules/<int:pk>/delete/", rules_views.rule_delete, name="rule_delete"),
    path("automation/rules/<int:pk>/runs/", rules_views.rule_runs, name="rule_runs"),
    path("automation/rules/<int:pk>/dry-run/", rules_views.rule_dry_run, name="rule_dry_run"),
]
