# Guest side of tests/bench/bench-block (not a CTest scenario): on a USB stick the host plugs in,
#  1. create a 64 GiB vault with core/block vs the seed's shell recipe (truncate, losetup,
#     cryptsetup luksFormat + open, mkfs.ext4): wall time and bytes written;
#  2. open + mount with a fixed PBKDF: core/block vs `cryptsetup open` + `mount`.
# The same fixed PBKDF for both sides everywhere, so the comparison is about the storage path.
T=$COFFER_BUILD_DIR/tests/tools/coffer-blocktool
OUT=/vmshare/bench-block.txt
PBKDF=(--pbkdf-memory 65536 --pbkdf-iterations 4)
STOCK_PBKDF=(--pbkdf argon2id --pbkdf-memory 65536 --pbkdf-force-iterations 4)
MP=/run/coffer/0/bench
mkdir -p "$MP" /mnt/stick /mnt/stock
printf 'bench pass' >pass
: >"$OUT"

vm_event ready-for-stick
vm_wait_until 180 test -b /dev/sda || vm_fail "the stick did not appear"
vm_wait_until 30 blkid /dev/sda || vm_fail "the stick has no filesystem"
mount /dev/sda /mnt/stick
S=/mnt/stick
now() { date +%s%N; }
written() { awk '{print $7 * 512}' /sys/block/sda/stat; }   # bytes the stick was sent
ms() { echo $(( ($2 - $1) / 1000000 )); }
result() { echo "$*" | tee -a "$OUT"; }

vm_step "create 64 GiB: core/block"
sync; echo 3 >/proc/sys/vm/drop_caches
w0=$(written); t0=$(now)
: >$S/coffer.vault
"$T" create $S/coffer.vault 64G bench --pass-file pass "${PBKDF[@]}" >/dev/null
sync
t1=$(now); w1=$(written)
result "create_coffer_ms=$(ms $t0 $t1)"
result "create_coffer_stick_bytes=$((w1 - w0))"
result "create_coffer_file_bytes=$(du -B1 $S/coffer.vault | cut -f1)"
rm $S/coffer.vault; sync

vm_step "create 64 GiB: the seed's shell recipe"
sync; echo 3 >/proc/sys/vm/drop_caches
w0=$(written); t0=$(now)
truncate -s 64G $S/seed.vault
loop=$(losetup --find --show $S/seed.vault)
cryptsetup luksFormat -q "${STOCK_PBKDF[@]}" "$loop" pass
cryptsetup open "$loop" seedbench --key-file pass
mkfs.ext4 -q /dev/mapper/seedbench
cryptsetup close seedbench
losetup -d "$loop"
sync
t1=$(now); w1=$(written)
result "create_seed_ms=$(ms $t0 $t1)"
result "create_seed_stick_bytes=$((w1 - w0))"
result "create_seed_file_bytes=$(du -B1 $S/seed.vault | cut -f1)"
rm $S/seed.vault; sync
vm_assert_nothing_attached 10 || true

vm_step "open + mount, fixed PBKDF: core/block vs cryptsetup open + mount (5 rounds each, alternating)"
: >$S/u.vault
"$T" create $S/u.vault 1G unlock --pass-file pass "${PBKDF[@]}" >/dev/null
for i in 1 2 3 4 5; do
    sync; echo 3 >/proc/sys/vm/drop_caches
    t0=$(now)
    "$T" open $S/u.vault "$MP" --pass-file pass >/dev/null
    t1=$(now)
    "$T" close "$MP"
    result "open_coffer_ms=$(ms $t0 $t1)"
    sync; echo 3 >/proc/sys/vm/drop_caches
    t0=$(now)
    cryptsetup open $S/u.vault stockbench --key-file pass
    mount /dev/mapper/stockbench /mnt/stock
    t1=$(now)
    umount /mnt/stock
    cryptsetup close stockbench
    result "open_stock_ms=$(ms $t0 $t1)"
done
umount /mnt/stick
echo done >>"$OUT"
