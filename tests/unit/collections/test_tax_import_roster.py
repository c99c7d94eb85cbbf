"""When the importer reads the whole county roster instead of looking persons up chunk by chunk."""

from collections_app.tax_import import roster


def test_small_files_never_read_the_roster():
    assert not roster.large_enough(1_000_000)  # ~10,000 rows at most
    assert not roster.worth_reading(size=1_000_000, county_persons=0)


def test_a_county_file_reads_it_a_township_file_does_not():
    county = 600_000
    assert roster.worth_reading(size=35_000_000, county_persons=county)  # 600,000 rows of xlsx
    assert not roster.worth_reading(size=6_000_000, county_persons=county)  # ~100,000 rows
    assert roster.worth_reading(size=6_000_000, county_persons=100_000)  # the same file in a small county
