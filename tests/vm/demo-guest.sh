# vm-boot: systemd
# make demo, the guest's part (tests/vm/demo runs it; see README, "make demo"): Coffer's main job
# as a person sees it. The packages built from this checkout are installed with dpkg; alice has
# real SSH and GPG keys; she makes a vault on a USB stick and registers it, unplugs the stick,
# logs in (her desktop: Xvfb, a session bus, dunst, trayer; tests/vm/guest-desktop.sh) and the
# app starts as its autostart entry says. She plugs the stick in (QMP hot-plug): the prompt
# appears, she clicks it, types her passphrase, the backup runs, the vault locks, "Safe to
# unplug"; her key is nowhere in the clear on the raw stick. Then she checks the backup against
# her files (a read-only unlock, diff -r, rsync -n), deletes her SSH key by mistake and restores
# it from the vault's snapshot. Every step is in the transcript, with a screenshot of the screen
# where there is something to see.
source "$COFFER_SOURCE_DIR/tests/vm/guest-desktop.sh"
A=/home/alice
MP=/media/alice/BACKUPS
VAULT=$MP/keys.coffer
PASSPHRASE='correct horse battery staple'
LOG=/var/log/coffer-helper.log
VM_DESKTOP_LOGS=($LOG)

# A command line as it would be typed (arguments with spaces or shell characters quoted).
shown() {
    local arg line=
    for arg; do
        [[ -z $arg || $arg =~ [^A-Za-z0-9_./=:,@+-] ]] && arg="'$arg'"
        line+=" $arg"
    done
    echo "${line# }"
}
# What alice does, shown as she would type it, run as her; typed only shows it.
typed() { echo "alice\$ $(shown "$@")"; }
alice() {
    typed "$@"
    vm_as alice "$@"
}
# What root does (the VM's administrator, or the desktop doing it for her).
root() {
    echo "root# $(shown "$@")"
    "$@"
}
has_stick() { blkid -L BACKUPS >/dev/null; }
no_stick() { ! compgen -G "/sys/block/sd*" >/dev/null; }
# The desktop's automounter (udisks; not in this VM) mounts the stick for alice.
mount_stick() {
    vm_wait_until 120 has_stick || vm_fail "no stick appeared"
    root mount -t vfat -o "uid=$(id -u alice),gid=$(id -g alice),nosuid,nodev" "$(blkid -L BACKUPS)" "$MP"
}
unplug_stick() {
    root umount "$MP"
    vm_event "unplug-$1"
    vm_wait_until 60 no_stick || vm_fail "the stick did not go"
    echo "(the stick is pulled out)"
}
newest_snapshot() {
    local snap
    snap=$(find "$1/snapshots" -mindepth 1 -maxdepth 1 -type d ! -name '*.partial' | sort | tail -n 1)
    [ -n "$snap" ] || vm_fail "the vault has no snapshot: $(ls -la "$1")"
    echo "$snap"
}

vm_step "Install Coffer from the packages built from this checkout"
debs=("$COFFER_BUILD_DIR"/deb/coffer-helper_[0-9]*.deb "$COFFER_BUILD_DIR"/deb/coffer_[0-9]*.deb)
[ -f "${debs[0]}" ] && [ -f "${debs[1]}" ] || vm_fail "no packages in $COFFER_BUILD_DIR/deb (make deb builds them)"
vm_systemd || vm_fail "not booted with systemd"
# man-db's trigger would index every manual page on the system: minutes under emulation.
rm -f /var/lib/man-db/auto-update
root dpkg -i "${debs[@]}"
root dpkg -l coffer coffer-helper | tail -n 2
vm_add_test_users alice
# polkit's own rule for Coffer allows the active local user: alice's programs here run beside
# her logind session, not inside it, so a rule says she is that user (tests/vm/guest-lib.sh).
vm_install_test_polkit_rules
mkdir -p /etc/coffer
printf '[helper]\nLogFile=%s\n' $LOG >/etc/coffer/helper.conf
vm_start_dbus
vm_launch_polkitd
vm_start_udevd
vm_session alice 2
vm_switch_vt 2
vm_wait_polkitd
install -d -m 0750 -o alice -g alice /media/alice
mkdir -p "$MP"

vm_step "alice's secrets: a real SSH key and a real GPG key"
alice mkdir -m 0700 $A/.ssh
alice ssh-keygen -q -t ed25519 -N '' -C 'alice@laptop' -f $A/.ssh/id_ed25519
printf 'Host git\n    HostName git.example.org\n    User alice\n' >$A/.ssh/config
ssh-keygen -q -t ed25519 -N '' -f $SCRATCH/host -C host
echo "git.example.org $(cut -d' ' -f1,2 $SCRATCH/host.pub)" >$A/.ssh/known_hosts
chown alice:alice $A/.ssh/config $A/.ssh/known_hosts
chmod 600 $A/.ssh/config
alice gpg --batch --quiet --passphrase '' --quick-generate-key 'Alice Example <alice@example.org>' ed25519 sign never
alice gpg --list-secret-keys --keyid-format long
alice gpgconf --kill gpg-agent
alice ls -la $A/.ssh $A/.gnupg

vm_step "She plugs in a USB stick and makes a vault on it"
vm_event plug-1
mount_stick
printf '%s' "$PASSPHRASE" >$A/.vault-passphrase
chown alice:alice $A/.vault-passphrase
chmod 600 $A/.vault-passphrase
echo "(cofferctl would ask for the passphrase twice; the demo gives it in a file, and a light key"
echo " derivation, 16 MiB argon2id, so that it runs quickly under emulation)"
alice cofferctl create "$VAULT" --size 64M --name keys --passphrase-file $A/.vault-passphrase \
    --pbkdf-memory-kib 16384 --pbkdf-iterations 4
alice cofferctl register "$VAULT" --source $A/.ssh --source $A/.gnupg --mode snapshot --trigger ask
rm $A/.vault-passphrase
alice cofferctl vaults
unplug_stick 1

vm_step "She logs in: her desktop, and Coffer in the tray as its autostart entry says"
root grep -E '^(Exec|TryExec|NoDisplay)=' /etc/xdg/autostart/org.coffer.Coffer.desktop
vm_desktop_start alice
vm_desktop_start_app
vm_desktop_screenshot 01-tray

vm_step "She plugs the stick in: Coffer asks"
vm_event plug-2
mount_stick
vm_desktop_wait_notification "BACKUPS plugged in" 120
grep -oE 'string "(BACKUPS plugged in|Back up “keys” now\?)"' "$VM_ARTIFACTS/notifications.log" | sort -u | sed 's/^string /notification: /'
vm_desktop_screenshot 02-prompt

vm_step "She clicks the notification (Back up now): the unlock dialog"
vm_desktop_notification_action 0
# A click closes the notification too (dunstctl action only invokes it).
vm_desktop_as dunstctl close
dialog=$(vm_desktop_wait_window '^Unlock “keys”( — Coffer)?$' 60)
vm_desktop_screenshot 03-unlock
echo "(she types her passphrase and presses Enter)"
vm_desktop_type "$dialog" "$PASSPHRASE"
vm_desktop_screenshot 04-passphrase
vm_desktop_key "$dialog" Return

vm_step "The backup runs; the vault locks; safe to unplug"
progress=$(vm_desktop_wait_window '^(Backing up|Backup of) “keys”( — Coffer)?$' 120)
vm_desktop_screenshot 05-backing-up
vm_desktop_wait_notification "Safe to unplug BACKUPS" 180
echo 'notification: "Safe to unplug BACKUPS"'
vm_desktop_screenshot 06-safe-to-unplug
# She closes the backup's window (Esc).
vm_desktop_key "$progress" Escape
vm_desktop_wait_window_gone '^Backup of “keys”( — Coffer)?$' 30
vm_assert_nothing_attached 30
echo "(no loop device, dm-crypt mapping or mount of the vault is left)"
alice cofferctl vaults

vm_step "Only ciphertext reached the stick: her private key is nowhere on it in the clear"
stick=$(blkid -L BACKUPS)
root grep -c -- "BEGIN OPENSSH PRIVATE KEY" "$stick" || true
if grep -q -- "BEGIN OPENSSH PRIVATE KEY" "$stick"; then vm_fail "PLAINTEXT FOUND on the stick"; fi
echo "(searched the whole raw stick $stick: not there)"

vm_step "She checks the backup: a read-only unlock, compared with her files"
vm_desktop_close_notifications
printf '%s' "$PASSPHRASE" >$A/.vault-passphrase
chown alice:alice $A/.vault-passphrase
chmod 600 $A/.vault-passphrase
typed cofferctl unlock "$VAULT" --read-only --passphrase-file $A/.vault-passphrase
mp=$(vm_as alice cofferctl unlock "$VAULT" --read-only --passphrase-file $A/.vault-passphrase)
echo "$mp"
root findmnt -n -o TARGET,FSTYPE,OPTIONS "$mp"
findmnt -n -o OPTIONS "$mp" | grep -qE '(^|,)ro(,|$)' || vm_fail "the vault is not mounted read-only"
snap=$(newest_snapshot "$mp")
alice ls "$mp/snapshots"
alice diff -r $A/.ssh "$snap/.ssh" || vm_fail "the backup of ~/.ssh differs"
alice diff -r $A/.gnupg "$snap/.gnupg" || vm_fail "the backup of ~/.gnupg differs"
echo "(diff -r: no difference)"
for d in .ssh .gnupg; do
    typed rsync -n -a -i --delete $A/$d/ "$snap/$d/"
    changes=$(vm_as alice rsync -n -a -i --delete $A/$d/ "$snap/$d/")
    [ -z "$changes" ] || { echo "$changes"; vm_fail "rsync -n would change $d"; }
done
echo "(rsync -n: nothing to transfer)"
vm_desktop_as coffer >>"$VM_ARTIFACTS/coffer.stdout" 2>&1 || vm_fail "a second coffer did not reach the first"
vm_desktop_wait_window '^Coffer$' 60 >/dev/null
vm_desktop_screenshot 07-main-window-open
alice cofferctl lock "$VAULT"
vm_assert_nothing_attached 30
echo "(checked: no loop device, dm-crypt mapping or mount of the vault is left)"

vm_step "She deletes her SSH key by mistake, and restores it from the vault's snapshot"
fingerprint=$(vm_as alice ssh-keygen -l -f $A/.ssh/id_ed25519)
alice rm $A/.ssh/id_ed25519
alice ls -la $A/.ssh
typed cofferctl unlock "$VAULT" --read-only --passphrase-file $A/.vault-passphrase
mp=$(vm_as alice cofferctl unlock "$VAULT" --read-only --passphrase-file $A/.vault-passphrase)
echo "$mp"
snap=$(newest_snapshot "$mp")
alice cp -a "$snap/.ssh/id_ed25519" $A/.ssh/
alice ssh-keygen -l -f $A/.ssh/id_ed25519
[ "$(vm_as alice ssh-keygen -l -f $A/.ssh/id_ed25519)" = "$fingerprint" ] || vm_fail "the restored key is not the one deleted"
alice diff -r $A/.ssh "$snap/.ssh" || vm_fail "~/.ssh differs from the snapshot after the restore"
echo "(the key is back, the same key: same fingerprint, same bytes, mode and time)"
alice cofferctl lock "$VAULT"
rm $A/.vault-passphrase
vm_assert_nothing_attached 30
vm_desktop_screenshot 08-main-window-locked
echo "(checked: no loop device, dm-crypt mapping or mount of the vault is left)"
unplug_stick 2
echo "Done: plug, prompt, unlock, backup, lock, safe to unplug, verify, restore."
