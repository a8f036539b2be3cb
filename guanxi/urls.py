from django.urls import include, path

from guanxi.api.main import api
from guanxi.web.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("guanxi.identity.urls")),
    path("", include("guanxi.activities.urls")),
    # The reports app serves the home page (its dashboards) ahead of the plain web home.
    path("", include("guanxi.reports.urls")),
    path("", include("guanxi.web.urls")),
    path("", include("guanxi.core.urls")),
    path("", include("guanxi.automation.urls")),
    path("", include("guanxi.marketing.urls")),
    path("", include("guanxi.sales.catalog.urls")),
    path("quotes/", include("guanxi.sales.quotes.urls")),
    path("leads/", include("guanxi.leads.urls")),
    path("", include("guanxi.leads.pool_urls")),
    path("", include("guanxi.customers.urls")),
    path("", include("guanxi.finance.urls")),
    path("search/", include("guanxi.search.urls")),
    path("", include("guanxi.sales.urls")),
    path("", include("guanxi.importing.urls")),
    path("", include("guanxi.reports.analytics_urls")),
    path("sales/", include("guanxi.sales.forecast_urls")),
]
