#!/usr/bin/env bash
# The GDB integration tests (gdb.sh) again, with the stub on a 16550 UART instead
# of the default virtio console: the kind of debug line a real board has.
exec bash "$(dirname "$0")/gdb.sh" --debug-line 16550
