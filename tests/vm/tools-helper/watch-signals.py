#!/usr/bin/python3
# Records every signal of org.coffer.Helper1 objects that reaches this connection, the way any
# local user's program could listen: one line "PATH INTERFACE.MEMBER ARGS" each in OUT. It
# introspects the helper first: the helper sends a user's signals to the connections that user
# has called it from. "listening PID" in OUT says it listens. SIGUSR1: a round trip to the helper
# (Peer.Ping; whatever the helper sent this connection before arrives before the answer), then
# "flushed" and exit.
#
#   watch-signals.py OUT
import os, signal, sys

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
out = open(sys.argv[1], "a", buffering=1)
loop = GLib.MainLoop()


def got(*args, path=None, interface=None, member=None):
    if path and path.startswith("/org/coffer/Helper1"):
        out.write("%s %s.%s %s\n" % (path, interface, member, [str(a) for a in args]))


def flush():
    try:
        bus.call_blocking("org.coffer.Helper1", "/org/coffer/Helper1", "org.freedesktop.DBus.Peer", "Ping", "", (),
                          timeout=60)
    finally:
        out.write("flushed\n")
        loop.quit()
    return False


bus.add_signal_receiver(got, path_keyword="path", interface_keyword="interface", member_keyword="member")
bus.call_blocking("org.coffer.Helper1", "/org/coffer/Helper1", "org.freedesktop.DBus.Introspectable", "Introspect",
                  "", (), timeout=60)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, flush)
out.write("listening %d\n" % os.getpid())
loop.run()
