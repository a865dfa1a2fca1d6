"""Mounted at /fhir/ (carnet/urls.py). Ids are our public UUIDs; resource types are matched by name."""

from django.urls import path, re_path

from . import views

app_name = "fhir"

urlpatterns = [
    path("", views.unknown, name="base"),
    path("metadata", views.metadata, name="metadata"),
    re_path(r"^(?P<resource_type>[A-Z][A-Za-z]+)/?$", views.search, name="search"),
    re_path(r"^(?P<resource_type>[A-Z][A-Za-z]+)/(?P<resource_id>[A-Za-z0-9\-.]{1,64})/?$", views.read, name="read"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
