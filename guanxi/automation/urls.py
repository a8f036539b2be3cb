from django.urls import path

from guanxi.automation import notify_views, rules_views, views

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
    path(
        "me/notifications/",
        notify_views.preferences,
        name="notification_preferences",
    ),
    path("settings/webhooks/", notify_views.webhook_list, name="webhooks"),
    path("settings/webhooks/<int:pk>/", notify_views.webhook_detail, name="webhook_detail"),
    path("settings/webhooks/<int:pk>/delete/", notify_views.webhook_delete, name="webhook_delete"),
    path(
        "settings/webhook-deliveries/<int:pk>/redeliver/",
        notify_views.delivery_redeliver,
        name="delivery_redeliver",
    ),
    path("settings/robots/", notify_views.channel_list, name="channels"),
    path("settings/robots/<int:pk>/", notify_views.channel_edit, name="channel_edit"),
    path("settings/robots/<int:pk>/test/", notify_views.channel_test, name="channel_test"),
    path("settings/robots/<int:pk>/delete/", notify_views.channel_delete, name="channel_delete"),
    path("settings/mail-templates/", notify_views.template_list, name="email_templates"),
    path("settings/mail-templates/new/", notify_views.template_edit, name="email_template_new"),
    path(
        "settings/mail-templates/<int:pk>/",
        notify_views.template_edit,
        name="email_template_edit",
    ),
    path("settings/mail-log/", notify_views.mail_log, name="mail_log"),
    path("approvals/flows/", views.flows_list, name="flows"),
    path("approvals/flows/new/", views.flow_create, name="flow_create"),
    path("approvals/flows/<int:pk>/", views.flow_edit, name="flow_edit"),
    path("approvals/flows/<int:pk>/delete/", views.flow_delete, name="flow_delete"),
    path("approvals/delegation/", views.delegation, name="delegation"),
    path("approvals/delegation/<int:pk>/end/", views.delegation_end, name="delegation_end"),
]
