"""Where a registry gives a municipality code, the region it lies in, by the
countries' own code lists: Norway's fylke (the first two digits of the
kommunenummer; 2024 fylker plus the 2020-2023 ones still found in older
rows), Denmark's five regions (by kommunekode). Sweden's registries give no
kommun for a company's seat in the data we read, and the UK's give the county
or region as text: those are taken as written.
"""
from __future__ import annotations

NO_FYLKER = {
    "03": "Oslo", "11": "Rogaland", "15": "Møre og Romsdal", "18": "Nordland", "30": "Viken",
    "31": "Østfold", "32": "Akershus", "33": "Buskerud", "34": "Innlandet", "38": "Vestfold og Telemark",
    "39": "Vestfold", "40": "Telemark", "42": "Agder", "46": "Vestland", "50": "Trøndelag",
    "54": "Troms og Finnmark", "55": "Troms", "56": "Finnmark",
}

_DK = {
    "Region Hovedstaden": (101, 147, 151, 153, 155, 157, 159, 161, 163, 165, 167, 169, 173, 175, 183, 185, 187,
                           190, 201, 210, 217, 219, 223, 230, 240, 250, 260, 270, 400, 411),
    "Region Sjælland": (253, 259, 265, 269, 306, 316, 320, 326, 329, 330, 336, 340, 350, 360, 370, 376, 390),
    "Region Syddanmark": (410, 420, 430, 440, 450, 461, 479, 480, 482, 492, 510, 530, 540, 550, 561, 563, 573,
                          575, 580, 607, 621, 630),
    "Region Midtjylland": (615, 657, 661, 665, 671, 706, 707, 710, 727, 730, 740, 741, 746, 751, 756, 760, 766,
                           779, 791),
    "Region Nordjylland": (773, 787, 810, 813, 820, 825, 840, 846, 849, 851, 860),
}
DK_REGIONS = {code: region for region, codes in _DK.items() for code in codes}


def no_fylke(kommunenummer) -> str | None:
    code = str(kommunenummer or "").strip()
    return NO_FYLKER.get(code[:2]) if len(code) == 4 and code.isdigit() else None


def dk_region(kommunekode) -> str | None:
    try:
        return DK_REGIONS.get(int(kommunekode))
    except (TypeError, ValueError):
        return None
