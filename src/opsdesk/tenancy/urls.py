from django.urls import path

from opsdesk.tenancy import views

app_name = "tenancy"
urlpatterns = [
    path("organisations/", views.organisation_list_view, name="organisation_list"),
    path("organisations/<slug:code>/", views.organisation_detail, name="organisation_detail"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact_detail"),
    path("me/tokens/", views.token_list, name="token_list"),
]
