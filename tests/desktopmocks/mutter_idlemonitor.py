'''python-dbusmock template: Mutter's org.gnome.Mutter.IdleMonitor (dbusmock has none).

The test plays the user: SimulateIdle() fires every idle watch, as Mutter does when the idle
time crosses a watch's interval; SimulateActivity() fires (and drops) every user-active watch.
WatchCount() says how many watches clients hold, IdleIntervals() their idle intervals.
'''

import dbus

from dbusmock import MOCK_IFACE

BUS_NAME = 'org.gnome.Mutter.IdleMonitor'
MAIN_OBJ = '/org/gnome/Mutter/IdleMonitor/Core'
MAIN_IFACE = 'org.gnome.Mutter.IdleMonitor'
SYSTEM_BUS = False


def load(mock, _parameters):
    mock.watches = {}  # id -> interval in ms, 0 for a user-active watch
    mock.next_watch = 1
    mock.AddMethods(MAIN_IFACE, [
        ('GetIdletime', '', 't', 'ret = dbus.UInt64(0)'),
        ('AddIdleWatch', 't', 'u',
         'ret = dbus.UInt32(self.next_watch); self.watches[self.next_watch] = int(args[0]); self.next_watch += 1'),
        ('AddUserActiveWatch', '', 'u',
         'ret = dbus.UInt32(self.next_watch); self.watches[self.next_watch] = 0; self.next_watch += 1'),
        ('RemoveWatch', 'u', '', 'self.watches.pop(int(args[0]), None)'),
    ])


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='')
def SimulateIdle(self):
    for watch, interval in list(self.watches.items()):
        if interval > 0:
            self.EmitSignal(MAIN_IFACE, 'WatchFired', 'u', [dbus.UInt32(watch)])


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='')
def SimulateActivity(self):
    for watch, interval in list(self.watches.items()):
        if interval == 0:
            del self.watches[watch]
            self.EmitSignal(MAIN_IFACE, 'WatchFired', 'u', [dbus.UInt32(watch)])


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='u')
def WatchCount(self):
    return dbus.UInt32(len(self.watches))


@dbus.service.method(MOCK_IFACE, in_signature='', out_signature='at')
def IdleIntervals(self):
    return dbus.Array([dbus.UInt64(v) for v in self.watches.values() if v > 0], signature='t')
