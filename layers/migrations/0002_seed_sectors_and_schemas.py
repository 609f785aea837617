"""Seed the 17 sectors of Cần Thơ's shared databases, the registry version row, and the data schemas."""
from django.db import migrations

SECTORS = [
    ("population", "Dân số, lao động, gia đình", "Population, labour and family"),
    ("water", "Cấp thoát nước", "Water supply and drainage"),
    ("investment", "Đầu tư", "Investment"),
    ("industry", "Công nghiệp", "Industry"),
    ("agriculture", "Nông nghiệp", "Agriculture"),
    ("construction", "Xây dựng và nhà ở", "Construction and housing"),
    ("trade", "Thương mại", "Trade"),
    ("tourism", "Du lịch", "Tourism"),
    ("transport", "Giao thông vận tải", "Transport"),
    ("environment", "Môi trường", "Environment"),
    ("education", "Giáo dục, đào tạo và nguồn nhân lực", "Education, training and human resources"),
    ("science", "Khoa học, công nghệ và đổi mới sáng tạo", "Science, technology and innovation"),
    ("health", "Y tế", "Health"),
    ("social-insurance", "Bảo hiểm y tế, bảo hiểm xã hội", "Health and social insurance"),
    ("public-order", "Trật tự an toàn xã hội và tội phạm", "Public order and crime"),
    ("economy", "Tăng trưởng kinh tế và phát triển bền vững", "Economic growth and sustainability"),
    ("land", "Đất đai", "Land"),
]


def seed(apps, schema_editor):
    Sector = apps.get_model("layers", "Sector")
    for ordering, (code, name_vi, name_en) in enumerate(SECTORS, start=1):
        Sector.objects.update_or_create(code=code, defaults={"name_vi": name_vi, "name_en": name_en, "ordering": ordering})
    apps.get_model("layers", "RegistryVersion").objects.get_or_create(id=1)


def unseed(apps, schema_editor):
    apps.get_model("layers", "Sector").objects.filter(code__in=[s[0] for s in SECTORS]).delete()


class Migration(migrations.Migration):
    dependencies = [("layers", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SCHEMA IF NOT EXISTS sdi_data; CREATE SCHEMA IF NOT EXISTS sdi_staging;",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunPython(seed, unseed),
    ]
