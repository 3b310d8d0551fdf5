# Guest side of tests/bench/bench-media (not a CTest scenario): see there.
OUT=/vmshare/bench-media.txt
A=/home/alice
MP=/media/alice/BENCH
FILES=10000
PBKDF=(--pbkdf-memory-kib 16384 --pbkdf-iterations 4)
STOCK=/mnt/stock
: >"$OUT"
result() { echo "$*" | tee -a "$OUT"; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
# The kernel's clock at its last log line matching PATTERN, in ms (printk times are CLOCK_MONOTONIC).
kernel_ms() { dmesg | grep -E "$1" | tail -1 | sed 's/^\[ *\([0-9]*\)\.\([0-9]\{3\}\).*/\1\2/'; }
stick_dev() { blkid -L BENCH 2>/dev/null; }
mount_stick() { vm_wait_until 120 stick_dev || vm_fail "no stick"; mount "$(stick_dev)" "$MP"; }
no_stick() { ! compgen -G "/sys/block/sd*" >/dev/null; }
ADDED='"event":"medium-added".*"source":"udev"' # the watcher's own monitor, as the agent's (keys come sorted)

vm_add_test_users
vm_install_coffer
mkdir -p /etc/coffer "$STOCK"
printf '[helper]\nIdleSeconds=3\n' >/etc/coffer/helper.conf
vm_start_dbus
vm_launch_polkitd
vm_start_udevd
vm_wait_polkitd
install -d -m 0750 -o alice -g alice /media/alice
mkdir "$MP"
vm_as alice cofferctl watch --json >watch.log 2>&1 &
vm_wait_until 30 grep -q '"event":"watching"' watch.log || vm_fail "no watcher"
vm_event ready-for-stick
mount_stick
install -d -o alice -g alice "$MP/alice"

vm_step "a vault, $FILES files, registered with a key file, backed up once"
head -c 64 /dev/urandom >$A/key
printf 'bench-pass' >$A/pw
/usr/bin/python3 - "$A/data" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%02d" % (i % 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "w") as f:
        f.write("file %d\n" % i * (i % 7 + 1))
PY
chown -R alice:alice $A
chmod 600 $A/key $A/pw
vm_as alice cofferctl create "$MP/alice/bench.coffer" --size 512M --name bench --passphrase-file $A/pw --keyfile $A/key "${PBKDF[@]}"
vm_as alice cofferctl register "$MP/alice/bench.coffer" --source $A/data --trigger backup --keyfile $A/key >/dev/null
vm_as alice cofferctl sync "$MP/alice/bench.coffer" --source $A/data --keyfile $A/key --lock-after >/dev/null
result "files=$FILES"
vm_as alice cofferctl agent --no-prompt >agent.log 2>&1 </dev/null &

plug() { # ROUND: pull the stick out, plug it back in; the plug's latency to the watcher's event
    local round=$1 events
    umount "$MP"
    vm_event "yank-$round"
    vm_wait_until 60 no_stick || vm_fail "the stick did not go"
    events=$(grep -c "$ADDED" watch.log || true)
    vm_event "plug-$((round + 1))"
    vm_wait_until 120 vm_more_lines_than "$events" "$ADDED" watch.log || vm_fail "no medium-added"
    local event usb disk
    event=$(grep "$ADDED" watch.log | tail -1 | sed 's/.*"monotonic-ms":\([0-9]*\).*/\1/')
    usb=$(kernel_ms 'new .*USB device number')
    disk=$(kernel_ms 'Attached SCSI removable disk')
    result "usb_to_event_ms=$((event - usb))"
    result "disk_to_event_ms=$((event - disk))"
    USB_MS=$usb
}

for round in 1 2; do
    vm_step "round $round: plug, mount, the agent backs up (no change) and locks"
    sync; echo 3 >/proc/sys/vm/drop_caches
    safe=$(grep -c 'safe to unplug' agent.log || true)
    plug $round
    mount_stick
    t0=$(now_ms)
    uptime0=$(awk '{printf "%d", $1 * 1000}' /proc/uptime)
    vm_wait_until 300 vm_more_lines_than "$safe" 'safe to unplug' agent.log || { cat agent.log; vm_fail "the agent did not finish"; }
    t1=$(now_ms)
    result "agent_mount_to_safe_ms=$((t1 - t0))"
    result "agent_plug_to_safe_ms=$((t1 - t0 + uptime0 - USB_MS))"

    vm_step "round $round: the manual recipe on the same vault"
    vm_wait_until 30 vm_attached_is_baseline || vm_fail "the agent left the vault attached"
    sync; echo 3 >/proc/sys/vm/drop_caches
    t0=$(now_ms)
    cryptsetup open --key-file $A/key "$MP/alice/bench.coffer" bench-stock
    mount /dev/mapper/bench-stock "$STOCK"
    rsync -a --delete $A/data/ "$STOCK/current/data/"
    umount "$STOCK"
    cryptsetup close bench-stock
    t1=$(now_ms)
    result "manual_ms=$((t1 - t0))"
done
result done
