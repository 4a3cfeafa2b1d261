from django.urls import path

from opsdesk.oncall import views

app_name = "oncall"
urlpatterns = [
    path("", views.who_page, name="who"),
    path("ack/<str:token>/", views.ack_page, name="ack"),
    path("escalations/<int:escalation_id>/ack/", views.panel_ack, name="panel_ack"),
    path("schedules/<int:schedule_id>.ics", views.schedule_feed, name="schedule_ical"),
    path("people/<str:username>.ics", views.person_feed, name="person_ical"),
    path("feeds/", views.feeds_page, name="feeds"),
    path(
        "feeds/<int:user_id>/<str:signature>/schedule/<int:schedule_id>.ics",
        views.schedule_feed_signed,
        name="schedule_feed_signed",
    ),
    path(
        "feeds/<int:user_id>/<str:signature>/person/<int:person_id>.ics",
        views.person_feed_signed,
        name="person_feed_signed",
    ),
]
