# vm-boot: systemd
# Two users' sessions on one seat, with real logind (issue 12): alice's is the active one.
#  - A stick plugged in: the helper's MediaAdded reaches alice (its latency from the USB
#    device's uevent is printed); bob, whose connection the helper knows too, hears nothing of it.
#  - `systemctl suspend` with vaults open: the helper, through its logind
#    delay lock, locks before the sleep the vaults whose owners left lock-on-suspend on (alice's
#    on the stick, bob's), leaves open the one unlocked with --stay-open-on-suspend, and a busy
#    one (a program inside it) stays open with LockFailed to alice: it did not block the sleep.
#    bob hears nothing of alice's vaults, alice nothing of bob's.
A=/home/alice
B=/home/bob
LOG=/var/log/coffer-helper.log
PBKDF=(--pbkdf-memory-kib 16384 --pbkdf-iterations 4)
WATCH_SIGNALS="$COFFER_SOURCE_DIR/tests/vm/tools-helper/watch-signals.py"

session_active() { # USER yes|no
    local id
    id=$(loginctl list-sessions --no-legend | awk -v u="$1" '$3 == u {print $1; exit}')
    [ "$(loginctl show-session "$id" -p Active --value)" = "$2" ]
}
watch_has() { grep -q "\"event\":\"$2\".*\"source\":\"$3\"" "$1"; } # LOG EVENT SOURCE (keys come sorted)
BOB_SIG=/var/tmp/bob.sig # where bob may write
# The listener's last act: a round trip to the helper, so that all it was sent has arrived.
flush_bob() {
    kill -USR1 "$(sed -n 's/^listening //p' $BOB_SIG)"
    wait "$BOB_SIGNALS" || true
    grep -qx flushed $BOB_SIG || { dump; vm_fail "bob's listener did not flush"; }
}
dump() { for f in alice.watch $BOB_SIG $LOG; do echo "---- $f"; cat "$f"; done; } >&2
mapper_of() { findmnt -no SOURCE "$1"; }

trap 'cp $LOG alice.watch $BOB_SIG "$VMSHARE/" 2>/dev/null || true' EXIT
vm_step "systemd is init; alice and bob log in on tty2 and tty3; tty2 is in front"
vm_systemd || vm_fail "not booted with systemd"
vm_add_test_users alice bob
vm_install_coffer
mkdir -p /etc/coffer /etc/systemd/logind.conf.d
# The helper stays up (it must be there when the stick comes); logind waits long enough for
# locks under software emulation.
printf '[helper]\nIdleSeconds=0\nLogFile=%s\n' $LOG >/etc/coffer/helper.conf
printf '[Login]\nInhibitDelayMaxSec=30\n' >/etc/systemd/logind.conf.d/coffer-test.conf
# logind, its delay locks and PrepareForSleep are real; the kernel's own sleep is not: a QEMU
# guest under software emulation resets when woken from S3 instead of resuming. The sleep
# itself writes down what is mounted at the moment the machine would go to sleep.
mkdir -p /etc/systemd/system/systemd-suspend.service.d
printf '[Service]\nExecStart=\nExecStart=/bin/sh -c "findmnt -rno TARGET >/run/coffer-test-asleep-mounts"\n' \
    >/etc/systemd/system/systemd-suspend.service.d/coffer-test.conf
systemctl daemon-reload
systemctl restart systemd-logind.service
vm_start_dbus
vm_launch_polkitd
vm_start_udevd
vm_session alice 2
vm_session bob 3
vm_switch_vt 2
vm_wait_until 30 session_active alice yes || { loginctl list-sessions; vm_fail "alice's session is not the active one"; }
session_active bob no || vm_fail "bob's session is active too"
vm_wait_polkitd

vm_step "vaults for both; the helper starts; alice watches, bob listens to every signal the helper sends him"
for u in alice bob; do
    printf "pass-of-$u" >/home/$u/pw
    chown $u:$u /home/$u/pw
done
vm_as alice cofferctl create $A/home.img --size 40M --name home --passphrase-file $A/pw "${PBKDF[@]}"
vm_as alice cofferctl create $A/busy.img --size 40M --name busy --passphrase-file $A/pw "${PBKDF[@]}"
vm_as bob cofferctl create $B/bob.img --size 40M --name bobs --passphrase-file $B/pw "${PBKDF[@]}"
vm_as alice cofferctl watch --json >alice.watch 2>&1 &
vm_as bob "$WATCH_SIGNALS" $BOB_SIG &
BOB_SIGNALS=$!
vm_wait_until 30 watch_has alice.watch helper-subscribed helper || { dump; vm_fail "alice's watch did not reach the helper"; }
vm_wait_until 30 grep -qs '^listening' $BOB_SIG || { dump; vm_fail "bob's listener did not start"; }

vm_step "a stick is plugged in: MediaAdded to alice (the seat's active user), not to bob"
# The kernel's uevents as user space receives them, stamped on CLOCK_MONOTONIC as cofferctl
# watch stamps its events: the plug's latency is measured from the USB device's "add".
udevadm monitor --kernel --subsystem-match=usb --subsystem-match=block >uevents.log &
UEVENTS=$!
vm_wait_until 30 grep -q '^KERNEL - the kernel uevent' uevents.log || vm_fail "udevadm monitor did not start"
vm_event ready-for-stick
vm_wait_until 120 watch_has alice.watch medium-added helper || { dump; vm_fail "no MediaAdded from the helper for alice"; }
kill $UEVENTS
uevent_ms() { sed -n "s/^KERNEL\[\([0-9]*\)\.\([0-9]\{3\}\)[0-9]*\] add .*($1)\$/\1\2/p" uevents.log | head -1; }
event_ms=$(grep '"event":"medium-added".*"source":"helper"' alice.watch | head -1 | sed 's/.*"monotonic-ms":\([0-9]*\).*/\1/')
usb_ms=$(uevent_ms usb) block_ms=$(uevent_ms block)
[ -n "$usb_ms" ] && [ -n "$block_ms" ] || { cat uevents.log; vm_fail "no add uevent for the stick"; }
# Printed, not asserted (the issue asks for 2 s; a time under software emulation proves little).
echo "MediaAdded reached alice $((event_ms - usb_ms)) ms after the USB device's uevent ($((event_ms - block_ms)) ms after its disk's)"
grep '"event":"medium-added".*"source":"helper"' alice.watch | grep -q '"label":"SESSION"' || vm_fail "MediaAdded without the stick's label"

vm_step "alice's vault on the stick, her home vault left open on suspend, a busy one; bob's vault"
DEV=$(blkid -L SESSION)
mkdir -p /media/alice/SESSION
mount -t vfat -o "uid=$(id -u alice),gid=$(id -g alice)" "$DEV" /media/alice/SESSION
vm_as alice cofferctl create /media/alice/SESSION/stick.coffer --size 40M --name stick --passphrase-file $A/pw "${PBKDF[@]}"
STICK_MP=$(vm_as alice cofferctl unlock /media/alice/SESSION/stick.coffer --passphrase-file $A/pw)
HOME_MP=$(vm_as alice cofferctl unlock $A/home.img --passphrase-file $A/pw --stay-open-on-suspend)
BUSY_MP=$(vm_as alice cofferctl unlock $A/busy.img --passphrase-file $A/pw)
BOB_MP=$(vm_as bob cofferctl unlock $B/bob.img --passphrase-file $B/pw)
vm_as alice sh -c "cd '$BUSY_MP' && exec sleep infinity" &
HOLDER=$!
vm_wait_until 30 grep -q '"event":"vault-added".*"name":"busy"' alice.watch || { dump; vm_fail "alice's watch missed her vaults"; }
vm_wait_until 30 grep -q "holding a delay lock on sleep and shutdown" $LOG || { dump; vm_fail "the helper holds no delay lock"; }
systemd-inhibit --list --no-pager | grep -qE 'Coffer.*(sleep:shutdown|shutdown:sleep).*delay' || { systemd-inhibit --list --no-pager; vm_fail "logind lists no delay lock of Coffer's"; }
STICK_PATH=$(grep '"event":"vault-added".*"name":"stick"' alice.watch | sed 's/.*"vault":"\([^"]*\)".*/\1/')
BUSY_PATH=$(grep '"event":"vault-added".*"name":"busy"' alice.watch | sed 's/.*"vault":"\([^"]*\)".*/\1/')

vm_step "systemctl suspend (logind's real sleep protocol; the kernel's sleep stands in)"
systemctl suspend
vm_wait_until 120 test -e /run/coffer-test-asleep-mounts || { dump; journalctl -b --no-pager | tail -40; vm_fail "the system never went to sleep"; }
vm_wait_until 60 grep -q "^.*resumed" $LOG || { dump; vm_fail "the helper did not see the resume"; }
grep -qxF "$STICK_MP" /run/coffer-test-asleep-mounts && vm_fail "the stick vault was still mounted when the system went to sleep"
grep -qxF "$BOB_MP" /run/coffer-test-asleep-mounts && vm_fail "bob's vault was still mounted when the system went to sleep"
grep -qxF "$BUSY_MP" /run/coffer-test-asleep-mounts || vm_fail "the busy vault was not there when the system went to sleep"

vm_step "locked before the sleep: alice's stick vault and bob's; the one left open and the busy one are open"
sed -n '/suspend coming/,/suspend may go on/p' $LOG >sleep.log
cat sleep.log
grep -q "locked $STICK_PATH (suspend)" sleep.log || { dump; vm_fail "the stick vault was not locked before the sleep"; }
[ "$(grep -c 'locked /org/coffer/Helper1/vault/.* (suspend)' sleep.log)" = 2 ] || { dump; vm_fail "not exactly alice's stick vault and bob's were locked"; }
grep -q "left open, as its owner asked" sleep.log || vm_fail "the vault left open on suspend is not noted"
grep -q "before suspend: $BUSY_PATH (uid $(id -u alice)) stays open: .*in use" sleep.log || { dump; vm_fail "the busy vault is not noted"; }
findmnt "$STICK_MP" >/dev/null && vm_fail "the stick vault is still mounted"
findmnt "$BOB_MP" >/dev/null && vm_fail "bob's vault is still mounted"
findmnt "$HOME_MP" >/dev/null || vm_fail "the vault left open on suspend was locked"
findmnt "$BUSY_MP" >/dev/null || vm_fail "the busy vault went"
vm_wait_until 30 grep -q "\"event\":\"vault-removed\".*\"reason\":\"suspend\".*\"vault\":\"$STICK_PATH\"" alice.watch \
    || { dump; vm_fail "alice heard no VaultRemoved(suspend)"; }
grep -q "\"event\":\"lock-failed\".*\"reason\":\"suspend\".*\"vault\":\"$BUSY_PATH\"" alice.watch \
    || { dump; vm_fail "alice heard no LockFailed for the busy vault"; }

vm_step "each user heard only their own: bob nothing of the stick nor of alice's vaults, alice nothing of bob's"
flush_bob
cat $BOB_SIG
grep -q "VaultRemoved.*'suspend'" $BOB_SIG || { dump; vm_fail "bob heard nothing of his own vault's lock"; }
if grep -q 'Media' $BOB_SIG; then dump; vm_fail "bob heard of the stick"; fi
if grep -qE "$STICK_PATH|$BUSY_PATH|LockFailed" $BOB_SIG; then dump; vm_fail "bob heard of alice's vaults"; fi
BOB_PATH=$(sed -n "s/.*VaultRemoved \['\([^']*\)', 'suspend'.*/\1/p" $BOB_SIG)
[ -n "$BOB_PATH" ] || { dump; vm_fail "bob's vault path is not in his VaultRemoved"; }
if grep -qE "\"$BOB_PATH\"|\"bobs\"" alice.watch; then dump; vm_fail "alice heard of bob's vault"; fi
vm_wait_until 30 vm_more_lines_than 1 'holding a delay lock' $LOG || { dump; vm_fail "no delay lock after the resume"; }

vm_step "clean up"
vm_stop $HOLDER
vm_as alice cofferctl lock --all
umount /media/alice/SESSION
vm_assert_nothing_attached
echo "sessions and suspend: as promised"
