"""PostgreSQL's unaccent, for CQL2 ACCENTI(): Vietnamese searches fold diacritics ("ninh kieu" finds "Ninh Kiều")."""
from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("layers", "0004_pinned_vn2000_srids")]
    operations = [UnaccentExtension()]
