"""Mounted at /fhir/ (carnet/urls.py). Ids are our public UUIDs; resource types are matched by name.
Reads (GET/HEAD) go to `views`, writes (POST/PATCH: IHE MHD / PDSm) to `write`, through `write.by_method`."""

from django.urls import path, re_path

from . import views, write

app_name = "fhir"
WRITABLE = ("DocumentReference",)

urlpatterns = [
    path("", write.by_method(views.unknown, {"POST": write.transaction}), name="base"),
    path("metadata", views.metadata, name="metadata"),
    re_path(r"^(?P<resource_type>[A-Z][A-Za-z]+)/?$",
            write.by_method(views.search, {"POST": write.create, "PATCH": write.update_metadata}, WRITABLE),
            name="search"),
    re_path(r"^(?P<resource_type>[A-Z][A-Za-z]+)/_search/?$", views.search_post, name="search_post"),
    re_path(r"^(?P<resource_type>[A-Z][A-Za-z]+)/(?P<resource_id>[A-Za-z0-9\-.]{1,64})/?$",
            write.by_method(views.read, {"PATCH": write.update_metadata}, WRITABLE), name="read"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
