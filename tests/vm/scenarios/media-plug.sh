# core/media against the real thing: udevd tags a hot-plugged USB stick (rules/90-coffer.rules),
# and the monitor, running as alice (not root), hears it come with its facts, be mounted (mount
# point, free space), be unmounted and be pulled out; the scanner, as alice, finds the vaults on
# the stick's real FAT filesystem under hostile names (not UTF-8, 255 bytes, spaces), and
# refuses to run as root.
M=$COFFER_BUILD_DIR/tests/tools/coffer-mediatool
MP="/media/alice/MY STICK"

vm_step "udevd with the installed rule; a watcher as alice before the stick comes"
vm_add_test_users
vm_install_coffer
vm_start_udevd
vm_as alice "$M" watch >watch.log 2>&1 &
vm_wait_until 30 grep -qx watching watch.log || { cat watch.log; vm_fail "the watcher did not start"; }
if grep -q '^present' watch.log; then vm_fail "a medium before any was plugged: $(cat watch.log)"; fi
vm_event ready-for-stick

vm_step "plugged: added, with its facts, not mounted"
vm_wait_until 120 grep -q '^added ' watch.log || { cat watch.log; vm_fail "no added event"; }
added=$(grep '^added ' watch.log)
echo "$added"
[[ $added == *" label=MY%20STICK "* && $added == *" fs-type=vfat "* && $added == *" mounts=- free=-" ]] \
    || vm_fail "wrong facts: $added"
[[ $added =~ size=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" = $((128 << 20)) ] || vm_fail "wrong size: $added"
dev=$(sed -n 's/^added device=\([^ ]*\) .*/\1/p' <<<"$added")
[ -b "$dev" ] || vm_fail "no device node $dev"

vm_step "mounted as a desktop would: changed, with the mount point and its free space"
install -d -m 0750 -o alice -g alice /media/alice
mkdir "$MP"
mount -t vfat -o "uid=$(id -u alice),gid=$(id -g alice),iocharset=iso8859-1,utf8=0,nosuid,nodev" "$dev" "$MP"
vm_wait_until 30 grep -q '^changed .* mounts=/media/alice/MY%20STICK free=[0-9]' watch.log \
    || { cat watch.log; vm_fail "the mount was not noticed"; }

vm_step "vaults on the stick, with hostile names"
printf pw >key
luks() { # TYPE FILE [cryptsetup options]: a header made by stock cryptsetup, its first MiB copied
    local type=$1 file=$2
    shift 2
    truncate -s 17M "$SCRATCH/hdr"
    cryptsetup luksFormat -q --type "$type" --pbkdf-force-iterations 1000 --key-file key "$@" "$SCRATCH/hdr"
    head -c 1M "$SCRATCH/hdr" >"$file"
}
cafe=$(printf 'caf\xe9.coffer')     # Latin-1 under this mount: not UTF-8 when read back
long=$(printf 'n%.0s' {1..248}).coffer
mkdir "$MP/MY VAULTS"
luks luks2 "$MP/MY VAULTS/keys.coffer" --pbkdf pbkdf2 --label coffer:keys --subsystem coffer
luks luks2 "$MP/$cafe" --pbkdf pbkdf2 --label coffer:latin
luks luks2 "$MP/$long" --pbkdf pbkdf2 --subsystem coffer
luks luks1 "$MP/tomb.img"
luks luks2 "$MP/someone-else.img" --pbkdf pbkdf2
head -c 2M /dev/zero >"$MP/photo.jpg"
sync

vm_step "the scan as alice finds them; as root it refuses"
vm_as alice "$M" scan "$dev" >scan.out 2>&1 || { cat scan.out; vm_fail "the scan failed"; }
cat scan.out
grep -q '^vault path=MY%20VAULTS/keys.coffer .* name=keys size=1048576 luks=2 coffer=1$' scan.out \
    || vm_fail "keys.coffer not found"
grep -q '^vault path=caf%E9.coffer .* name=latin .* coffer=1$' scan.out || vm_fail "the Latin-1 name not found"
grep -q "^vault path=$long .* coffer=1\$" scan.out || vm_fail "the 255-byte name not found"
grep -q '^vault path=tomb.img .* luks=1 coffer=0$' scan.out || vm_fail "LUKS1 not found"
[ "$(grep -c '^vault ' scan.out)" = 4 ] || vm_fail "found more than the four vaults"
rc=0
"$M" scan "$dev" >root.out 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q 'never as root' root.out || { cat root.out; vm_fail "the scan ran as root"; }

vm_step "unmounted: changed, without a mount point; pulled out: removed, with the facts last known"
umount "$MP"
vm_wait_until 30 grep -q '^changed .* mounts=- free=-$' watch.log || { cat watch.log; vm_fail "the unmount was not noticed"; }
vm_event yank-now
vm_wait_until 60 grep -q '^removed .* label=MY%20STICK ' watch.log || { cat watch.log; vm_fail "no removed event"; }
cat watch.log
echo "plug, mount, scan, unmount, yank: all seen"
