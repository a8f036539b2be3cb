from django.urls import path

from guanxi.leads import rules_views, views

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
urlpatterns += [
    path("pool/", views.pool_list, name="pool"),
    path("pool/rules/", views.pool_rules, name="pool_rules"),
    path("pool/rules/<int:rule_pk>/", views.pool_rules, name="pool_rule_edit"),
    path("pool/rules/<int:rule_pk>/toggle/", views.pool_rule_toggle, name="pool_rule_toggle"),
    path("handover/", views.handover, name="handover"),
    path("<int:pk>/claim/", views.lead_claim, name="claim"),
    path("<int:pk>/release/", views.lead_release, name="release"),
    path("<int:pk>/lock/", views.lead_lock, name="lock"),
]

urlpatterns += [
    path("rules/assignment/", rules_views.assignment_rules, name="assignment_rules"),
    path(
        "rules/assignment/new/",
        rules_views.assignment_rule_create,
        name="assignment_rule_create",
    ),
    path(
        "rules/assignment/<int:pk>/", rules_views.assignment_rule_edit, name="assignment_rule_edit"
    ),
    path(
        "rules/assignment/<int:pk>/delete/",
        rules_views.assignment_rule_delete,
        name="assignment_rule_delete",
    ),
    path("rules/scoring/", rules_views.scoring_rules, name="scoring_rules"),
    path("rules/scoring/new/", rules_views.scoring_rule_create, name="scoring_rule_create"),
    path("rules/scoring/<int:pk>/", rules_views.scoring_rule_edit, name="scoring_rule_edit"),
    path(
        "rules/scoring/<int:pk>/delete/",
        rules_views.scoring_rule_delete,
        name="scoring_rule_delete",
    ),
]
