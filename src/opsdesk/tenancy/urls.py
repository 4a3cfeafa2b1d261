app_name = "tenancy"
urlpatterns: list = []
