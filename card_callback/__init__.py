"""The `card-callback` command line: the top layer, on the core, the server, the suite, the simulator."""
