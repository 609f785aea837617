"""Land-use code lists: the national one the merged city layer speaks, and each sample district's own.

The national list is the classification of Thông tư 08/2024/TT-BTNMT (land statistics and inventory, under the
2024 Land Law), restricted to the codes a Cần Thơ district uses. It is the one source of `ten_loai_dat` in the
merge spec (config/merges/cantho-land-use.yml) and of the Ninh Kiều sample register's names.

The district lists are what the synthetic offices "use": Bình Thủy writes the full Vietnamese name, Cái Răng an
English code of its own, Phong Điền the 2014 list (Thông tư 28/2014/TT-BTNMT). Each maps onto a national code.
"""

NATIONAL = {  # code -> Vietnamese name (TT 08/2024/TT-BTNMT)
    "LUA": "Đất trồng lúa",
    "HNK": "Đất trồng cây hằng năm khác",
    "CLN": "Đất trồng cây lâu năm",
    "NTS": "Đất nuôi trồng thủy sản",
    "NKH": "Đất nông nghiệp khác",
    "ONT": "Đất ở tại nông thôn",
    "ODT": "Đất ở tại đô thị",
    "TSC": "Đất xây dựng trụ sở cơ quan",
    "CQP": "Đất quốc phòng",
    "DVH": "Đất xây dựng cơ sở văn hóa",
    "DYT": "Đất xây dựng cơ sở y tế",
    "DGD": "Đất xây dựng cơ sở giáo dục và đào tạo",
    "DTT": "Đất xây dựng cơ sở thể dục, thể thao",
    "SKK": "Đất khu công nghiệp",
    "TMD": "Đất thương mại, dịch vụ",
    "SKC": "Đất cơ sở sản xuất phi nông nghiệp",
    "DGT": "Đất giao thông",
    "DTL": "Đất thủy lợi",
    "DCH": "Đất chợ",
    "TON": "Đất tôn giáo",
    "NTD": "Đất nghĩa trang, nhà tang lễ, cơ sở hỏa táng",
    "SON": "Đất có mặt nước sông, ngòi, kênh, rạch",
    "MNC": "Đất có mặt nước chuyên dùng",
    "CSD": "Đất chưa sử dụng",
}

# Bình Thủy (Shapefile, TCVN3): the office writes the purpose in full, in its own words.
BINH_THUY = {
    "Đất ở tại đô thị": "ODT",
    "Đất thương mại, dịch vụ": "TMD",
    "Đất trồng cây lâu năm": "CLN",
    "Đất trồng lúa": "LUA",
    "Đất nuôi trồng thủy sản": "NTS",
    "Đất khu công nghiệp": "SKK",
    "Đất cơ sở sản xuất phi nông nghiệp": "SKC",
    "Đất quốc phòng": "CQP",
    "Đất giao thông": "DGT",
    "Đất thủy lợi": "DTL",
    "Đất sông, ngòi, kênh, rạch": "SON",
    "Đất xây dựng cơ sở giáo dục và đào tạo": "DGD",
    "Đất cơ sở tôn giáo": "TON",
    "Đất chưa sử dụng": "CSD",
}

# Cái Răng (GeoPackage, WGS 84): an English code list of the district's own.
CAI_RANG = {
    "RES-URBAN": "ODT",
    "RES-RURAL": "ONT",
    "RICE": "LUA",
    "ANNUAL": "HNK",
    "PERENNIAL": "CLN",
    "AQUACULTURE": "NTS",
    "WATER": "SON",
    "ROAD": "DGT",
    "IRRIGATION": "DTL",
    "COMMERCIAL": "TMD",
    "INDUSTRY": "SKK",
    "MARKET": "DCH",
    "SCHOOL": "DGD",
    "HEALTH": "DYT",
    "CEMETERY": "NTD",
    "VACANT": "CSD",
}

# Phong Điền (GeoJSON, VN-2000): the 2014 list (TT 28/2014/TT-BTNMT), before rice land became one code.
PHONG_DIEN_2014 = {
    "LUC": "LUA",  # đất chuyên trồng lúa nước
    "LUK": "LUA",  # đất trồng lúa nước còn lại
    "HNK": "HNK",
    "CLN": "CLN",
    "NTS": "NTS",
    "ONT": "ONT",
    "ODT": "ODT",
    "DGT": "DGT",
    "DTL": "DTL",
    "SON": "SON",
    "DCH": "DCH",
    "DGD": "DGD",
    "TON": "TON",
    "NTD": "NTD",
    "SKC": "SKC",
    "TMD": "TMD",
    "BCS": "CSD",  # đất bằng chưa sử dụng
}


def national_name(code: str) -> str:
    """The Vietnamese name of a national code (KeyError names the code if it is not on the list)."""
    return NATIONAL[code]
