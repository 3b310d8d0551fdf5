# A real X11 desktop in the guest for scenarios that drive the desktop app (see HACKING.md, "The
# desktop in the guest"). Source it from a scenario after guest-lib.sh:
#     source "$COFFER_SOURCE_DIR/tests/vm/guest-desktop.sh"
# It starts, as one user: Xvfb, a session dbus-daemon of its own, dunst (a real notification
# server with actions), trayer (an XEmbed tray host), then `coffer --minimized` with the real
# helper on the system bus. Screenshots and logs go to $VM_ARTIFACTS, which vm-run copies to
# <build>/vm-artifacts/<scenario>/ on the host, whether the scenario passed or not.
# Everything waits on an event with a timeout (a window mapped, a name on the bus, a
# notification seen); nothing relies on a bare sleep.

VM_ARTIFACTS=${VM_ARTIFACTS:-/vmshare/artifacts}
VM_DESKTOP_DISPLAY=   # set by vm_desktop_start: the display Xvfb found free (":0" in the guest)
VM_DESKTOP_SIZE=1280x800x24
# The app vm_desktop_start_app starts (a benchmark on the host puts its build's path here).
VM_DESKTOP_APP=(coffer)
VM_DESKTOP_USER=
VM_DESKTOP_BUS=
VM_DESKTOP_RUNTIME=
VM_DESKTOP_APP_PID=
# Extra files vm_desktop_start's exit hook prints when the scenario fails (the helper's log...).
VM_DESKTOP_LOGS=()
VM_DESKTOP_PIDS=()
mkdir -p "$VM_ARTIFACTS"

# vm_desktop_as CMD...: CMD as the desktop's user, with its display and session bus.
vm_desktop_as() {
    vm_desktop_command
    "${VM_DESKTOP_COMMAND[@]}" "$@"
}

# vm_desktop_command: VM_DESKTOP_COMMAND becomes vm_desktop_as's prefix (see vm_as_command).
vm_desktop_command() {
    vm_as_command "$VM_DESKTOP_USER"
    VM_DESKTOP_COMMAND=("${VM_AS_COMMAND[@]}" /usr/bin/env DISPLAY="$VM_DESKTOP_DISPLAY"
        DBUS_SESSION_BUS_ADDRESS="$VM_DESKTOP_BUS" XDG_RUNTIME_DIR="$VM_DESKTOP_RUNTIME"
        XDG_SESSION_TYPE=x11 QT_QPA_PLATFORM=xcb)
}

# vm_desktop_spawn LOG CMD...: CMD in the background as vm_desktop_as runs it, stdout and stderr
# into LOG; VM_DESKTOP_SPAWNED is its pid (vm_desktop_stop ends it).
vm_desktop_spawn() {
    local log=$1
    shift
    vm_desktop_command
    "${VM_DESKTOP_COMMAND[@]}" "$@" >"$log" 2>&1 &
    VM_DESKTOP_SPAWNED=$!
    VM_DESKTOP_PIDS+=($!)
}

# vm_desktop_start USER: the desktop of USER (Xvfb, session bus, dunst, trayer), without the app.
# Fails if a part does not come up within its timeout. Installs an EXIT hook that, when the
# scenario fails, prints the app's output, dunst's log, the notifications seen and
# VM_DESKTOP_LOGS, and takes a last screenshot (failure.png).
vm_desktop_start() {
    VM_DESKTOP_USER=$1
    local uid
    uid=$(id -u "$1")
    VM_DESKTOP_RUNTIME=/run/user/$uid
    install -d -m 0700 -o "$uid" -g "$uid" "$VM_DESKTOP_RUNTIME"
    VM_DESKTOP_BUS=unix:path=$VM_DESKTOP_RUNTIME/coffer-desktop-bus
    chown "$uid" "$VM_ARTIFACTS"
    trap 'vm_desktop_exit_hook $?' EXIT

    vm_step "desktop of $1: Xvfb, a session bus, dunst, trayer"
    # -displayfd: Xvfb takes the first free display and writes its number once it accepts clients.
    rm -f "$VM_DESKTOP_RUNTIME/xvfb-ready"
    vm_desktop_spawn "$VM_ARTIFACTS/xvfb.log" /bin/sh -c "exec Xvfb -screen 0 $VM_DESKTOP_SIZE -nolisten tcp -noreset \
        -displayfd 3 3>$VM_DESKTOP_RUNTIME/xvfb-ready"
    vm_wait_until 60 vm_desktop_xvfb_ready || vm_fail "Xvfb did not start"
    VM_DESKTOP_DISPLAY=:$(<"$VM_DESKTOP_RUNTIME/xvfb-ready")
    # --fork returns once the bus accepts connections.
    vm_desktop_as dbus-daemon --session --fork --address="$VM_DESKTOP_BUS" \
        --print-pid=1 >"$VM_DESKTOP_RUNTIME/bus.pid" || vm_fail "the session bus did not start"
    VM_DESKTOP_PIDS+=("$(<"$VM_DESKTOP_RUNTIME/bus.pid")")
    # Every call to org.freedesktop.Notifications, for vm_desktop_wait_notification.
    vm_desktop_spawn "$VM_ARTIFACTS/notifications.log" dbus-monitor \
        "type='method_call',interface='org.freedesktop.Notifications'" "type='signal',interface='org.freedesktop.Notifications'"
    vm_desktop_spawn "$VM_ARTIFACTS/dunst.log" dunst -config "$COFFER_SOURCE_DIR/tests/vm/dunstrc"
    vm_desktop_spawn "$VM_ARTIFACTS/trayer.log" trayer --edge top --align right --widthtype request --height 28 \
        --transparent false --tint 0x303030 --SetDockType true
    vm_wait_until 60 vm_desktop_has_name org.freedesktop.Notifications || vm_fail "dunst did not take org.freedesktop.Notifications"
    vm_wait_until 60 vm_desktop_tray_width_over 0 || vm_fail "trayer's panel did not appear"
}

vm_desktop_xvfb_ready() {
    local n
    [ -s "$VM_DESKTOP_RUNTIME/xvfb-ready" ] && read -r n <"$VM_DESKTOP_RUNTIME/xvfb-ready" && [[ $n == [0-9]* ]]
}

# vm_desktop_has_name NAME: someone owns NAME on the desktop's session bus.
vm_desktop_has_name() {
    [[ $(vm_desktop_as busctl --address="$VM_DESKTOP_BUS" call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus NameHasOwner s "$1" 2>/dev/null) == *true* ]]
}

# vm_desktop_start_app [ARGS...]: `coffer --minimized ARGS` as the desktop's user (its output
# into $VM_ARTIFACTS/coffer.log); returns once it owns org.coffer.Coffer on the session bus and its
# tray icon is docked in trayer.
vm_desktop_start_app() {
    vm_desktop_spawn "$VM_ARTIFACTS/coffer.log" "${VM_DESKTOP_APP[@]}" --minimized "$@"
    VM_DESKTOP_APP_PID=$VM_DESKTOP_SPAWNED
    vm_wait_until 60 vm_desktop_has_name org.coffer.Coffer || vm_fail "coffer did not start"
    vm_wait_until 60 vm_desktop_tray_width_over 16 || vm_fail "coffer's tray icon did not dock in trayer"
}

# vm_desktop_tray_width_over PIXELS: trayer's panel is mapped and wider than PIXELS (empty, it is
# 2 pixels wide; it grows by an icon's width for every XEmbed icon docked in it).
vm_desktop_tray_width_over() {
    local w
    w=$(vm_desktop_as xdotool search --onlyvisible --class '^trayer$' getwindowgeometry %@ 2>/dev/null) || return 1
    [[ $w =~ Geometry:\ ([0-9]+)x ]] && [ "${BASH_REMATCH[1]}" -gt "$1" ]
}

# vm_desktop_screenshot NAME: the whole screen into $VM_ARTIFACTS/NAME.png.
vm_desktop_screenshot() {
    import -display "$VM_DESKTOP_DISPLAY" -window root "$VM_ARTIFACTS/$1.png" \
        || vm_fail "no screenshot $1"
    echo "screenshot: $1.png"
}

# vm_desktop_tray_look: a fingerprint of what the tray shows now (its panel's pixels), for
# vm_desktop_wait_tray_change.
vm_desktop_tray_look() {
    local g sum
    g=$(vm_desktop_as xdotool search --onlyvisible --class '^trayer$' getwindowgeometry %@ 2>/dev/null) || return 1
    [[ $g =~ Position:\ ([0-9]+),([0-9]+).*Geometry:\ ([0-9]+)x([0-9]+) ]] || return 1
    sum=$(import -display "$VM_DESKTOP_DISPLAY" -window root \
        -crop "${BASH_REMATCH[3]}x${BASH_REMATCH[4]}+${BASH_REMATCH[1]}+${BASH_REMATCH[2]}" rgb:- | md5sum) || return 1
    echo "${sum%% *}"
}

vm_desktop_tray_looks_other_than() { local now; now=$(vm_desktop_tray_look) && [ "$now" != "$1" ]; }

# vm_desktop_wait_tray_change LOOK [SECONDS]: waits until the tray no longer shows LOOK (from
# vm_desktop_tray_look before the event): the app has heard of a change and drawn its new state.
vm_desktop_wait_tray_change() {
    vm_wait_until "${2:-30}" vm_desktop_tray_looks_other_than "$1" || vm_fail "the tray did not change in ${2:-30}s"
}

# vm_desktop_find_window REGEX: prints the X id of the first visible window whose title matches.
# Qt appends the app's display name to a top-level window's title ("Backup of “keys” — Coffer"),
# so a pattern anchored at the end allows for it.
vm_desktop_find_window() {
    local ids
    ids=$(vm_desktop_as xdotool search --onlyvisible --name "$1" 2>/dev/null) && [ -n "$ids" ] || return 1
    echo "${ids%%$'\n'*}"
}

# vm_desktop_wait_window REGEX [SECONDS]: waits until a visible window's title matches REGEX;
# prints its X id. Not xdotool's --sync: a search fails outright (BadWindow) when another window
# goes away while it reads the titles, so each failed look is only a retry.
vm_desktop_wait_window() {
    vm_wait_until "${2:-30}" vm_desktop_find_window "$1" && vm_desktop_find_window "$1" \
        || vm_fail "no window titled /$1/ after ${2:-30}s"
}

# vm_desktop_window_gone REGEX: no visible window's title matches REGEX. A search that found
# nothing fails silently; one that failed on an X error says so, and proves nothing.
vm_desktop_window_gone() {
    local err
    err=$(vm_desktop_as xdotool search --onlyvisible --name "$1" 2>&1 >/dev/null) && return 1
    [ -z "$err" ]
}

# vm_desktop_wait_window_gone REGEX [SECONDS]
vm_desktop_wait_window_gone() {
    vm_wait_until "${2:-30}" vm_desktop_window_gone "$1" || vm_fail "a window titled /$1/ is still there after ${2:-30}s"
}

# vm_desktop_notified TEXT: a notification with TEXT (a summary or body, verbatim) was sent.
vm_desktop_notified() { grep -qF -- "string \"$1" "$VM_ARTIFACTS/notifications.log"; }

# vm_desktop_wait_notification TEXT [SECONDS]: waits until a notification with TEXT was sent to
# dunst and dunst shows one.
vm_desktop_wait_notification() {
    vm_wait_until "${2:-30}" vm_desktop_notified "$1" || vm_fail "no notification \"$1\" after ${2:-30}s"
    vm_wait_until 10 vm_desktop_notifications_shown || vm_fail "dunst shows no notification"
}

vm_desktop_notifications_shown() { [ "$(vm_desktop_as dunstctl count displayed)" -gt 0 ]; }

# vm_desktop_notification_action [INDEX]: what a click on notification INDEX (0: the top one)
# does: its default action, through dunst (ActionInvoked goes to the app from dunst itself).
vm_desktop_notification_action() {
    vm_desktop_as dunstctl action "${1:-0}" || vm_fail "dunstctl action failed"
}

# vm_desktop_close_notifications: dismisses every notification shown.
vm_desktop_close_notifications() { vm_desktop_as dunstctl close-all; }

# vm_desktop_type WINDOW TEXT: focuses WINDOW (an X id) and types TEXT with XTEST key events.
vm_desktop_type() {
    vm_desktop_as xdotool windowfocus --sync "$1" type --delay 20 -- "$2" || vm_fail "could not type into window $1"
}

# vm_desktop_key WINDOW KEY...: focuses WINDOW and presses KEYs (xdotool names: Return, Escape, ctrl+l).
vm_desktop_key() {
    local w=$1
    shift
    vm_desktop_as xdotool windowfocus --sync "$w" key --delay 50 "$@" || vm_fail "could not press $* in window $w"
}

# vm_desktop_windows: the visible windows' ids and titles (for a log).
vm_desktop_windows() {
    vm_desktop_as xdotool search --onlyvisible --name . getwindowname %@ 2>/dev/null || true
}

vm_desktop_dump() {
    local f
    echo "---- visible windows"
    vm_desktop_windows
    for f in "$VM_ARTIFACTS/coffer.log" "$VM_ARTIFACTS/dunst.log" "$VM_ARTIFACTS/notifications.log" "${VM_DESKTOP_LOGS[@]}"; do
        [ -e "$f" ] || continue
        echo "---- $f"
        tail -n 80 "$f"
    done
} >&2

vm_desktop_exit_hook() {
    trap - EXIT
    if [ "$1" != 0 ] && [ -n "$VM_DESKTOP_USER" ]; then
        import -display "$VM_DESKTOP_DISPLAY" -window root "$VM_ARTIFACTS/failure.png" 2>/dev/null \
            && echo "screenshot: failure.png" >&2
        vm_desktop_dump
    fi
    vm_desktop_stop
    exit "$1"
}

# vm_desktop_stop: ends the app and the desktop (the app first: it says goodbye on the bus).
vm_desktop_stop() {
    local i
    for ((i = ${#VM_DESKTOP_PIDS[@]} - 1; i >= 0; i--)); do
        kill "${VM_DESKTOP_PIDS[i]}" 2>/dev/null || true
    done
    VM_DESKTOP_PIDS=()
}
