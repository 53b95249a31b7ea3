"""EDTF dates: the latest possible day, calendar checks, and the fast path held to the library."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from coopledger.events.dates import DateError, _bounds, _library_bounds, _parse, _plain_bounds, parse_edtf
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("text", "day", "earliest", "latest"),
    [
        ("2024-03-19", "2024-03-19", "2024-03-19", "2024-03-19"),
        ("2017-05", "2017-05-31", "2017-05-01", "2017-05-31"),
        ("2019", "2019-12-31", "2019-01-01", "2019-12-31"),
        ("2019-41", "2019-12-31", "2019-07-01", "2019-12-31"),  # second half of 2019
        ("2017-06-29/2017-06-30", "2017-06-29", "2017-06-29", "2017-06-30"),
        ("2012~", "2012-12-31", "2012-01-01", "2012-12-31"),
        ("2024-02", "2024-02-29", "2024-02-01", "2024-02-29"),
        ("2011-07/2012-06", "2011-07-31", "2011-07-01", "2012-06-30"),
        ("199X", "1999-12-31", "1990-01-01", "1999-12-31"),
        ("2012-05-03?", "2012-05-03", "2012-05-03", "2012-05-03"),
    ],
)
def test_a_value_has_a_latest_possible_day(text: str, day: str, earliest: str, latest: str) -> None:
    value = parse_edtf(text)
    assert (value.text, value.day, value.earliest, value.latest) == (
        text,
        date.fromisoformat(day),
        date.fromisoformat(earliest),
        date.fromisoformat(latest),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2019-02-29", "is not a calendar date"),
        ("2019-13-45", "is not an EDTF date"),
        ("2019-13", "is not an EDTF date"),
        ("1994/..", "open interval"),
        ("1994/", "open interval"),
        ("../1994", "open interval"),
        ("2017-06-30/2017-06-29", "ends before it starts"),
        ("0000", "outside the calendar"),
        ("", "an EDTF date is required"),
        (" 2019", "white space"),
        ("[2012,2013]", "is a set of dates"),
        ("yesterday", "is not an EDTF date"),
        # forms the edtf library half-recognises, then fails on with an AttributeError
        ("2019-0X-00", "is not an EDTF date"),
        ("0000-0X", "is not an EDTF date"),
        ("2019²", "is not an EDTF date"),  # a digit to str.isdigit, not to int()
    ],
)
def test_bad_dates_are_refused_with_a_reason(
    text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(DateError, match=message):
        parse_edtf(text)
    assert capsys.readouterr().out == ""  # nothing of the library's on standard output


def test_refusing_a_date_leaves_standard_output_to_the_other_threads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`serve` answers in threads: while one reads a date the library half-recognises, what
    another prints must still reach standard output (no swapping of sys.stdout)."""

    def refuse_many() -> None:
        for year in range(1001, 1101):  # each a new text, read by the library (not the cache)
            with pytest.raises(DateError):
                _parse(f"{year}-0X-00")

    refusing = threading.Thread(target=refuse_many)
    refusing.start()
    printed = 0
    while refusing.is_alive():
        print(printed)
        printed += 1
    refusing.join()
    assert capsys.readouterr().out.split() == [str(line) for line in range(printed)]


def test_dates_print_as_entered() -> None:
    assert str(parse_edtf("2019-41")) == "2019-41"
    assert parse_edtf("2019-41").is_precise is False
    assert parse_edtf("2024-03-19").is_precise is True


plain_dates = st.builds(
    lambda year, month, day, qualifier: (
        year + (f"-{month}" if month else "") + (f"-{day}" if month and day else "") + qualifier
    ),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.one_of(st.none(), st.from_regex(r"[0-9]{2}", fullmatch=True)),
    st.one_of(st.none(), st.from_regex(r"[0-9]{2}", fullmatch=True)),
    st.sampled_from(["", "~", "?", "%"]),
)


def _outcome(bounds):  # type: ignore[no-untyped-def]
    try:
        return bounds()
    except DateError:
        return "refused"


@settings(max_examples=300, deadline=None)
@given(plain_dates)
def test_the_fast_path_agrees_with_the_edtf_library(text: str) -> None:
    """Every plain year, month or day the fast path answers, the library answers the same."""
    import re

    plain = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?[~?%]?", text)
    assert plain
    if plain[2] is not None and not "01" <= plain[2] <= "12":
        return  # seasons and invalid months go to the library anyway
    assert _outcome(lambda: _plain_bounds(text, *plain.groups())) == _outcome(lambda: _library_bounds(text))


@settings(max_examples=500, deadline=None)
@given(st.from_regex(r"[0-9X]{4}-[0-9X]{2}-[0-9X]{2}", fullmatch=True) | st.text(min_size=10, max_size=10))
def test_a_day_read_in_c_is_the_day_the_regular_expressions_read(text: str) -> None:
    """YYYY-MM-DD goes to `date.fromisoformat` first: the same day, or the same refusal."""
    _parse.cache_clear()
    parsed = _outcome(lambda: parse_edtf(text))
    expected = _outcome(lambda: _bounds(text))
    if parsed == "refused" or expected == "refused":
        assert parsed == expected or "/" in text or text[0] in "[{" or text != "".join(text.split())
    else:
        assert (parsed.text, parsed.earliest, parsed.latest) == (text, *expected)
        assert parsed.day == parsed.latest


@pytest.mark.parametrize("code", range(21, 42))
@pytest.mark.parametrize("year", ["2019", "2020", "0001", "9999"])
def test_seasons_agree_with_the_edtf_library(year: str, code: int) -> None:
    assert _bounds(f"{year}-{code}") == _library_bounds(f"{year}-{code}")


unspecified_dates = st.builds(
    lambda year, month, day, qualifier: (
        year + (f"-{month}" if month else "") + (f"-{day}" if month and day else "") + qualifier
    ),
    st.from_regex(r"[0-9X]{4}", fullmatch=True),
    st.one_of(st.none(), st.sampled_from(["XX", "01", "02", "07", "12", "13"])),
    st.one_of(st.none(), st.sampled_from(["XX", "05", "31"])),
    st.sampled_from(["", "~", "?"]),
)


@settings(max_examples=300, deadline=None)
@given(unspecified_dates)
def test_unspecified_digits_agree_with_the_edtf_library(text: str) -> None:
    assert _outcome(lambda: _bounds(text)) == _outcome(lambda: _library_bounds(text))


@settings(max_examples=200, deadline=None)
@given(plain_dates, plain_dates)
def test_intervals_of_plain_dates_are_intervals_to_the_library_too(start: str, end: str) -> None:
    """The fast path skips the library for such intervals: it would accept them all."""
    from coopledger.events.dates import _library_parse

    try:
        value = parse_edtf(f"{start}/{end}")
    except DateError:
        return
    _library_parse(value.text)
    assert value.day == parse_edtf(start).day and value.latest == parse_edtf(end).latest
