"""`Decision` in a `match` statement (Python 3.10+; conftest skips this file before)."""

import tessera


def test_decision_matches_positionally() -> None:
    d = tessera.Decision(True, "allowed", "read_device", "role:viewer")
    match d:
        case tessera.Decision(True, reason, rule, source):
            assert (reason, rule, source) == ("allowed", "read_device", "role:viewer")
        case _:
            raise AssertionError("pattern did not match")
    match tessera.Decision(False, "denied", "!x_device", "grant"):
        case tessera.Decision(allowed=False, reason="denied", source=src):
            assert src == "grant"
        case _:
            raise AssertionError("pattern did not match")
