"""`morningai up`'s supervisor: a child that keeps exiting is restarted with a back-off that
doubles, and never takes its siblings (the web side) down with it."""

import sys
import time

from hub.supervisor import Supervisor


def test_a_child_that_keeps_exiting_is_restarted_with_back_off_and_its_sibling_keeps_running(tmp_path):
    starts = tmp_path / "starts"
    children = Supervisor({})
    try:
        web = children.spawn("web", [sys.executable, "-c", "import time; time.sleep(60)"])
        children.spawn("worker 1", [sys.executable, "-c",
                                    f"import time; open({str(starts)!r}, 'a').write(f'{{time.time()}}\\n'); "
                                    "raise SystemExit(3)"])
        web_pid = web.process.pid
        deadline = time.monotonic() + 20
        while not starts.exists() or len(starts.read_text().splitlines()) < 4:
            assert time.monotonic() < deadline, "the worker was not restarted three times"
            children.check()  # never raises, however often the worker exits
            time.sleep(0.05)
        began = [float(line) for line in starts.read_text().splitlines()]
        gaps = [later - earlier for earlier, later in zip(began, began[1:])]
        # Each restart waits out its back-off after the exit before it: 1 s, 2 s, then 4 s.
        assert [gap >= backoff for gap, backoff in zip(gaps, (1, 2, 4))] == [True] * 3, gaps
        assert web.process.pid == web_pid and web.process.poll() is None
    finally:
        children.stop()
    assert web.process.poll() is not None
