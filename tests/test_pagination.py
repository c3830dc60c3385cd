import pytest

from graph.errors import InvalidArgument
from graph.query import Page
from schema.pagination import MAX_PAGE, cursor_at, offset_after, page_info, page_size


@pytest.mark.parametrize("offset", [0, 1, 99, 12_345])
def test_a_cursor_leads_to_the_next_item(offset: int) -> None:
    assert offset_after(cursor_at(offset)) == offset + 1


def test_no_cursor_starts_at_the_beginning() -> None:
    assert offset_after(None) == 0


@pytest.mark.parametrize("cursor", ["garbage", cursor_at(3)[:-2], "b2Zmc2V0Oi0x"])  # the last is "offset:-1"
def test_foreign_cursors_are_rejected(cursor: str) -> None:
    with pytest.raises(InvalidArgument, match="not a cursor"):
        offset_after(cursor)


@pytest.mark.parametrize("first", [-1, MAX_PAGE + 1])
def test_page_size_is_bounded(first: int) -> None:
    with pytest.raises(InvalidArgument):
        page_size(first)


def test_page_info() -> None:
    assert page_info(Page(["a", "b"], total=5, offset=2)).end_cursor == cursor_at(3)
    assert page_info(Page(["a", "b"], total=5, offset=2)).has_next_page
    assert page_info(Page([], total=0, offset=0)).end_cursor is None
