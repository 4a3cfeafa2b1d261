from django.urls import path

from opsdesk.tickets import views

app_name = "tickets"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/", views.queue, name="list"),
    path("tickets/new/", views.ticket_new, name="new"),
    path("tickets/<str:reference>/", views.ticket_detail, name="detail"),
    path("tickets/<str:reference>/reply/", views.ticket_reply, name="reply"),
    path("tickets/<str:reference>/note/", views.ticket_note, name="note"),
    path("tickets/<str:reference>/assign/", views.ticket_assign_view, name="assign"),
    path("tickets/<str:reference>/status/", views.ticket_status, name="status"),
    path("tickets/<str:reference>/fields/", views.ticket_fields, name="fields"),
    path(
        "tickets/<str:reference>/attachments/<int:attachment_id>/<str:filename>",
        views.attachment_download,
        name="attachment",
    ),
]
