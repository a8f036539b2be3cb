from django.urls import path

from guanxi.activities import views

app_name = "activities"
urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:pk>/reopen/", views.task_reopen, name="task_reopen"),
    path("followups/new/", views.followup_create, name="followup_create"),
    path("followups/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("timeline/", views.timeline, name="timeline"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/dropdown/", views.notifications_dropdown, name="notifications_dropdown"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/rotate/", views.calendar_rotate, name="calendar_rotate"),
    path("calendar/<str:token>.ics", views.ics_feed, name="ics_feed"),
]
