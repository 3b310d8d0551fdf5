#!/usr/bin/python3
"""Host side of a VM scenario: talk to the guest started by vm-run through WORKDIR.

  qmp.py WORKDIR wait-for TEXT [SECONDS]  wait until the guest's vm_event wrote TEXT (a whole line)
  qmp.py WORKDIR say TEXT                 tell the guest (its vm_wait_host TEXT returns)
  qmp.py WORKDIR plug IMAGE [ID]          hot-plug IMAGE as a USB stick (usb-storage on qemu-xhci)
  qmp.py WORKDIR yank [ID]                pull the stick out, as a person would
"""
import json
import os
import socket
import sys
import time


def wait_for(work, text, seconds):
    deadline = time.monotonic() + seconds
    path = os.path.join(work, "events")
    while time.monotonic() < deadline:
        try:
            with open(path) as events:
                if text in events.read().splitlines():
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    sys.exit(f"qmp.py: timed out after {seconds}s waiting for the guest to say {text!r}")


def say(work, text):
    with open(os.path.join(work, "host-events"), "a") as events:
        events.write(text + "\n")


class Qmp:
    def __init__(self, work):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(os.path.join(work, "qmp.sock"))
        self.stream = self.sock.makefile("rw")
        self.stream.readline()  # greeting
        self.events = []
        self.execute("qmp_capabilities")

    def execute(self, name, **arguments):
        self.stream.write(json.dumps({"execute": name, "arguments": arguments}) + "\n")
        self.stream.flush()
        while True:
            reply = json.loads(self.stream.readline())
            if "error" in reply:
                sys.exit(f"qmp.py: {name} failed: {reply['error']}")
            if "return" in reply:
                return reply["return"]
            self.events.append(reply)

    def wait_event(self, name, seconds):
        self.sock.settimeout(seconds)
        while not any(event.get("event") == name for event in self.events):
            self.events.append(json.loads(self.stream.readline()))
        self.sock.settimeout(None)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    work, verb, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if verb == "wait-for":
        wait_for(work, args[0], float(args[1]) if len(args) > 1 else 300)
    elif verb == "say":
        say(work, args[0])
    elif verb == "plug":
        ident = args[1] if len(args) > 1 else "stick0"
        qmp = Qmp(work)
        qmp.execute("blockdev-add", driver="raw", **{"node-name": ident + "-disk"},
                    file={"driver": "file", "filename": os.path.abspath(args[0])})
        qmp.execute("device_add", driver="usb-storage", id=ident, drive=ident + "-disk",
                    bus="xhci.0", removable=True)
    elif verb == "yank":
        ident = args[0] if args else "stick0"
        qmp = Qmp(work)
        qmp.execute("device_del", id=ident)
        qmp.wait_event("DEVICE_DELETED", 30)
        qmp.execute("blockdev-del", **{"node-name": ident + "-disk"})  # so the stick can come back
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
