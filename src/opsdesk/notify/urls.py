from django.urls import path

from opsdesk.notify import views

app_name = "notify"
urlpatterns = [
    path("poll", views.notice_poll, name="poll"),
]
