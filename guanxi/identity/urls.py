from django.urls import path

from guanxi.identity import views

app_name = "identity"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("me/", views.profile, name="profile"),
    path("me/password/", views.password_change, name="password"),
    path("me/tokens/", views.tokens, name="tokens"),
    path("me/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("org/departments/", views.departments, name="departments"),
    path("org/departments/<int:pk>/", views.department_edit, name="department_edit"),
    path("org/departments/<int:pk>/delete/", views.department_delete, name="department_delete"),
    path("org/users/", views.users, name="users"),
    path("org/users/new/", views.user_create, name="user_create"),
    path("org/users/<int:pk>/", views.user_edit, name="user_edit"),
    path("org/users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("org/users/<int:pk>/delete/", views.user_delete, name="user_delete"),
    path("org/roles/", views.roles, name="roles"),
    path("org/roles/new/", views.role_create, name="role_create"),
    path("org/roles/<int:pk>/", views.role_edit, name="role_edit"),
    path("org/roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
    path("org/audit/", views.audit, name="audit"),
    path("org/custom-fields/", views.custom_fields, name="custom_fields"),
    path("org/custom-fields/new/", views.custom_field_create, name="custom_field_create"),
    path("org/custom-fields/<int:pk>/", views.custom_field_edit, name="custom_field_edit"),
    path(
        "org/custom-fields/<int:pk>/deactivate/",
        views.custom_field_deactivate,
        name="custom_field_deactivate",
    ),
]
