import pytest

from service_common import orgnr


@pytest.mark.parametrize(
    "country,raw,canonical",
    [
        ("NO", "976 030 788", "976030788"),
        ("SE", "556036-0793", "5560360793"),
        ("DK", "13585628", "13585628"),
        ("GB", "445790", "00445790"),
        ("GB", "sc123456", "SC123456"),
    ],
)
def test_valid_numbers_are_normalised(country, raw, canonical):
    assert orgnr.normalise(country, raw) == canonical


@pytest.mark.parametrize("country,raw", [("NO", "976030789"), ("SE", "5560360794"), ("DK", "13585629"), ("GB", "ABC")])
def test_bad_check_digits_and_shapes_are_refused_with_a_reason(country, raw):
    with pytest.raises(ValueError) as info:
        orgnr.normalise(country, raw)
    assert str(info.value)
