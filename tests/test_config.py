"""chainorg.toml: rules and limits, refused loudly when wrong."""

from pathlib import Path

import pytest

from config import Config, read_config
from graph.compliance import ConfigInvalid, RuleCode


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chainorg.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_absent_keys_keep_their_defaults(tmp_path: Path) -> None:
    config = read_config(written(tmp_path, "[rules.MUST_BUILD]\nmin_employees = 30\n[limits]\nmax_cost = 5000\n"))
    assert config.rules.setting(RuleCode.MUST_BUILD)["min_employees"] == 30
    assert config.rules.setting(RuleCode.MUST_BUILD)["min_formal_members"] == 3
    assert (config.limits.max_cost, config.limits.max_depth) == (5000, Config().limits.max_depth)


def test_an_empty_file_is_the_defaults(tmp_path: Path) -> None:
    assert read_config(written(tmp_path, "")) == Config()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rule]\n", "[rule]: no such section"),
        ("rules = 3\n", "rules: must be a table"),
        ("[rules.NOPE]\n", "rules.NOPE: no such rule"),
        ("[rules.JOINT_TOO_WIDE]\nmax_units = -2\n", "rules.JOINT_TOO_WIDE.max_units: must not be negative"),
        ("[limits]\nmax_cost = 0\n", "limits.max_cost: must be a positive whole number, got 0"),
        ('[limits]\ntimeout = "30"\n', "limits.timeout: must be a positive number of seconds"),
        ("[limits]\nmax_costs = 1\n", "limits.max_costs: no such limit"),
        ("[limits]\ntimeout = nan\n", "limits.timeout: must be a positive number of seconds"),
        ("[limits]\ntimeout = inf\n", "limits.timeout: must be a positive number of seconds"),
        ("[limits]\ntimeout = 100000\n", "up to 3600"),
        ("[limits\n", "not valid TOML"),
    ],
)
def test_an_invalid_file_names_itself_the_key_and_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = written(tmp_path, text)
    with pytest.raises(ConfigInvalid) as refused:
        read_config(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid, match="does not exist"):
        read_config(tmp_path / "nope.toml")
