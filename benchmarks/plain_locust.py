"""The load generator's baseline: plain Locust (FastHttpUser, headless) posting one fixed body as fast as it can.

    python benchmarks/plain_locust.py URL SECONDS USERS    # one JSON line: requests, seconds, rps, cpu_seconds
"""

from __future__ import annotations

# isort: skip_file
import locust  # noqa: F401 - gevent patches the standard library first, as in any Locust process

import json
import sys
import time
from pathlib import Path

import gevent
from locust import FastHttpUser, constant, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from callback_core.spec import Contract  # noqa: E402


def main() -> int:
    url, seconds, users = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    body = json.dumps(Contract.from_file().request_examples()["tokenCallback"]).encode()
    headers = {"Content-Type": "application/json"}
    count = 0

    class Plain(FastHttpUser):
        wait_time = constant(0)

        @task
        def post(self) -> None:
            nonlocal count
            self.client.post("/" + path, data=body, headers=headers)
            count += 1

    environment = Environment(user_classes=[Plain], host=f"{scheme}://{host}")
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(1.0)  # ramp-up, not measured
    first, started, cpu = count, time.monotonic(), time.process_time()
    gevent.sleep(seconds)
    done, elapsed, cpu = count - first, time.monotonic() - started, time.process_time() - cpu
    runner.quit()
    print(json.dumps({"requests": done, "seconds": elapsed, "rps": done / elapsed, "cpu_seconds": cpu,
                      "failures": environment.stats.total.num_failures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
