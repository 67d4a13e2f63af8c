"""The contract suite: generated callbacks sent to a PSP through a transport, judged by coded checks."""
