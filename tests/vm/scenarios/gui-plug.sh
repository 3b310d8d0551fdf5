# vm-boot: systemd
# The desktop app for real (issue 13): alice's desktop (Xvfb, a session bus, dunst, trayer; see
# tests/vm/guest-desktop.sh), coffer in her tray, the real helper on the system bus, real udevd,
# logind and a QMP hot-plug:
#  - a registered stick with a vault (trigger: ask) is plugged in and mounted as a desktop would:
#    the notification "BACKUPS plugged in" appears; its default action (Back up now) opens the
#    unlock dialog and the app closes the answered notification; the passphrase is typed; the sync runs (its window), the vault locks, "Safe to
#    unplug BACKUPS" appears as a notification and in the window; the registry has the backup;
#  - Esc closes the backup's window; a second `coffer` raises the main window; the vault is
#    unlocked again from it by keyboard alone (the files are in the vault), then `loginctl
#    lock-session` on alice's session (found as her display session) locks it; the window says why.
# Screenshots of every step in <build>/vm-artifacts/gui-plug/.
source "$COFFER_SOURCE_DIR/tests/vm/guest-desktop.sh"
A=/home/alice
LOG=/var/log/coffer-helper.log
MP=/media/alice/BACKUPS
PBKDF=(--pbkdf-memory-kib 16384 --pbkdf-iterations 4)
PASSPHRASE='plug-pass-71'

has_stick() { blkid -L BACKUPS >/dev/null; }
no_stick() { ! compgen -G "/sys/block/sd*" >/dev/null; }
mount_stick() { # as a desktop's automount does: alice's
    vm_wait_until 120 has_stick || vm_fail "no stick"
    mount -t vfat -o "uid=$(id -u alice),gid=$(id -g alice),nosuid,nodev" "$(blkid -L BACKUPS)" "$MP"
}
vault_open() { [ -d "/run/coffer/$(id -u alice)/keys/current" ]; }
alice_session() { loginctl list-sessions --no-legend | awk '$3 == "alice" {print $1; exit}'; }

VM_DESKTOP_LOGS=($LOG)
vm_step "systemd is init; install; system bus, polkitd, udevd; alice logs in on tty2"
vm_systemd || vm_fail "not booted with systemd"
vm_add_test_users alice
vm_install_coffer
mkdir -p /etc/coffer
printf '[helper]\nIdleSeconds=0\nLogFile=%s\n' $LOG >/etc/coffer/helper.conf
vm_start_dbus
vm_launch_polkitd
vm_start_udevd
vm_session alice 2
vm_switch_vt 2
vm_wait_polkitd
install -d -m 0750 -o alice -g alice /media/alice
mkdir "$MP"

vm_step "the stick: alice makes a vault on it and registers it (trigger: ask); it is pulled out"
vm_event ready-for-stick
mount_stick
printf '%s' "$PASSPHRASE" >$A/pw
mkdir -p $A/data/ssh
for i in $(seq 1 30); do echo "secret $i of alice's" >"$A/data/note$i.txt"; done
head -c 1M /dev/urandom >$A/data/ssh/id_ed25519
chown -R alice:alice $A
chmod 600 $A/pw
vm_as alice cofferctl create "$MP/keys.coffer" --size 64M --name keys --passphrase-file $A/pw "${PBKDF[@]}"
vm_as alice cofferctl register "$MP/keys.coffer" --source $A/data --trigger ask | tee reg.out
grep -q '^Registered "keys"' reg.out || vm_fail "not registered"
umount "$MP"
vm_event yank-1
vm_wait_until 60 no_stick || vm_fail "the stick did not go"

vm_step "alice's desktop and coffer in her tray"
vm_desktop_start alice
vm_desktop_start_app
vm_desktop_screenshot 01-tray

vm_step "plugged in and mounted: coffer asks"
vm_event plug-2
mount_stick
vm_desktop_wait_notification "BACKUPS plugged in" 120
grep -qF 'string "Back up “keys” now?"' "$VM_ARTIFACTS/notifications.log" || vm_fail "the notification does not name the vault"
vm_desktop_screenshot 02-notification

vm_step "the notification's default action (Back up now): the unlock dialog"
vm_desktop_notification_action 0
DIALOG=$(vm_desktop_wait_window '^Unlock “keys”( — Coffer)?$' 60)
vm_wait_until 30 grep -q 'member=CloseNotification' "$VM_ARTIFACTS/notifications.log" \
    || vm_fail "the answered question stays on screen"
vm_desktop_screenshot 03-unlock-dialog
vm_desktop_type "$DIALOG" "$PASSPHRASE"
vm_desktop_screenshot 04-passphrase-typed
vm_desktop_key "$DIALOG" Return

vm_step "the sync runs in its window; the vault locks; safe to unplug"
vm_desktop_wait_window '^Back(ing up|up of) “keys”( — Coffer)?$' 120 >/dev/null
vm_desktop_screenshot 05-backup-window
vm_desktop_wait_notification "Safe to unplug BACKUPS" 180
vm_desktop_screenshot 06-safe-to-unplug
vm_assert_nothing_attached 30
vm_as alice cofferctl vaults --json >vaults.json
/usr/bin/python3 - <<'PY' || { cat vaults.json; vm_fail "the registry does not show the backup"; }
import json
v = json.loads(open("vaults.json").readline())
assert v["last-sync"]["outcome"] == "ok" and v["last-sync"]["files"] == 31, v
print("registry: last sync", v["last-sync"]["time"], "ok,", v["last-sync"]["files"], "files")
PY

vm_step "Esc closes the backup's window; the main window (a second start raises it); unlocked by keyboard"
PROGRESS=$(vm_desktop_wait_window '^Backup of “keys”( — Coffer)?$' 10)
vm_desktop_key "$PROGRESS" Escape
vm_desktop_wait_window_gone '^Backup of “keys”( — Coffer)?$' 30
vm_desktop_close_notifications
vm_desktop_as coffer >>"$VM_ARTIFACTS/coffer-second.log" 2>&1 || vm_fail "a second coffer did not reach the first"
MAIN=$(vm_desktop_wait_window '^Coffer$' 60)
vm_desktop_screenshot 07-main-window
vm_desktop_key "$MAIN" Return
DIALOG=$(vm_desktop_wait_window '^Unlock “keys”( — Coffer)?$' 60)
vm_desktop_type "$DIALOG" "$PASSPHRASE"
LOCKED_LOOK=$(vm_desktop_tray_look)
vm_desktop_key "$DIALOG" Return
vm_wait_until 120 vault_open || vm_fail "the vault did not open"
diff -r $A/data "/run/coffer/$(id -u alice)/keys/current/data" || vm_fail "the backup differs from alice's files"
vm_desktop_wait_window_gone '^Unlock “keys”( — Coffer)?$' 30
vm_desktop_wait_tray_change "$LOCKED_LOOK" 30
vm_desktop_screenshot 08-unlocked

vm_step "loginctl lock-session: coffer locks the vault"
SESSION=$(alice_session)
[ -n "$SESSION" ] || vm_fail "alice has no session"
OPEN_LOOK=$(vm_desktop_tray_look)
loginctl lock-session "$SESSION"
vm_assert_nothing_attached 60
vm_desktop_wait_tray_change "$OPEN_LOOK" 30
vm_desktop_screenshot 09-locked-by-screen-lock
umount "$MP"
echo "plug, notification, unlock dialog, backup, safe to unplug, screen lock: all as promised"
