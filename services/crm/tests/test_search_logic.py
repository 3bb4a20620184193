"""Unit tests of the plain search helpers (no broker, no database)."""
from service_common import text


def test_fold_handles_nordic_letters_and_accents():
    assert text.fold("Østfold Bygg AS") == "ostfold bygg as"
    assert text.words("Ærø Maskinfabrik ApS") == ["aero", "maskinfabrik", "aps"]
    assert text.words("Göteborgs Åkeri AB") == ["goteborgs", "akeri", "ab"]


def test_digit_groups_join_so_formatted_org_numbers_match():
    assert text.words("976 030 788") == ["976030788"]
    assert text.words("556677-1234") == ["5566771234"]


def test_prefix_range_covers_exactly_the_prefix():
    low, high = text.prefix_range("ostf")
    assert low <= "ostfold" < high
    assert not (low <= "ostg" < high)
    assert not (low <= "ost" < high)
