from django.urls import path

from opsdesk.alerts import views

app_name = "alerts"
urlpatterns = [
    path("silences/", views.silence_page, name="silences"),
    path("silences/<int:silence_id>/expire/", views.silence_expire_view, name="silence_expire"),
]
