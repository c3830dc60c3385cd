import pytest

from graph.errors import InvalidArgument
from graph.query import Page
from schema.pagination import MAX_PAGE, cursor_at, offset_after, page_info, page_size
from tests.conftest import LiveServer


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


@pytest.mark.parametrize("field", ["enterprises", "organizations"])
def test_connections_follow_the_relay_convention(demo_server: LiveServer, field: str) -> None:
    key = "creditCode" if field == "enterprises" else "id"
    query = f"""query($after: String) {{ {field}(first: 3, after: $after) {{ nodes {{ {key} }}
        edges {{ cursor node {{ {key} }} }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"""
    first = demo_server.query(query)["data"][field]
    assert [e["node"] for e in first["edges"]] == first["nodes"]
    info = first["pageInfo"]
    assert (info["hasPreviousPage"], info["startCursor"], info["endCursor"]) == (
        False, first["edges"][0]["cursor"], first["edges"][-1]["cursor"],
    )  # fmt: skip
    after_one = demo_server.query(query, {"after": first["edges"][0]["cursor"]})["data"][field]
    assert after_one["nodes"][:2] == first["nodes"][1:] and after_one["pageInfo"]["hasPreviousPage"] is True
