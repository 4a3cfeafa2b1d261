"""The REST API v1: mounts each app's routers. OpenAPI at /api/openapi.json, docs at /api/docs.

Every operation needs a staff member, by bearer token or by browser session (api/auth.py).
"""

from ninja import NinjaAPI

from opsdesk.alerts.apis import router as integrations_router
from opsdesk.api.auth import StaffSessionAuth, StaffTokenAuth
from opsdesk.api.errors import install_error_handlers
from opsdesk.intake.apis import router as calls_router
from opsdesk.oncall.apis import router as oncall_router
from opsdesk.tenancy.apis import contacts_router, organisations_router, teams_router
from opsdesk.tickets.apis import router as tickets_router

api = NinjaAPI(
    title="OpsDesk API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=[StaffTokenAuth(), StaffSessionAuth()],
)
install_error_handlers(api)

api.add_router("/v1/tickets", tickets_router)
api.add_router("/v1/organisations", organisations_router)
api.add_router("/v1/contacts", contacts_router)
api.add_router("/v1/teams", teams_router)
api.add_router("/v1/calls", calls_router)
api.add_router("/v1/integrations", integrations_router)
api.add_router("/v1/oncall", oncall_router)
