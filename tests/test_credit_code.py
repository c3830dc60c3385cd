import random

import pytest

from graph.credit_code import ALPHABET, InvalidCreditCode, check_character, validate_credit_code


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91430100MA4L00001J", " 91350100m000100y43 "])
def test_valid_codes_are_normalised(code: str) -> None:
    assert validate_credit_code(code) == code.strip().upper()


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y433", "18 characters"),
        ("91350100M0001O0Y43", "not allowed"),  # letter O is not in the alphabet
        ("91350100M000100Y44", "check character"),
        ("", "18 characters"),
    ],
)
def test_invalid_codes_say_why(code: str, reason: str) -> None:
    with pytest.raises(InvalidCreditCode, match=reason):
        validate_credit_code(code)


def test_every_single_character_change_is_caught() -> None:
    rng = random.Random(7)
    for _ in range(200):
        body = "".join(rng.choice(ALPHABET) for _ in range(17))
        code = body + check_character(body)
        assert validate_credit_code(code) == code
        position = rng.randrange(17)
        changed = ALPHABET[(ALPHABET.index(code[position]) + rng.randrange(1, 31)) % 31]
        with pytest.raises(InvalidCreditCode):
            validate_credit_code(code[:position] + changed + code[position + 1 :])
