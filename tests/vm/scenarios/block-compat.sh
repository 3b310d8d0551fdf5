# core/block in a real kernel (issue 3), second part: compatibility both ways with the stock
# tools (cryptsetup open + mount; the seed's manual recipe; LUKS1 as Tomb makes it), and a
# process killed in the middle of create and of open, checked against the kernel's state.
source "$COFFER_SOURCE_DIR/tests/vm/scenarios/block-common.inc"
vault_fixture

vm_step "a vault made by core/ with known files"
: >v.img
"$T" create v.img 128M compat --pass-file pass2 "${PBKDF[@]}" --owner 1000:1000 >/dev/null
open_vault v.img --pass-file pass2
mkdir -p "$MP/docs"
for i in $(seq 1 2000); do echo "$MARK line $i"; done >"$MP/docs/notes.txt"
head -c 3M /dev/urandom >"$MP/docs/blob"
sha256sum "$MP/docs/notes.txt" "$MP/docs/blob" | sed "s|$MP|MP|" >sums
close_vault

vm_step "compatibility: Coffer's vault opens with stock cryptsetup open + mount"
cryptsetup open v.img stock --key-file pass2
mkdir -p stockmnt && mount /dev/mapper/stock stockmnt
check_sums "$SCRATCH/stockmnt" || vm_fail "data differs through stock cryptsetup"
umount stockmnt && cryptsetup close stock
vm_assert_nothing_attached

vm_step "compatibility: a vault made by hand with the seed recipe opens through core/"
truncate -s 64M seed.img
loop=$(losetup --find --show seed.img)
printf pw | cryptsetup luksFormat -q --pbkdf argon2id --pbkdf-memory 8192 --pbkdf-force-iterations 4 "$loop" -
printf pw | cryptsetup open "$loop" seed -
mkfs.ext4 -q /dev/mapper/seed && mkdir -p seedmnt && mount /dev/mapper/seed seedmnt
echo "seed data" >seedmnt/hello
umount seedmnt && cryptsetup close seed && losetup -d "$loop"
vm_assert_nothing_attached
printf pw >seedpass
open_vault seed.img --pass-file seedpass
[ "$(cat "$MP/hello")" = "seed data" ] || vm_fail "seed vault content"
close_vault

vm_step "compatibility: a LUKS1 container (as Tomb makes them) opens too"
truncate -s 64M luks1.img
printf pw | cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 luks1.img -
printf pw | cryptsetup open luks1.img l1 -
mkfs.ext4 -q /dev/mapper/l1 && mount /dev/mapper/l1 seedmnt && echo luks1 >seedmnt/hello
umount seedmnt && cryptsetup close l1
vm_assert_nothing_attached
open_vault luks1.img --pass-file seedpass
[ "$(field type open.out)" = LUKS1 ] && [ "$(cat "$MP/hello")" = luks1 ] || vm_fail "LUKS1 vault"
close_vault

vm_step "killed in the middle of create: cleanup leaves nothing attached"
: >big.img
"$T" create big.img 1G killme --pass-file pass "${PBKDF[@]}" >/dev/null 2>&1 &
pid=$!
# Kill it once its dm-crypt mapping exists (mke2fs is running): a busy-wait on sysfs, bounded.
for _ in $(seq 1 200000); do compgen -G '/sys/block/dm-*' >/dev/null && break; kill -0 $pid 2>/dev/null || break; done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
echo "at the kill: $(vm_attached_state | tr '\n' ';')"
"$T" cleanup
vm_assert_nothing_attached

vm_step "killed in the middle of open: cleanup (or lock, if it got as far as mounting) leaves nothing"
"$T" open v.img "$MP" --pass-file pass2 --fsck yes >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200000); do compgen -G '/sys/block/dm-*' >/dev/null && break; kill -0 $pid 2>/dev/null || break; done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
echo "at the kill: $(vm_attached_state | tr '\n' ';')"
if mountpoint -q "$MP"; then "$T" close "$MP"; fi
"$T" cleanup
vm_assert_nothing_attached
open_vault v.img --pass-file pass2
check_sums "$MP" || vm_fail "data changed after the killed open"
close_vault

vm_step "after a crash of the opener, the kernel owns the teardown: a plain umount frees everything"
open_vault v.img --pass-file pass2
umount "$MP"
vm_assert_nothing_attached
echo "all compatibility and crash checks passed"
