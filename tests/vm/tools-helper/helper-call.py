#!/usr/bin/python3
# Crafts calls to org.coffer.Helper1 for the helper's VM scenarios, the way a hostile client
# would: any fd (symlink, FIFO, device, read-only, O_PATH), pipes left open, raw messages with a
# file-descriptor index that points nowhere, and a caller that hangs up before the answer.
#
#   helper-call.py [--no-wait] PATH INTERFACE METHOD SIGNATURE ARG...
#   helper-call.py --bad-fd-index METHOD      (Manager.Unlock/CreateVault with index 7 of 1 fd)
#   helper-call.py --flood N DIR RESULTS      N Unlock calls at once on one connection, each with a
#                                             new file DIR/floodI.img and a secret pipe left open;
#                                             one line per reply in RESULTS in the order they come,
#                                             RESULTS.sent once all are sent; the pipes close when
#                                             RESULTS.release appears
#
# ARG syntax (one per signature element):
#   fd:FILE[:MODE]   MODE r | w | rw (default) | path (O_PATH|O_NOFOLLOW) | dir
#   pipe:TEXT        a pipe holding TEXT, write end closed      pipeopen:TEXT  write end left open
#   pipefile:FILE    a pipe holding FILE's bytes, closed
#   t:N u:N s:TEXT o:PATH b:true|false
#   as:A,B,C          list of strings ("as:" = empty)
#   dict:JSON         a{sv}; values: numbers -> u, bools, strings; {"keyfile":"fd:..."} -> h
# Prints "OK <reply>" (exit 0) or "ERROR <name> <message>" (exit 1).
import json, os, socket, struct, sys

import dbus
import dbus.lowlevel

SERVICE = "org.coffer.Helper1"


def open_fd(spec):
    parts = spec.split(":", 2)
    path = parts[1]
    mode = parts[2] if len(parts) > 2 else "rw"
    flags = {"r": os.O_RDONLY, "w": os.O_WRONLY, "rw": os.O_RDWR,
             "path": os.O_PATH | os.O_NOFOLLOW, "dir": os.O_RDONLY | os.O_DIRECTORY}[mode]
    return os.open(path, flags)


def make_pipe(text, close=True):
    r, w = os.pipe()
    os.write(w, text)
    if close:
        os.close(w)
    else:
        make_pipe.keep.append(w)
    return r


make_pipe.keep = []


def arg(spec, sigchar):
    kind, _, rest = spec.partition(":")
    if kind == "fd":
        return dbus.types.UnixFd(open_fd(spec))
    if kind == "pipe":
        return dbus.types.UnixFd(make_pipe(rest.encode()))
    if kind == "pipeopen":
        return dbus.types.UnixFd(make_pipe(rest.encode(), close=False))
    if kind == "pipefile":
        with open(rest, "rb") as f:
            return dbus.types.UnixFd(make_pipe(f.read()))
    if kind == "t":
        return dbus.UInt64(int(rest))
    if kind == "u":
        return dbus.UInt32(int(rest))
    if kind == "s":
        return dbus.String(rest)
    if kind == "o":
        return dbus.ObjectPath(rest)
    if kind == "b":
        return dbus.Boolean(rest == "true")
    if kind == "as":
        return dbus.Array([x for x in rest.split(",") if x], signature="s")
    if kind == "dict":
        d = {}
        for k, v in json.loads(rest).items():
            if isinstance(v, bool):
                d[k] = dbus.Boolean(v)
            elif isinstance(v, int):
                d[k] = dbus.UInt32(v)
            elif isinstance(v, str) and v.startswith(("fd:", "pipe:")):
                d[k] = arg(v, "h")
            elif isinstance(v, list):
                d[k] = dbus.Array(v, signature="s")
            else:
                d[k] = dbus.String(v)
        return dbus.Dictionary(d, signature="sv")
    raise SystemExit("bad argument " + spec)


def split_signature(sig):
    out, i = [], 0
    while i < len(sig):
        if sig[i] == "a" and sig[i + 1] == "{":
            j = sig.index("}", i) + 1
            out.append(sig[i:j]); i = j
        elif sig[i] == "a":
            out.append(sig[i:i + 2]); i += 2
        else:
            out.append(sig[i]); i += 1
    return out


def bad_fd_index(method):
    """A raw Manager call whose 'h' arguments index fd 7 while only one fd travels with it."""
    path = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/run/dbus/system_bus_socket")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path.split("path=", 1)[1].split(",")[0])
    sock.sendall(b"\0AUTH EXTERNAL " + str(os.getuid()).encode().hex().encode() + b"\r\n")
    assert sock.recv(4096).startswith(b"OK")
    sock.sendall(b"NEGOTIATE_UNIX_FD\r\n")
    assert sock.recv(4096).startswith(b"AGREE_UNIX_FD")
    sock.sendall(b"BEGIN\r\n")

    def pad(buf, n):
        return buf + b"\0" * ((-len(buf)) % n)

    def header_field(code, sig, value):
        f = struct.pack("<B", code) + struct.pack("<B", len(sig)) + sig.encode() + b"\0"
        if sig in ("s", "o"):
            f = pad(f, 4) + struct.pack("<I", len(value)) + value.encode() + b"\0"
        elif sig == "g":
            f += struct.pack("<B", len(value)) + value.encode() + b"\0"
        elif sig == "u":
            f = pad(f, 4) + struct.pack("<I", value)
        return f

    serial = [0]

    def message(path, iface, member, dest, sig, body, nfds):
        serial[0] += 1
        fields = [(1, "o", path), (3, "s", member), (6, "s", dest)]
        if iface:
            fields.append((2, "s", iface))
        if sig:
            fields.append((8, "g", sig))
        if nfds:
            fields.append((9, "u", nfds))
        arr = b""
        for code, s, v in fields:
            arr = pad(arr, 8) + header_field(code, s, v)
        head = struct.pack("<cBBBII", b"l", 1, 0, 1, len(body), serial[0]) + struct.pack("<I", len(arr)) + arr
        return pad(head, 8) + body

    sock.sendall(message("/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", "org.freedesktop.DBus", "", b"", 0))
    # The bus's answer to Hello first: the call with its descriptor is the next thing it reads.
    sock.settimeout(60)
    data = b""
    while b"l\x02" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            print("EOF before the answer to Hello")
            return 2
        data += chunk
    # body for "hha{sv}" / "hta{sv}..." : index 7, then index 7 (or size), then empty dict
    if method == "Unlock":
        body = struct.pack("<II", 7, 7) + struct.pack("<I", 0) + b"\0" * 4
        sig = "hha{sv}"
    else:  # CreateVault(h t h a{sv})
        body = struct.pack("<I", 7) + b"\0" * 4 + struct.pack("<Q", 64 << 20) + struct.pack("<I", 7) + struct.pack("<I", 0)
        sig = "htha{sv}"
    msg = message("/org/coffer/Helper1", "org.coffer.Helper1.Manager", method, SERVICE, sig, body, 1)
    r, w = os.pipe()
    sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", r))])
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            print("EOF", data)
            return 2
        data += chunk
        for name in (b"org.coffer.Helper1.Error.", b"org.freedesktop.DBus.Error."):
            i = data.find(name)
            if i >= 0:
                end = data.index(b"\0", i)
                print("ERROR", data[i:end].decode())
                return 1
        if data.count(b"l\x02") >= 2:  # a second method return: the call succeeded?!
            print("OK")
            return 0


def flood(n, directory, results):
    from gi.repository import GLib
    import dbus.mainloop.glib
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    manager = bus.get_object(SERVICE, "/org/coffer/Helper1", introspect=False)
    out = open(results, "a", buffering=1)
    loop = GLib.MainLoop()
    left = [n]

    def answered(line):
        out.write(line + "\n")
        left[0] -= 1
        if left[0] == 0:
            loop.quit()

    for i in range(n):
        path = os.path.join(directory, "flood%d.img" % i)
        with open(path, "wb") as f:
            f.truncate(1 << 20)
        fd = os.open(path, os.O_RDWR)
        secret = make_pipe(b"never closed", close=False)
        manager.Unlock(dbus.types.UnixFd(fd), dbus.types.UnixFd(secret), dbus.Dictionary({}, signature="sv"),
                       dbus_interface="org.coffer.Helper1.Manager", signature="hha{sv}", timeout=600,
                       reply_handler=lambda *reply: answered("OK"),
                       error_handler=lambda e: answered("ERROR %s %s" % (e.get_dbus_name(), e.get_dbus_message())))
        os.close(fd)
        os.close(secret)
    open(results + ".sent", "w").close()

    def release():
        if not os.path.exists(results + ".release"):
            return True
        for w in make_pipe.keep:
            os.close(w)
        make_pipe.keep.clear()
        return False

    GLib.timeout_add(100, release)
    loop.run()
    return 0


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == "--bad-fd-index":
        sys.exit(bad_fd_index(argv[1]))
    if argv and argv[0] == "--flood":
        sys.exit(flood(int(argv[1]), argv[2], argv[3]))
    no_wait = bool(argv) and argv[0] == "--no-wait"
    if no_wait:
        argv = argv[1:]
    path, iface, method, sig = argv[:4]
    sigs = split_signature(sig)
    args = [arg(a, s) for a, s in zip(argv[4:], sigs)]
    bus = dbus.SystemBus()
    if no_wait:
        # Send and hang up at once: a caller that disconnects during the polkit check.
        msg = dbus.lowlevel.MethodCallMessage(SERVICE, path, iface, method)
        msg.append(*args, signature=sig)
        bus.send_message(msg)
        bus.flush()
        os._exit(0)
    try:
        obj = bus.get_object(SERVICE, path, introspect=False)
        reply = getattr(obj, method)(*args, dbus_interface=iface, signature=sig, timeout=600)
        print("OK", reply)
        sys.exit(0)
    except dbus.exceptions.DBusException as e:
        print("ERROR", e.get_dbus_name(), e.get_dbus_message())
        sys.exit(1)


main()
