from django.apps import AppConfig


class DepartmentFilesConfig(AppConfig):
    name = "integrations.department_files"
    label = "department_files"
    verbose_name = "Departmental files"
    default_auto_field = "django.db.models.BigAutoField"
