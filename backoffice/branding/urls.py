from django.urls import path

from . import views

urlpatterns = [
    path("theme.css", views.theme_css, name="branding_theme_css"),
]
