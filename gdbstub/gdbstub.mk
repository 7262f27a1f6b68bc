# The gdbstub library's host tests. Included by the top Makefile, which
# builds build/host/<name> from <name>_SRCS and runs it under tests/run.
# (The library itself needs nothing here: the hypervisor build picks up
# gdbstub/*.c by wildcard.)
GDBSTUB_SRCS := $(wildcard gdbstub/*.c)

HOST_TESTS += test_gdbstub
test_gdbstub_SRCS := tests/host/test_gdbstub.c tests/host/fake_target.c $(GDBSTUB_SRCS)

# The stub against a real gdb-multiarch over a pipe (SKIPs without gdb).
HOST_TESTS += test_gdbstub_gdb
test_gdbstub_gdb_SRCS := tests/host/test_gdbstub_gdb.c tests/host/fake_target.c $(GDBSTUB_SRCS)
