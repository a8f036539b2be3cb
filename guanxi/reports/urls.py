from django.urls import path

from guanxi.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.home, name="dashboard"),
    path("reports/", views.index, name="index"),
    path("reports/dashboard/quality/", views.quality_card, name="quality_card"),
    path("reports/funnel/", views.funnel, name="funnel"),
    path("reports/channels/", views.channels, name="channels"),
    path("reports/performance/", views.performance, name="performance"),
    path("reports/customers/", views.customers, name="customers"),
    path("reports/lost/", views.lost, name="lost"),
    path("reports/campaign-costs/", views.campaign_costs, name="campaign_costs"),
    path(
        "reports/campaign-costs/<int:pk>/delete/",
        views.campaign_cost_delete,
        name="campaign_cost_delete",
    ),
]
