"""`fusion-tui eval council`: run a coding-agent CLI on verifiable tasks through one proxy per
arm (solo, council, self, or a user's overlay) and report whether the council paid its way.

This package drives processes (the proxy, the agent CLI, each task's check command) and reads
the proxy's session recordings; it imports nothing from the engine but the config schema and
the recording reader."""
