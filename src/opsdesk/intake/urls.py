from django.urls import path

from opsdesk.intake import views

app_name = "intake"
urlpatterns = [
    path("new/", views.call_new, name="call_new"),
    path("lookup/", views.call_lookup, name="call_lookup"),
]
