# The drive is yanked while a vault on it is open (design.md 5): a lazy close tears everything
# down (lazy unmount, deferred dm removal, loop autoclear); after re-plugging, the vault opens
# again, e2fsck runs first, and every file synced before the yank is intact.
source "$COFFER_SOURCE_DIR/tests/vm/scenarios/block-common.inc"
MP=/run/coffer/0/yank
mkdir -p "$MP" /media/stick
printf 'yank pass' >pass

stick_dev() { for d in /sys/block/sd*; do [ -e "$d" ] && echo "/dev/${d##*/}"; done | head -1; }
has_stick() { [ -n "$(stick_dev)" ]; }

vm_step "plug a stick, create a vault on it, open it, write and sync"
vm_event ready-for-stick
vm_wait_until 120 has_stick || vm_fail "no stick"
dev=$(stick_dev)
vm_wait_until 30 blkid "$dev" || vm_fail "the stick has no filesystem"
mount "$dev" /media/stick
: >/media/stick/v.vault
"$T" create /media/stick/v.vault 128M yank --pass-file pass "${PBKDF[@]}" >/dev/null
"$T" open /media/stick/v.vault "$MP" --pass-file pass >open.out
head -c 4M /dev/urandom >"$MP/synced.bin"
sha256sum "$MP/synced.bin" | sed "s|$MP|MP|" >sums
sync
head -c 1M /dev/urandom >"$MP/unsynced.bin"   # may or may not survive; must not break anything

vm_step "yank the stick while the vault is open"
vm_event yank-now
vm_wait_until 60 test ! -e "/sys/block/${dev#/dev/}" || vm_fail "the stick did not go away"
echo "the stick is gone: $dev"

vm_step "lock lazily: nothing stays attached"
"$T" close "$MP" --lazy || vm_fail "lazy close failed"
umount -l /media/stick || true
vm_wait_until 30 bash -c '! compgen -G "/sys/block/dm-*" >/dev/null' || { vm_attached_state; vm_fail "dm device left"; }
vm_assert_nothing_attached 30

vm_step "re-plug: the vault opens after e2fsck, synced data intact"
vm_event replug-now
vm_wait_until 120 has_stick || vm_fail "the stick did not come back"
dev=$(stick_dev)
vm_wait_until 30 blkid "$dev" || vm_fail "the stick has no filesystem after re-plug"
mount "$dev" /media/stick
"$T" open /media/stick/v.vault "$MP" --pass-file pass | tee open.out
grep -qx 'fsck=1' open.out || vm_fail "no fsck after the yank"
sed "s|MP|$MP|" sums >sums.now && sha256sum -c sums.now || vm_fail "synced data lost"
"$T" close "$MP"
umount /media/stick
vm_assert_nothing_attached
echo "yank survived"
