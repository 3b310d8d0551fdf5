# core/block in a real kernel (issue 3): a vault's whole life through coffer-blocktool (which
# calls core/block as the helper will), every step checked against the kernel's own state
# (sysfs, dmsetup, losetup, mountinfo), never against our bookkeeping.
source "$COFFER_SOURCE_DIR/tests/vm/scenarios/block-common.inc"
vault_fixture

vm_step "create a 256 MiB vault (passphrase in slot 0, key file in slot 1, root owned by 1000:1000)"
: >v.img
"$T" create v.img 256M demo --pass-file pass --keyfile key "${PBKDF[@]}" --owner 1000:1000 | tee create.out
vm_assert_nothing_attached 5
cryptsetup luksDump v.img >dump.txt
grep -q '^Version:[[:space:]]*2' dump.txt || vm_fail "not LUKS2"
grep -q '^Label:[[:space:]]*coffer:demo' dump.txt || vm_fail "label is not coffer:demo"
grep -q '^Subsystem:[[:space:]]*coffer' dump.txt || vm_fail "subsystem is not coffer"
grep -q 'cipher: aes-xts-plain64' dump.txt || vm_fail "cipher is not aes-xts-plain64"
grep -q 'sector: 4096' dump.txt || vm_fail "sector size is not 4096"
grep -Eq '^[[:space:]]+0: luks2' dump.txt && grep -Eq '^[[:space:]]+1: luks2' dump.txt \
    || vm_fail "key slots 0 and 1 are not both there"
echo "allocated: $(du -k v.img | cut -f1) KiB of $(( $(stat -c %s v.img) / 1024 )) KiB (sparse)"

vm_step "a wrong passphrase is refused and leaves nothing attached"
expect_rc 4 "$T" open v.img "$MP" --pass-file bad
vm_assert_nothing_attached 5

vm_step "a file with no LUKS header is refused with a message that says so"
head -c 8M /dev/urandom >noise.img
expect_rc 1 "$T" open noise.img "$MP" --pass-file pass
grep -q 'no readable LUKS header' err.log || vm_fail "message does not say there is no LUKS header"
vm_assert_nothing_attached 5

vm_step "open: loop (autoclear, 4096-byte blocks) -> dm-crypt (no workqueues) -> ext4 (nosuid,nodev,noexec)"
open_vault v.img --pass-file pass
cat open.out
cp open.out open0.out
n=${LOOP#/dev/loop}
[ "$(cat /sys/block/loop$n/loop/autoclear)" = 1 ] || vm_fail "loop autoclear is off"
[ "$(cat /sys/block/loop$n/queue/logical_block_size)" = 4096 ] || vm_fail "loop block size is not 4096"
[ "$(cat /sys/block/loop$n/loop/backing_file)" = "$SCRATCH/v.img" ] || vm_fail "loop backing file"
table=$(dmsetup table "$MAPPER")
echo "dm table: ${table//[0-9a-f]\{64,\}/<key>}" | sed -E 's/:[0-9a-f]{32,}//'
case $table in *no_read_workqueue*no_write_workqueue*) ;; *) vm_fail "dm-crypt runs with workqueues" ;; esac
case $table in *sector_size:4096*) ;; *) vm_fail "dm-crypt sector size is not 4096" ;; esac
case $table in *":64:logon:cryptsetup:"*) echo "volume key in the kernel keyring" ;; *) vm_fail "volume key not in the keyring" ;; esac
dmsetup info "$MAPPER" | tee dminfo.txt | grep -q 'DEFERRED REMOVE' || { cat dminfo.txt; vm_fail "deferred removal not set"; }
opts=$(findmnt -n -o OPTIONS "$MP")
echo "mount options: $opts"
for o in nosuid nodev noexec errors=remount-ro; do
    case ",$opts," in *",$o,"*) ;; *) vm_fail "mount option $o missing" ;; esac
done
[ "$(stat -c %u:%g "$MP")" = 1000:1000 ] || vm_fail "vault root is not owned by 1000:1000"

vm_step "write files with a known plaintext"
mkdir -p "$MP/docs"
for i in $(seq 1 2000); do echo "$MARK line $i"; done >"$MP/docs/notes.txt"
head -c 3M /dev/urandom >"$MP/docs/blob"
sha256sum "$MP/docs/notes.txt" "$MP/docs/blob" | sed "s|$MP|MP|" >sums
sync

vm_step "lock while busy: refused, naming the process; then by force"
(cd "$MP/docs" && exec sleep 600) &
holder=$!
held_by() { "$T" holders "$MP" | grep -q "^$1 "; }
vm_wait_until 10 held_by "$holder" || vm_fail "holder not found"
"$T" holders "$MP"
expect_rc 6 "$T" close "$MP"
grep -q "sleep (pid $holder, working directory)" err.log || vm_fail "busy message does not name the holder"
mountpoint -q "$MP" || vm_fail "a refused lock unmounted the vault"
close_vault --force
if kill -0 "$holder" 2>/dev/null; then vm_fail "holder survived a forced lock"; fi
wait "$holder" 2>/dev/null || true

vm_step "the known plaintext never appears in the backing file"
if grep -q "$MARK" v.img; then vm_fail "plaintext found in the backing file"; fi
echo "absent"

vm_step "reopen with the key file: data intact; ext4 left clean, so no fsck"
open_vault v.img --keyfile key
[ "$(field fsck open.out)" = 0 ] || vm_fail "fsck ran on a cleanly closed vault"
[ "$(field keyslot open.out)" = 1 ] || vm_fail "key file did not use slot 1"
check_sums "$MP" || vm_fail "data changed"

vm_step "a vault that was not closed cleanly gets e2fsck before mounting"
echo more >"$MP/docs/after-copy"
sync
cp --sparse=always v.img dirty.img     # a crash image: journal marked as needing recovery
close_vault
"$T" info dirty.img | grep -q "uuid=$UUID"
open_vault dirty.img --pass-file pass
[ "$(field fsck open.out)" = 1 ] || vm_fail "fsck did not run on an unclean vault"
check_sums "$MP" || vm_fail "data changed in the crash image"
close_vault
rm -f dirty.img

vm_step "change the passphrase: the old one stops working"
"$T" change-pass v.img --pass-file pass --new-pass-file pass2 "${PBKDF[@]}"
expect_rc 4 "$T" check v.img --pass-file pass
"$T" check v.img --pass-file pass2
expect_rc 4 "$T" open v.img "$MP" --pass-file pass
vm_assert_nothing_attached 5

vm_step "add and remove a key; the last key cannot be removed"
printf 'third' >pass3
"$T" add-key v.img --pass-file pass2 --new-pass-file pass3 "${PBKDF[@]}"
"$T" check v.img --pass-file pass3
"$T" remove-key v.img --pass-file pass3
expect_rc 4 "$T" check v.img --pass-file pass3
"$T" remove-key v.img --pass-file key
expect_rc 2 "$T" remove-key v.img --pass-file pass2   # InvalidArgument
grep -q "only key" err.log || vm_fail "removing the last key was not refused clearly"
"$T" info v.img | grep -x 'slots=0'

vm_step "header backup; both header copies destroyed; restore; data intact"
"$T" backup-header v.img hdr.bak
dd if=/dev/zero of=v.img bs=4096 count=8 conv=notrunc status=none   # primary + secondary (16 KiB each)
expect_rc 1 "$T" open v.img "$MP" --pass-file pass2
grep -q 'header backup' err.log || vm_fail "message does not point to the header backup"
vm_assert_nothing_attached 5
"$T" restore-header v.img hdr.bak
open_vault v.img --pass-file pass2
check_sums "$MP" || vm_fail "data changed after the header restore"
close_vault

vm_step "grow, closed: 256 MiB -> 384 MiB"
"$T" grow v.img 384M --pass-file pass2
[ "$(stat -c %s v.img)" = $((384 << 20)) ] || vm_fail "file not grown"
vm_assert_nothing_attached 5
open_vault v.img --pass-file pass2
size1=$(field size open.out)
size0=$(field size open0.out)
[ "$size1" -gt $((size0 + (100 << 20))) ] || vm_fail "filesystem did not grow ($size0 -> $size1)"
check_sums "$MP" || vm_fail "data changed by grow"

vm_step "grow, open (online): 384 MiB -> 512 MiB"
"$T" grow v.img 512M --pass-file pass2 --online "$MP"
size2=$(df -B1 --output=size "$MP" | tail -1)
[ "$size2" -gt $((size1 + (100 << 20))) ] || vm_fail "filesystem did not grow online ($size1 -> $size2)"
dmsetup info "$MAPPER" | grep -q 'DEFERRED REMOVE' || vm_fail "deferred removal lost by the resize"
check_sums "$MP" || vm_fail "data changed by online grow"
close_vault

echo "all lifecycle checks passed"
