"""Land-use categories and codes, owner types, and each district's profile (block and lot sizes, land-use mix)."""
from dataclasses import dataclass, field


# Block-level land-use categories.  "RES" becomes ODT in a phường / thị trấn and ONT in a xã.
CATS = ["RES", "TMD", "SKC", "LUC", "CLN", "BHK", "NTS", "TSC", "DGD", "DYT", "TON", "NTD"]
CI = {c: i for i, c in enumerate(CATS)}
STRIPS = ["", "DGT", "DTL", "SON"]       # strip parcel along the lower edge of a block


# Final codes (ma_loai_dat) - a subset of the national classification
# (Thông tư 08/2024/TT-BTNMT / 27/2018/TT-BTNMT).
CODES = ["ODT", "ONT", "TMD", "SKC", "LUC", "LUK", "CLN", "BHK", "NTS",
         "TSC", "DGD", "DYT", "TON", "NTD", "DGT", "DTL", "SON"]
CODE_I = {c: i for i, c in enumerate(CODES)}
OWNERS = ["Hộ gia đình, cá nhân", "Tổ chức kinh tế", "Cơ quan nhà nước", "Cộng đồng dân cư"]
# P(owner | code), columns in OWNERS order.
OWNER_P = {
    "ODT": [.975, .015, .01, 0], "ONT": [.985, .005, .01, 0], "TMD": [.45, .53, .02, 0],
    "SKC": [.10, .85, .05, 0], "LUC": [.97, .01, .02, 0], "LUK": [.97, .01, .02, 0],
    "CLN": [.975, .015, .01, 0], "BHK": [.97, .01, .02, 0], "NTS": [.95, .04, .01, 0],
    "TSC": [0, 0, 1, 0], "DGD": [0, .10, .90, 0], "DYT": [0, .12, .88, 0],
    "TON": [0, 0, 0, 1], "NTD": [0, 0, .30, .70], "DGT": [0, 0, .92, .08],
    "DTL": [0, 0, .90, .10], "SON": [0, 0, 1, 0],
}


@dataclass
class Profile:
    block: tuple[float, float]      # nominal block length x depth (m)
    gap: tuple[float, float]        # road / ditch between blocks (m)
    sheet: float                    # map sheet edge (m): 1:500 -> 250, 1:1000 -> 500, 1:2000 -> 1000
    lot: dict[str, tuple[float, int]]   # category -> (target lot width along the block, rows)
    core: list[float]               # P(category) at a ward centre (CATS order)
    peri: list[float]               # P(category) far from any ward centre
    strip_core: list[float]         # P(DGT, DTL, SON strip) at a ward centre
    strip_peri: list[float]
    strip_w: dict[str, float] = field(default_factory=lambda: {"DGT": 7, "DTL": 6, "SON": 22})
    canal: tuple[float, float] = (900, 1800)   # mean spacing of main / cross canals (m)
    canal_u: float = 0.7            # urbanity of the blocks along a canal (ribbon settlements)
    res_variant: float = 0.06       # share of ODT lots that are TMD


WHOLE = 1e9   # lot width meaning "one parcel across the whole block"
_AGRI = {"LUC": (40, 1), "CLN": (30, 1), "BHK": (25, 1), "NTS": (45, 1), "SKC": (WHOLE, 1),
         "TSC": (WHOLE, 1), "DGD": (WHOLE, 1), "DYT": (WHOLE, 1), "TON": (WHOLE, 1),
         "NTD": (WHOLE, 1)}
#                 RES   TMD   SKC   LUC   CLN   BHK   NTS   TSC   DGD   DYT   TON   NTD
PROFILES = {
    "urban": Profile((64, 44), (6, 6), 250, {**_AGRI, "RES": (8, 2), "TMD": (16, 2)},
                     [.74, .14, .01, 0, .02, 0, 0, .03, .03, .015, .01, .005],
                     [.58, .08, .03, .05, .14, .04, .02, .02, .015, .005, .005, .01],
                     [.18, .01, .02], [.12, .04, .03], {"DGT": 10, "DTL": 6, "SON": 20}, (350, 500), 0.6),
    "semi": Profile((80, 50), (5, 5), 500, {**_AGRI, "RES": (10, 2), "TMD": (20, 2)},
                    [.64, .12, .07, .02, .07, .02, .01, .015, .015, .008, .007, .005],
                    [.20, .03, .04, .25, .30, .06, .07, .005, .005, .002, .003, .005],
                    [.14, .03, .03], [.06, .08, .04], {"DGT": 8, "DTL": 6, "SON": 22}, (600, 1000), 0.7),
    "town": Profile((100, 50), (4, 4), 500, {**_AGRI, "RES": (10, 2), "TMD": (20, 1)},
                    [.45, .08, .04, .15, .16, .04, .04, .012, .012, .006, .006, .004],
                    [.04, .01, .01, .62, .20, .04, .07, .002, .002, .001, .002, .003],
                    [.12, .03, .03], [.05, .10, .04], {"DGT": 7, "DTL": 7, "SON": 25}, (800, 1500), 0.65),
    "rural": Profile((140, 60), (3, 3), 1000, {**_AGRI, "RES": (16, 1), "TMD": (24, 1)},
                     [.50, .07, .02, .12, .16, .04, .04, .012, .012, .006, .006, .004],
                     [.05, .005, .005, .62, .17, .04, .09, .001, .002, .001, .002, .003],
                     [.10, .04, .03], [.04, .12, .04], {"DGT": 5, "DTL": 8, "SON": 25}, (900, 1800), 0.6),
    "orchard": Profile((120, 55), (3, 3), 1000, {**_AGRI, "RES": (15, 1), "TMD": (22, 1)},
                       [.48, .07, .01, .06, .28, .04, .02, .012, .012, .006, .006, .004],
                       [.06, .005, .005, .28, .52, .05, .06, .001, .002, .001, .002, .003],
                       [.10, .05, .03], [.04, .14, .04], {"DGT": 5, "DTL": 7, "SON": 22}, (700, 1400), 0.6),
}


# Fill factors (share of the sub-cell a lot covers) along / across the block.
FILL = {"RES": ((.93, .99), (.86, .97)), "TMD": ((.90, .98), (.85, .97)),
        "SKC": ((.85, .97), (.85, .97))}
FILL_DEFAULT = ((.86, .97), (.88, .98))
FILL_PUBLIC = ((.80, .95), (.80, .95))
PUBLIC = ("TSC", "DGD", "DYT", "TON", "NTD")
