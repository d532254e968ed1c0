"""Security checks: each has a bad-state test and a clean look-alike test on a real server."""
