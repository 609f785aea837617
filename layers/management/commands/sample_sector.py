"""Set up the sample sector database beside the SDI's and keep a dataset in sync with it (what `make run` shows)."""
from django.core.management.base import BaseCommand, CommandError

from layers.loading import ImportRefused
from layers.sources import sample_sector
from layers.sources.harvest import harvest
from layers.sources.models import Source, SourceRun
from layers.sources.services import register_source, update_source

SLUG = "thua-dat-ninh-kieu-mau"
EVERY = "1h"
METADATA = {
    "title_vi": "Thửa đất Ninh Kiều (DỮ LIỆU MẪU, đồng bộ từ cơ sở dữ liệu địa chính mẫu)",
    "title_en": "Ninh Kiều land parcels (SAMPLE DATA, kept in sync with a sample land-office database)",
    "abstract_vi": "Dữ liệu giả lập, không có thật: lưới thửa 50 m cắt theo ranh giới thật của quận Ninh Kiều, "
                   "trong cơ sở dữ liệu mẫu của Văn phòng đăng ký đất đai (VN-2000 / TM-3 múi 482, EPSG:5897). "
                   "Cần Thơ SDI thu thập lại mỗi giờ và ghi lại mọi thay đổi.",
    "abstract_en": "Synthetic, not real: a 50 m parcel grid clipped to the real Ninh Kiều boundary, in a sample "
                   "land-office database (VN-2000 / TM-3 zone 482, EPSG:5897). The SDI harvests it every hour and "
                   "logs every change.",
    "sector": "land",
    "licence_name": "CC0 1.0 (synthetic sample data)",
    "licence_url": "https://creativecommons.org/publicdomain/zero/1.0/",
    "attribution": "Cần Thơ SDI — dữ liệu mẫu giả lập / synthetic sample data",
    "keywords": ["dữ liệu mẫu", "sample data", "thửa đất", "parcels", "Ninh Kiều"],
}


class Command(BaseCommand):
    help = ("Create the SAMPLE sector database (a synthetic Ninh Kiều land register in VN-2000, in a database of "
            f"its own beside the SDI's, read through a read-only role), register it as the source of dataset {SLUG} "
            f"harvested every {EVERY}, and run it once. Idempotent: the register and its edits are kept. "
            "--change N edits N parcels there as a land office would, so the next run shows what moved.")

    def add_arguments(self, parser):
        parser.add_argument("--change", type=int, metavar="N", default=0,
                            help="re-classify N parcels, split N/5 and retire N/5 in the sample database, then harvest")
        parser.add_argument("--reset", action="store_true", help="make the sample parcels afresh (edits are lost)")
        parser.add_argument("--no-harvest", action="store_true", help="set up and register only; do not run it now")

    def handle(self, *args, change, reset, no_harvest, **options):
        sector = sample_sector.create_sample_sector(reset=reset)
        self.stdout.write(f"  sample sector database {sample_sector.database()}: {sector.table}, {sector.parcels} "
                          "parcels (synthetic)")
        source = Source.objects.filter(slug=SLUG).first()
        try:
            if source is None:
                source = register_source(user=None, slug=SLUG, kind=Source.Kind.POSTGRES, dsn=sector.dsn,
                                         table=sector.table, key="ma_thua", every=EVERY, metadata=METADATA)
            else:  # the read-only role's password is new each time
                update_source(source, None, {"dsn": sector.dsn})
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        if change:
            edits = sample_sector.change_parcels(change)
            self.stdout.write(f"  edited the sample register: {edits.changed} re-classified, {edits.added} split off, "
                              f"{edits.removed} retired")
        if no_harvest:
            return
        run = harvest(source.pk)
        if run.status != SourceRun.Status.SUCCEEDED:
            raise CommandError(run.error)
        self.stdout.write(self.style.SUCCESS(
            f"sample source {SLUG}: {run.added} added, {run.changed} changed, {run.removed} removed; "
            f"harvested every {EVERY}"))
