"""`python -m card_callback.load_process`: the process `card-callback load` runs in, with Locust loaded first."""

# isort: skip_file
# Locust patches the standard library with gevent on import: it must come before anything imports ssl.
from contract_tests.load import locust_adapter  # noqa: F401
from card_callback.load import load

if __name__ == "__main__":
    load.main(prog_name="card-callback load")
