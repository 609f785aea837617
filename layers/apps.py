from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"
    verbose_name = "Lớp dữ liệu / Datasets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from layers.pages import checks  # noqa: F401 (registers the leaders' panels check)
        from layers.merging import receivers  # noqa: F401 (connects the merges' signal receivers)
