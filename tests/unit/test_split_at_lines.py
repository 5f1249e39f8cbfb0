"""One way to cut a long message for platforms with a length limit (WhatsApp, SMS)."""

from core.rendering import split_at_lines


def test_a_short_text_is_one_part() -> None:
    assert split_at_lines("Hello", 10) == ["Hello"]


def test_long_text_is_cut_at_line_breaks_and_no_part_is_over_the_limit() -> None:
    text = "first line\nsecond line\nthird"
    parts = split_at_lines(text, 12)
    assert parts == ["first line", "second line", "third"]
    assert all(len(p) <= 12 for p in parts)


def test_a_line_longer_than_the_limit_is_cut_within_and_nothing_is_lost() -> None:
    parts = split_at_lines("x" * 25 + "\nend", 10)
    assert parts == ["x" * 10, "x" * 10, "xxxxx\nend"]  # the rest of the long line shares a part with the next


def test_no_part_is_blank() -> None:
    assert split_at_lines("a" * 8 + "\n\n\n\n" + "b" * 8, 9) == ["a" * 8, "b" * 8]
