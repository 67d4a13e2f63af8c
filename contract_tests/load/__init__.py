"""Load mode of the contract suite: unique signed callbacks at Vipps's concurrency, each answer judged."""
