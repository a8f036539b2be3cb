"""Deal pages under ``deals/``, the board under ``board/``, settings under ``settings/sales/``.

Included at the site root: ``path("", include("guanxi.sales.urls"))``.
"""

from django.urls import path

from guanxi.sales import views

app_name = "sales"
urlpatterns = [
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:pk>/transfer/", views.deal_transfer, name="deal_transfer"),
    path("deals/<int:pk>/delete/", views.deal_delete, name="deal_delete"),
    path("board/", views.board, name="board"),
    path("board/<int:pipeline_id>/", views.board, name="board_pipeline"),
    path(
        "board/<int:pipeline_id>/stages/<int:stage_id>/",
        views.board_column,
        name="board_column",
    ),
    path("settings/sales/", views.settings_page, name="settings"),
]
