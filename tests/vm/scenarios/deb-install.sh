# The Debian packages (issue 14), installed with dpkg as a person would: the .debs built on the
# host from this checkout (package_deb, `make deb`: $COFFER_BUILD_DIR/deb) and nothing else of
# Coffer. From their files alone: D-Bus activates the installed helper, polkit decides (alice yes,
# mallory no), the udev rule marks the vault's loop and dm devices; the app's menu and autostart
# entries are in place and valid, `coffer --version` runs, and the autostart entry's command puts
# the installed app in alice's tray (a real X11 desktop: tests/vm/guest-desktop.sh); reinstalling
# and upgrading both with a vault open keep it usable (the new helper adopts it); a removal
# refuses while a program uses the vault (the app it removes first is stopped), then apt-get
# remove of both locks it, stops the helper and the app and leaves nothing attached or running,
# and the vault opens with stock cryptsetup afterwards.
source "$COFFER_SOURCE_DIR/tests/vm/guest-desktop.sh"

PASS='alice-deb-passphrase-41c9'
A=/home/alice
debs=("$COFFER_BUILD_DIR"/deb/coffer-helper_[0-9]*.deb)
HELPER_DEB=${debs[0]}
debs=("$COFFER_BUILD_DIR"/deb/coffer_[0-9]*.deb)
APP_DEB=${debs[0]}
FILES=(/usr/bin/cofferctl /usr/libexec/coffer-helper /usr/libexec/coffer-sync
    /usr/share/dbus-1/system-services/org.coffer.Helper1.service
    /usr/share/dbus-1/system.d/org.coffer.Helper1.conf /usr/share/polkit-1/actions/org.coffer.helper.policy
    /lib/systemd/system/coffer-helper.service /lib/udev/rules.d/90-coffer.rules)
MENU_ENTRY=/usr/share/applications/org.coffer.Coffer.desktop
AUTOSTART=/etc/xdg/autostart/org.coffer.Coffer.desktop
APP_FILES=(/usr/bin/coffer "$MENU_ENTRY" "$AUTOSTART" /usr/share/metainfo/org.coffer.Coffer.metainfo.xml
    /usr/share/icons/hicolor/scalable/apps/org.coffer.Coffer.svg /usr/share/man/man1/coffer.1.gz)

helper_pid() {
    local reply
    reply=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetConnectionUnixProcessID s org.coffer.Helper1 2>/dev/null) || return 1
    echo "${reply#u }"
}
# helper_replaced OLD_PID: a helper runs on the bus, and it is not OLD_PID.
helper_replaced() { local pid; pid=$(helper_pid) && [ "$pid" != "$1" ]; }
helper_gone() { ! vm_bus_has_name org.coffer.Helper1; }
# installed_version [PACKAGE]: dpkg's status and version of PACKAGE (coffer-helper by default).
installed_version() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "${1:-coffer-helper}" 2>/dev/null; }
# runs PROGRAM: a live process runs PROGRAM (or its file that dpkg replaced: "... (deleted)").
runs() {
    local exe target
    for exe in /proc/[0-9]*/exe; do
        target=$(readlink "$exe" 2>/dev/null) || continue
        [ "$target" != "$1" ] && [ "$target" != "$1 (deleted)" ] || return 0
    done
    return 1
}
not_runs() { ! runs "$1"; }
# desktop_key FILE KEY: the value of KEY in FILE's [Desktop Entry].
desktop_key() { sed -n "/^\[Desktop Entry\]/,/^\[/s/^$2=//p" "$1"; }
# still_works FILE: alice's vault is listed, takes a sync and holds what was synced.
still_works() {
    vm_as alice cofferctl status --json >status.json
    grep -q "\"mountPoint\":\"$mp\"" status.json || vm_fail "status does not list the vault: $(cat status.json)"
    echo "$1" >"$A/data/$1" && chown alice:alice "$A/data/$1"
    vm_as alice cofferctl sync $A/v.img --source $A/data
    cmp "$A/data/$1" "$mp/current/data/$1" || vm_fail "the sync after $1 did not land"
}
trap 'cp /var/log/coffer-helper.log "$VMSHARE/" 2>/dev/null || true' EXIT

vm_step "a system without Coffer; bus, polkitd and udevd"
[ -f "$HELPER_DEB" ] || vm_fail "no coffer-helper .deb in $COFFER_BUILD_DIR/deb (make deb builds it)"
[ -f "$APP_DEB" ] || vm_fail "no coffer .deb in $COFFER_BUILD_DIR/deb (make deb builds it)"
for f in "${FILES[@]}" "${APP_FILES[@]}"; do [ ! -e "$f" ] || vm_fail "$f exists before the package is installed"; done
[ -z "$(installed_version)$(installed_version coffer)" ] || vm_fail "Coffer is installed already"
vm_add_test_users
vm_install_test_polkit_rules
# man-db's trigger would index every manual page on the system: minutes under emulation.
rm -f /var/lib/man-db/auto-update
mkdir -p /etc/coffer
printf '[helper]\nIdleSeconds=3\nLogFile=/var/log/coffer-helper.log\n' >/etc/coffer/helper.conf
vm_start_dbus
vm_launch_polkitd
vm_start_udevd
vm_wait_polkitd

vm_step "dpkg -i $(basename "$HELPER_DEB") $(basename "$APP_DEB")"
dpkg -i "$HELPER_DEB" "$APP_DEB"
[[ $(installed_version) == "ii "* ]] || vm_fail "coffer-helper not installed: $(installed_version)"
[[ $(installed_version coffer) == "ii "* ]] || vm_fail "coffer not installed: $(installed_version coffer)"
owners=$(dpkg -S "${FILES[@]}" | cut -d: -f1 | sort -u)
[ "$owners" = coffer-helper ] || vm_fail "the helper's files belong to: $owners"
owners=$(dpkg -S "${APP_FILES[@]}" | cut -d: -f1 | sort -u)
[ "$owners" = coffer ] || vm_fail "the app's files belong to: $owners"
helper_gone || vm_fail "the helper runs before anyone called it"

vm_step "the app's installed files: menu and autostart entries, AppStream entry, coffer --version"
for f in "$MENU_ENTRY" "$AUTOSTART"; do
    out=$(desktop-file-validate "$f" 2>&1) || vm_fail "$f does not validate: $out"
    [ -z "$out" ] || vm_fail "$f: $out"
done
appstreamcli validate --no-net --no-color /usr/share/metainfo/org.coffer.Coffer.metainfo.xml
[ "$(desktop_key "$MENU_ENTRY" Exec)" = coffer ] || vm_fail "the menu entry runs '$(desktop_key "$MENU_ENTRY" Exec)'"
autostart_exec=$(desktop_key "$AUTOSTART" Exec)
[ "$autostart_exec" = "coffer --minimized" ] || vm_fail "the autostart entry runs '$autostart_exec'"
[ "$(desktop_key "$AUTOSTART" NoDisplay)" = true ] || vm_fail "the autostart entry shows in menus"
[ "$(vm_as alice sh -c "command -v $(desktop_key "$AUTOSTART" TryExec)")" = /usr/bin/coffer ] \
    || vm_fail "the autostart entry's TryExec is not the installed app"
version=$(vm_as alice env QT_QPA_PLATFORM=offscreen coffer --version)
echo "$version"
[ "$version" = "coffer $(dpkg-query -W -f='${Version}' coffer)" ] || vm_fail "coffer --version says '$version'"

vm_step "alice creates and unlocks a vault: D-Bus starts the installed helper, polkit allows"
printf %s "$PASS" >$A/pw
mkdir -p $A/data
echo "ssh key material" >$A/data/id_ed25519
chown -R alice:alice $A && chmod 600 $A/pw
vm_as alice cofferctl create $A/v.img --size 64M --name keys --passphrase-file $A/pw \
    --pbkdf-memory-kib 16384 --pbkdf-iterations 4
mp=$(vm_as alice cofferctl unlock $A/v.img --passphrase-file $A/pw)
[ "$mp" = "/run/coffer/$(id -u alice)/keys" ] || vm_fail "mount point is '$mp'"
pid=$(helper_pid) || vm_fail "no helper on the bus with a vault open"
[ "$(readlink /proc/"$pid"/exe)" = /usr/libexec/coffer-helper ] \
    || vm_fail "the helper on the bus runs $(readlink /proc/"$pid"/exe)"

vm_step "the udev rule: the vault's dm and loop devices are hidden from desktop automounters"
udevadm settle -t 30
mapper=$(grep -l '^coffer-' /sys/block/dm-*/dm/name) || vm_fail "no coffer-* mapping"
dm=${mapper#/sys/block/} dm=${dm%%/*}
loops=(/sys/block/"$dm"/slaves/loop*)
[ -e "${loops[0]}" ] || vm_fail "no loop device under $dm"
for dev in /dev/"$dm" /dev/"$(basename "${loops[0]}")"; do
    udevadm info --query=property --name="$dev" | grep -qx UDISKS_IGNORE=1 || vm_fail "$dev lacks UDISKS_IGNORE=1"
done

vm_step "mallory is not authorized (exit 5); alice syncs"
printf x >/home/mallory/pw
chown mallory:mallory /home/mallory/pw
rc=0
vm_as mallory cofferctl create /home/mallory/m.img --size 64M --name m --passphrase-file /home/mallory/pw || rc=$?
[ "$rc" = 5 ] || vm_fail "mallory's create gave exit $rc, not 5"
[ ! -s /home/mallory/m.img ] || vm_fail "mallory's create wrote something"
still_works first-sync

vm_step "alice's desktop: the autostart entry's command puts the installed app in her tray"
VM_DESKTOP_LOGS=(/var/log/coffer-helper.log)
vm_desktop_start alice
# vm_desktop_start_app runs `coffer --minimized`: what the autostart entry says (checked above).
vm_desktop_start_app
runs /usr/bin/coffer || vm_fail "the app in the tray is not /usr/bin/coffer"
vm_desktop_screenshot deb-tray

vm_step "the same versions again, with the vault open: a new helper adopts it, the app runs on"
old=$(helper_pid)
dpkg -i "$HELPER_DEB" "$APP_DEB"
vm_wait_until 30 helper_replaced "$old" || vm_fail "no new helper after the reinstall"
still_works after-reinstall
runs /usr/bin/coffer || vm_fail "the reinstall stopped the app"

vm_step "an upgrade of both to a higher version, with the vault open"
vm_wait_host debs-ready
old=$(helper_pid)
dpkg -i /vmshare/debs/coffer-helper_*.deb /vmshare/debs/coffer_*.deb
[[ $(installed_version) == "ii "*+vmupgrade1 ]] || vm_fail "coffer-helper not upgraded: $(installed_version)"
[[ $(installed_version coffer) == "ii "*+vmupgrade1 ]] || vm_fail "coffer not upgraded: $(installed_version coffer)"
runs /usr/bin/coffer || vm_fail "the upgrade stopped the app"
vm_wait_until 30 helper_replaced "$old" || vm_fail "no new helper after the upgrade"
[ "$(grep -c "adopted .* at $mp" /var/log/coffer-helper.log)" -ge 2 ] || vm_fail "the new helpers did not adopt the vault"
still_works after-upgrade

vm_step "a removal while a program uses the vault: the app goes first (stopped), the helper's is refused"
vm_as alice bash -c "cd '$mp' && echo \$\$ >$A/holder.pid && exec sleep 600" &
holder_job=$!
vm_wait_for $A/holder.pid 10
read -r holder <$A/holder.pid
rc=0
dpkg -r coffer coffer-helper >remove.log 2>&1 || rc=$?
cat remove.log
[ "$rc" != 0 ] || vm_fail "dpkg -r removed coffer-helper while the vault was in use"
grep -q "mounted on $mp" remove.log || vm_fail "the refusal does not name the vault"
# The helper was asked to lock it (root finds every vault) and said why it could not.
grep -q "in use by sleep (pid $holder" remove.log || vm_fail "the helper did not refuse the lock naming the holder"
[[ $(installed_version coffer) == ?[nc]* ]] || vm_fail "coffer was not removed: $(installed_version coffer)"
vm_wait_until 30 not_runs /usr/bin/coffer || vm_fail "the removed app still runs"
# dpkg keeps the package installed, only marked for removal ("ri").
[[ $(installed_version) == ?"i "* ]] || vm_fail "not installed after the refused removal: $(installed_version)"
for f in "${FILES[@]}"; do [ -e "$f" ] || vm_fail "$f is gone after the refused removal"; done
still_works after-refusal

vm_step "the app again, in the tray"
dpkg -i /vmshare/debs/coffer_*.deb
vm_desktop_start_app

vm_step "apt-get remove of both: the app stops, the vault locks, the helper stops, nothing is left attached"
kill "$holder"
wait "$holder_job" || true
# apt reads only dpkg's status (no package lists): building its cache from the lists would take
# half a minute under emulation, and a removal needs nothing from them.
mkdir -p "$SCRATCH/no-lists/partial"
apt-get remove -y -o Dir::State::Lists="$SCRATCH/no-lists" coffer coffer-helper
[[ $(installed_version) != ?i* ]] || vm_fail "coffer-helper still installed: $(installed_version)"
[[ $(installed_version coffer) != ?i* ]] || vm_fail "coffer still installed: $(installed_version coffer)"
vm_assert_nothing_attached
helper_gone || vm_fail "the helper still owns its bus name"
! vm_desktop_has_name org.coffer.Coffer || vm_fail "the app still owns its name on alice's bus"
for program in /usr/libexec/coffer-helper /usr/libexec/coffer-sync /usr/bin/coffer; do
    not_runs "$program" || vm_fail "$program still runs"
done
for f in "${FILES[@]}" "${APP_FILES[@]}" /run/coffer; do
    [ "$f" = "$AUTOSTART" ] || [ ! -e "$f" ] || vm_fail "$f is left after the removal"
done
# The autostart entry is a conffile: it stays until a purge, and does nothing (TryExec).
[ ! -e "$AUTOSTART" ] || ! vm_as alice sh -c "command -v $(desktop_key "$AUTOSTART" TryExec)" >/dev/null \
    || vm_fail "the autostart entry left behind would start something"
dpkg --purge coffer coffer-helper
[ ! -e "$AUTOSTART" ] || vm_fail "the purge left $AUTOSTART"

vm_step "the vault the removal locked opens with stock cryptsetup, with everything synced"
cryptsetup open --type luks --key-file $A/pw $A/v.img deb-check
mkdir -p /mnt/deb-check
mount -o ro /dev/mapper/deb-check /mnt/deb-check
for f in id_ed25519 first-sync after-reinstall after-upgrade after-refusal; do
    cmp "$A/data/$f" "/mnt/deb-check/current/data/$f" || vm_fail "$f is not in the vault"
done
umount /mnt/deb-check
cryptsetup close deb-check
vm_assert_nothing_attached
