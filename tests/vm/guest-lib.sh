# Helpers for VM scenarios (sourced by guest-run before the scenario; see HACKING.md).
# Everything here waits on a condition with a timeout; nothing relies on a bare sleep.

TEST_POLKIT_RULES=/etc/polkit-1/rules.d/50-coffer-test.rules

# Helpers use shell builtins where they can: every program started in the guest costs a tenth of
# a second or more under software emulation.

vm_step() {
    local up rest
    read -r up rest </proc/uptime
    echo "== [${up}s] $*"
}

vm_fail() {
    echo "vm: FAIL: $*" >&2
    exit 1
}

# vm_pause SECONDS: a timed read on a FIFO nobody writes to: sleep(1) without a process.
vm_pause() {
    if [ -z "${VM_PAUSE_FD:-}" ]; then
        [ -p /run/vm-pause ] || mkfifo /run/vm-pause
        exec {VM_PAUSE_FD}<>/run/vm-pause
    fi
    read -r -t "$1" -u "$VM_PAUSE_FD" || true
}

# vm_wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds; status 1 on timeout.
vm_wait_until() {
    local now=${EPOCHREALTIME/./}
    local deadline=$((now + $1 * 1000000))
    shift
    until "$@" >/dev/null 2>&1; do
        now=${EPOCHREALTIME/./}
        [ "$now" -lt "$deadline" ] || return 1
        vm_pause 0.1
    done
}

# vm_more_lines_than N PATTERN FILE: FILE has more than N lines matching PATTERN (grep -E), for
# vm_wait_until, which runs its command again each time (a "$(grep -c ...)" argument would be
# counted once, before the wait).
vm_more_lines_than() { [ "$(grep -cE -- "$2" "$3" 2>/dev/null)" -gt "$1" ]; }

# vm_wait_for FILE [SECONDS]: wait until FILE exists.
vm_wait_for() {
    vm_wait_until "${2:-30}" test -e "$1" || vm_fail "timed out after ${2:-30}s waiting for $1"
}

# vm_event TEXT: tell the host-side driver (it waits with qmp.py WORKDIR wait-for TEXT).
vm_event() { echo "$*" >>/vmshare/events; }

# vm_wait_host TEXT [SECONDS]: wait until the host-side driver writes TEXT into /vmshare/host-events.
vm_wait_host() {
    vm_wait_until "${2:-60}" grep -qx "$1" /vmshare/host-events \
        || vm_fail "timed out after ${2:-60}s waiting for the host to say '$1'"
}

vm_boot_setup() {
    # Few modprobes: each process start costs a lot under software emulation. What every
    # scenario needs first is loaded now (dm-crypt's ciphers too, or the first table load waits
    # for the kernel to load them); the rest, about 3 s of module loading, goes on in the
    # background: a mount loads ext4 itself if it is not there yet, and USB sticks appear in
    # /dev once their drivers are in, which scenarios already wait for.
    modprobe -a loop dm_mod dm_crypt xts aesni_intel || echo "vm: some kernel modules did not load"
    { modprobe -a ext4 xhci_pci usb_storage sd_mod vfat exfat || echo "vm: some kernel modules did not load"; } &
    echo coffer-vm >/proc/sys/kernel/hostname
    # devtmpfs has no /dev/fd, and bash's <(...) needs it.
    [ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
    # /tmp as on any Debian system, whatever the host's mode (the overlay keeps the change in the
    # guest): Xvfb and Qt write there as the user.
    chmod 1777 /tmp
    SCRATCH=/var/tmp/scenario
    mkdir -p "$SCRATCH"
    export SCRATCH
    VM_BASELINE=$(vm_attached_state)
}

# Loop devices, dm devices and block-device mounts as the kernel sees them (never our own
# bookkeeping), one per line.
vm_attached_state() {
    local f line dev
    local -a m
    for f in /sys/block/loop*/loop/backing_file; do
        [ -e "$f" ] || continue
        read -r line <"$f"
        dev=${f#/sys/block/}
        echo "loop ${dev%%/*} $line"
    done
    for f in /sys/block/dm-*/dm/name; do
        [ -e "$f" ] || continue
        read -r line <"$f"
        echo "dm $line"
    done
    # mountinfo: field 5 is the mount point; the source follows the " - fstype " separator.
    while read -r -a m; do
        local i=6
        while [ $i -lt ${#m[@]} ] && [ "${m[i]}" != - ]; do i=$((i + 1)); done
        case "${m[i + 2]} ${m[4]}" in
            /dev/mapper/* | /dev/dm-* | /dev/loop* | *" /run/coffer/"*) echo "mount ${m[4]} ${m[i + 2]}" ;;
        esac
    done </proc/self/mountinfo
    return 0
}

vm_attached_is_baseline() { [ "$(vm_attached_state)" = "$VM_BASELINE" ]; }

# Fails unless no loop device, mapping or mount is left beyond what was there at boot. Loop
# autoclear and deferred dm removal finish asynchronously, so give the kernel a few seconds.
vm_assert_nothing_attached() {
    if ! vm_wait_until "${1:-10}" vm_attached_is_baseline; then
        echo "vm: left attached:" >&2
        diff <(echo "$VM_BASELINE") <(vm_attached_state) >&2 || true
        vm_fail "something is still attached"
    fi
}

# vm_bus_has_name NAME: someone owns NAME on the system bus. (busctl status fails in this guest:
# it asks for credentials the kernel cannot give without systemd.)
vm_bus_has_name() {
    [[ $(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        NameHasOwner s "$1" 2>/dev/null) == *true* ]]
}

# Whether systemd is init (a scenario with a "# vm-boot: systemd" line): the bus, udevd,
# polkitd and logind are then its services, started through it.
vm_systemd() { [ -d /run/systemd/system ]; }

vm_start_dbus() {
    if vm_systemd; then
        systemctl start dbus.service
    else
        mkdir -p /run/dbus
        dbus-daemon --system --fork --nopidfile
    fi
    vm_wait_until 20 vm_bus_has_name org.freedesktop.DBus || vm_fail "the system bus did not start"
}

vm_start_polkitd() {
    vm_launch_polkitd
    vm_wait_polkitd
}

# The two halves of vm_start_polkitd, for a scenario with other work to do while polkitd starts.
vm_launch_polkitd() {
    if vm_systemd; then
        systemctl start --no-block polkit.service
    else
        /usr/lib/polkit-1/polkitd --no-debug >/var/log/polkitd.log 2>&1 &
    fi
}

vm_wait_polkitd() {
    vm_wait_until 30 vm_bus_has_name org.freedesktop.PolicyKit1 \
        || { cat /var/log/polkitd.log; vm_fail "polkitd did not come up"; }
}

vm_start_udevd() {
    if vm_systemd; then
        systemctl start systemd-udevd.service
    else
        /lib/systemd/systemd-udevd --daemon
    fi
    # Only what Coffer watches: a full trigger costs many seconds under software emulation.
    udevadm trigger --action=add --subsystem-match=block --subsystem-match=usb
    udevadm settle -t 30
}

# alice (and bob, for scenarios that add him) may do everything to their own vaults; mallory
# may do nothing (see vm_install_coffer). vm_add_test_users [NAME...]: alice and mallory by
# default.
# Written straight into the user databases (what useradd -m does, without its two processes a
# user): the first free ids from 1000, a locked password, a private group and a home.
vm_add_test_users() {
    local u name x id rest users=" " taken=" " next=1000
    while IFS=: read -r name x id rest; do users+="$name "; taken+="$id "; done </etc/passwd
    while IFS=: read -r name x id rest; do taken+="$id "; done </etc/group
    local -a wanted=("$@")
    [ $# -gt 0 ] || wanted=(alice mallory)
    for u in "${wanted[@]}"; do
        [[ $users == *" $u "* ]] && continue
        while [[ $taken == *" $next "* ]]; do next=$((next + 1)); done
        echo "$u:x:$next:$next::/home/$u:/bin/bash" >>/etc/passwd
        echo "$u:x:$next:" >>/etc/group
        echo "$u:!:20000:0:99999:7:::" >>/etc/shadow
        [ -e /etc/gshadow ] && echo "$u:!::" >>/etc/gshadow
        install -d -m 0700 -o "$next" -g "$next" "/home/$u"
        taken+="$next "
    done
}

# vm_as USER CMD...: run CMD as USER with a clean environment and USER's groups.
vm_as() {
    vm_as_command "$1"
    shift
    "${VM_AS_COMMAND[@]}" "$@"
}

# vm_as_command USER: VM_AS_COMMAND becomes vm_as's prefix for USER, for a program started in the
# background whose pid ($!) must be its own ("${VM_AS_COMMAND[@]}" CMD &: every part execs the next).
vm_as_command() {
    VM_AS_COMMAND=(env -i HOME="/home/$1" USER="$1" LOGNAME="$1" LANG=C.UTF-8
        PATH=/usr/local/bin:/usr/bin:/bin
        setpriv --reuid="$1" --regid="$1" --init-groups --)
}

# vm_stop PID: ends what a background `vm_as USER CMD... &` runs and waits for it. PID ($!) is
# the subshell running vm_as; CMD is its child, which a plain `kill PID` leaves running.
vm_stop() {
    local pid=$1 child
    for child in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
        kill "$child" 2>/dev/null || true
    done
    wait "$pid" 2>/dev/null || true
}

# Installs the build tree into the guest's /usr as a package would (vm-run staged it in
# /vmshare/install.tar), plus polkit rules for the test users. Call it before starting the
# daemons, or they are told to reload.
vm_install_coffer() {
    [ -s /vmshare/install.tar ] || vm_fail "nothing staged in /vmshare/install.tar: is $COFFER_BUILD_DIR built?"
    # Units and rules go to /lib here (pkg-config's answer on Debian 12), which is a symlink to
    # usr/lib: tar must follow it as dpkg does, not replace it with a directory.
    tar -xf /vmshare/install.tar -C / --no-overwrite-dir --keep-directory-symlink
    vm_install_test_polkit_rules
    # Daemons already running are told to reload (their sockets exist only while they run).
    if [ -S /run/dbus/system_bus_socket ]; then
        busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
    fi
    if [ -S /run/udev/control ]; then
        udevadm control --reload
    fi
    # systemd learns of the helper's unit (D-Bus activation goes through it).
    if vm_systemd; then
        systemctl daemon-reload
    fi
}

# The polkit rules for the test users: alice and bob may act on their own vaults, mallory on nothing
# (polkitd reads rules.d as it changes).
vm_install_test_polkit_rules() {
    mkdir -p "$(dirname "$TEST_POLKIT_RULES")"
    cat >"$TEST_POLKIT_RULES" <<'RULES'
// Test users: alice and bob may act on their own vaults, mallory on nothing.
polkit.addRule(function(action, subject) {
    if (action.id.indexOf("org.coffer.helper.") != 0)
        return polkit.Result.NOT_HANDLED;
    if ((subject.user == "alice" || subject.user == "bob") && action.id != "org.coffer.helper.manage-other-users")
        return polkit.Result.YES;
    return polkit.Result.NO;
});
RULES
}

# vm_session USER VT: a logind session of USER on seat0's virtual terminal VT, as a login on
# that console makes it (PAM's login stack with pam_systemd); its process sleeps until the
# scenario ends. vm_switch_vt VT makes that terminal the foreground one: its session becomes
# the seat's active session. Both need systemd (vm-boot: systemd).
vm_session() {
    systemd-run --quiet --unit="session-of-$1" -p PAMName=login -p User="$1" -p TTYPath="/dev/tty$2" \
        -p StandardInput=tty-force -p StandardOutput=null /bin/sleep infinity
    vm_wait_until 30 vm_session_of "$1" || vm_fail "logind made no session for $1"
}

vm_session_of() { loginctl list-sessions --no-legend | grep -q " $1 "; }

vm_switch_vt() { # what chvt does (kbd is not installed): VT_ACTIVATE, then VT_WAITACTIVE
    /usr/bin/python3 -c 'import fcntl, os, sys
fd = os.open("/dev/tty0", os.O_RDWR)
fcntl.ioctl(fd, 0x5606, int(sys.argv[1]))
fcntl.ioctl(fd, 0x5607, int(sys.argv[1]))' "$1"
}
