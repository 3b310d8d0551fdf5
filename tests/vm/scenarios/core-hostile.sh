# Hostile vaults through the real stack (issue 10, core side): a forged LUKS UUID and an absurd
# key derivation cost through `cofferctl unlock` (the helper path), a hand-crafted sync manifest
# through `cofferctl sync`, and the udev rule hiding every loop device under a coffer-* mapping
# (real udevd). Each must give a clear error, write nothing outside its place, leave nothing
# attached. The helper engineer's attack cases live in helper-attacks.sh.

T=$COFFER_BUILD_DIR/tests/tools/coffer-blocktool
FORGE=$COFFER_BUILD_DIR/tests/tools/coffer-forge
PBKDF=(--pbkdf-memory-kib 16384 --pbkdf-iterations 4)
A=/home/alice

trap 'cp /var/log/coffer-helper.log "$VMSHARE/" 2>/dev/null || true' EXIT
vm_step "setup: install, bus, polkitd, udevd; alice's vault"
vm_add_test_users
vm_install_coffer
mkdir -p /etc/coffer
printf '[helper]\nLogFile=/var/log/coffer-helper.log\n' >/etc/coffer/helper.conf
vm_launch_polkitd
vm_start_dbus
vm_start_udevd
vm_wait_polkitd
printf 'alice-pass-41c9' >$A/pw
mkdir -p $A/data/sub
echo "ssh key material" >$A/data/id_ed25519
echo "more" >$A/data/sub/notes
echo "must survive" >$A/victim
chown -R alice:alice $A
vm_as alice cofferctl create $A/v.img --size 64M --name keys --passphrase-file $A/pw "${PBKDF[@]}"

# What the helper keeps outside its state records (mount points), and anything named after a
# forged UUID anywhere a path made from it could lead (/tmp and /var/tmp are the host's too).
places() { { find /run/coffer -not -path '/run/coffer/state*' 2>/dev/null || true; } | sort; }
derived() { find /etc /run /tmp /var/tmp /home -xdev \( -name '*coffer-pwned*' -o -name '*not-a-uuid*' \) 2>/dev/null || true; }
# cofferctl's output and exit code: "rc msg" in $out.
unlock_as_alice() {
    local rc=0
    out=$(vm_as alice timeout 120 cofferctl unlock "$1" --passphrase-file $A/pw 2>&1) || rc=$?
    out="$rc $out"
}

vm_step "a forged LUKS UUID through cofferctl unlock: refused, nothing written or attached"
for uuid in '../../../etc/coffer-pwned' '../../../../tmp/coffer-pwned' 'not-a-uuid'; do
    cp $A/v.img $A/forged.img
    "$FORGE" luks-uuid $A/forged.img "$uuid"
    chown alice:alice $A/forged.img
    before=$(places)
    unlock_as_alice $A/forged.img
    echo "  $uuid: $out"
    [[ $out == "1 "*UUID* ]] || vm_fail "a forged UUID was not refused with exit 1: $out"
    [ "$(places)" = "$before" ] || { diff <(echo "$before") <(places) >&2; vm_fail "files appeared for UUID $uuid"; }
    [ -z "$(derived)" ] || vm_fail "a file was made from a forged UUID: $(derived)"
    vm_assert_nothing_attached
done

vm_step "an absurd key derivation cost: refused before any derivation (not hours later)"
cp $A/v.img $A/costly.img
"$FORGE" luks-json $A/costly.img '"time":4' '"time":1000000'
chown alice:alice $A/costly.img
unlock_as_alice $A/costly.img
echo "  $out"
[[ $out == "1 "*"far beyond any real vault"* ]] || vm_fail "an absurd cost was not refused: $out"
vm_assert_nothing_attached

vm_step "a hand-crafted sync manifest through cofferctl sync: nothing outside the vault is touched"
mp=$(vm_as alice cofferctl unlock $A/v.img --passphrase-file $A/pw)
vm_as alice cofferctl sync $A/v.img --source $A/data
[ "$(stat -c %a "$mp" "$mp/current" "$mp/.coffer")" = "$(printf '700\n700\n700')" ] \
    || vm_fail "the vault's root, current/ or .coffer/ is not 0700: $(stat -c '%a %n' "$mp" "$mp/current" "$mp/.coffer")"
# An entry that climbs from current/data/ up to / and names alice's own file outside the vault.
up=$(printf '../%.0s' $(seq "$(echo "$mp/current/data" | tr -cd / | wc -c)"))
vm_as alice "$FORGE" manifest-entry "$mp/.coffer/sync" mirror-64617461.manifest "${up}home/alice/victim"
vm_as alice cofferctl sync $A/v.img --source $A/data
[ "$(cat $A/victim)" = "must survive" ] || vm_fail "the sync deleted a file outside the vault"
cmp $A/data/sub/notes "$mp/current/data/sub/notes" || vm_fail "the sync after the forged manifest is wrong"
vm_as alice cofferctl lock $A/v.img
vm_assert_nothing_attached

vm_step "a vault not closed cleanly is checked on unlock, whatever the caller asks"
# Mark alice's ext4 "not cleanly unmounted", as a crash leaves it.
printf 'alice-pass-41c9' >pw.root
cryptsetup open --key-file pw.root $A/v.img prep
debugfs -w -R "ssv state 0" /dev/mapper/prep 2>/dev/null
dumpe2fs -h /dev/mapper/prep 2>/dev/null | grep -q '^Filesystem state: *not clean' || vm_fail "could not make it unclean"
cryptsetup close prep
# Read-only cannot check it: refused, nothing attached.
out=$(vm_as alice /usr/bin/python3 "$COFFER_SOURCE_DIR/tests/vm/tools-helper/helper-call.py" /org/coffer/Helper1 \
      org.coffer.Helper1.Manager Unlock 'hha{sv}' fd:$A/v.img pipefile:$A/pw 'dict:{"read-only":true}' 2>&1) || true
echo "  read-only: $out"
[[ $out == "ERROR org.coffer.Helper1.Error.Failed"*"not closed cleanly"* ]] || vm_fail "read-only unlock of an unclean vault: $out"
vm_assert_nothing_attached
mp=$(vm_as alice cofferctl unlock $A/v.img --passphrase-file $A/pw)
cmp $A/data/sub/notes "$mp/current/data/sub/notes" || vm_fail "data changed by the check"
vm_as alice cofferctl lock $A/v.img
vm_assert_nothing_attached
cryptsetup open --readonly --key-file pw.root $A/v.img prep
dumpe2fs -h /dev/mapper/prep 2>/dev/null | grep -q '^Filesystem state: *clean$' || vm_fail "the unlock did not check the unclean vault"
cryptsetup close prep
vm_assert_nothing_attached

vm_step "udev: every loop device under a coffer-* mapping is hidden from automounters"
printf 'pw' >pass
hidden() { udevadm info -q property -n "$1" | grep -qx 'UDISKS_IGNORE=1'; }
for kind in luks2-unlabelled luks1; do
    truncate -s 64M $kind.img
    if [ $kind = luks1 ]; then
        cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 $kind.img pass
    else
        cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-memory 8192 --pbkdf-force-iterations 4 $kind.img pass
    fi
    cryptsetup open --key-file pass $kind.img prep
    mkfs.ext4 -q /dev/mapper/prep
    cryptsetup close prep
    mkdir -p /run/coffer/0/$kind
    "$T" open $kind.img /run/coffer/0/$kind --pass-file pass >open.out || { cat open.out; vm_fail "open $kind"; }
    loop=$(sed -n 's/^loop=//p' open.out)
    # The mapping by its kernel name (/dev/mapper/ links are udev's dm rules' business).
    mapper=/dev/$(ls /sys/block/${loop#/dev/}/holders)
    udevadm settle -t 30
    hidden "$loop" || { udevadm info -q property -n "$loop"; vm_fail "$kind: $loop is not hidden"; }
    hidden "$mapper" || vm_fail "$kind: the mapping $mapper is not hidden"
    # A later event of its own (a probe, "udevadm trigger") keeps it hidden while it is held.
    udevadm trigger --action=change --settle "$loop"
    hidden "$loop" || vm_fail "$kind: $loop is visible again after a change event"
    echo "  $kind: $loop and $mapper carry UDISKS_IGNORE=1"
    "$T" close /run/coffer/0/$kind
    vm_assert_nothing_attached
done
# A LUKS loop device that is not Coffer's stays visible.
loop=$(losetup --show -f luks1.img)
udevadm settle -t 30
hidden "$loop" && vm_fail "a plain LUKS loop device was hidden"
losetup -d "$loop"
vm_assert_nothing_attached
