from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from opsdesk.api.api import api
from opsdesk.jobs.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("calls/", include("opsdesk.intake.urls")),
    path("notices/", include("opsdesk.notify.urls")),
    path("oncall/", include("opsdesk.oncall.urls")),
    path("alerts/", include("opsdesk.alerts.urls")),
    path("", include("opsdesk.tenancy.urls")),
    path("", include("opsdesk.tickets.urls")),
]
