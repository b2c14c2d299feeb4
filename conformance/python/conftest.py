"""pytest setup of the Python runner: harness on the path, and the summary line.

At the end of the session prints `python: N passed, M failed` over the
vector cases (tests named test_vector[...]), as every runner does.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "model"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

_counts = {"passed": 0, "failed": 0}


def pytest_runtest_logreport(report):
    if "::test_vector[" not in report.nodeid:
        return
    if report.when == "call":
        _counts["passed" if report.passed else "failed"] += 1
    elif report.failed or report.skipped:  # an error in setup/teardown, or a skip: a failure
        _counts["failed"] += 1


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"python: {_counts['passed']} passed, {_counts['failed']} failed")


def pytest_sessionfinish(session, exitstatus):
    # a skipped vector is a failure, never a pass
    if _counts["failed"] and session.exitstatus == 0:
        session.exitstatus = 1
