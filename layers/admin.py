"""Django admin for the registry. Thin: listing and metadata editing; loading goes through layers.services."""
from django.contrib.gis import admin

from layers import services
from layers.models import Agency, Dataset, Sector


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ("ordering", "code", "name_vi", "name_en")


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name_vi", "name_en")
    search_fields = ("code", "name_vi", "name_en")


@admin.register(Dataset)
class DatasetAdmin(admin.GISModelAdmin):
    list_display = ("slug", "title_vi", "sector", "geometry_type", "feature_count", "storage_srid", "published")
    list_filter = ("sector", "published", "geometry_type")
    search_fields = ("slug", "title_vi", "title_en", "keywords")
    readonly_fields = (
        "table_schema", "table_name", "id_field", "geometry_field", "storage_srid", "geometry_type",
        "feature_count", "attribute_schema", "created", "updated",
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.registry_changed()

    def delete_model(self, request, obj):
        services.delete_dataset(obj.slug)

    def delete_queryset(self, request, queryset):
        for dataset in queryset:
            services.delete_dataset(dataset.slug)
