from django.urls import path

from opsdesk.oncall import views

app_name = "oncall"
urlpatterns = [
    path("", views.who_page, name="who"),
    path("ack/<str:token>/", views.ack_page, name="ack"),
    path("schedules/<int:schedule_id>.ics", views.schedule_feed, name="schedule_ical"),
    path("people/<str:username>.ics", views.person_feed, name="person_ical"),
]
