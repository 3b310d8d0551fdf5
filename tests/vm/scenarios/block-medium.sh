# core/block's medium checks on real vfat and exfat filesystems (the host kernel has neither):
# FAT32's 4 GiB file limit, the "cannot be sparse" warning, free space; and a vault on each
# works end to end.
source "$COFFER_SOURCE_DIR/tests/vm/scenarios/block-common.inc"
MP=/run/coffer/0/medium
mkdir -p "$MP" /mnt/vfat /mnt/exfat
printf 'medium pass' >pass

# The sticks themselves are loop-mounted here, so "nothing attached" means: no dm device, no
# loop device over a vault file, nothing mounted on the vault's mount point.
vault_attached() {
    compgen -G '/sys/block/dm-*' >/dev/null && return 0
    grep -qs '\.vault$' /sys/block/loop*/loop/backing_file && return 0
    mountpoint -q "$MP"
}
assert_no_vault_attached() {
    vm_wait_until 10 bash -c "! { $(declare -f vault_attached); MP='$MP' vault_attached; }" \
        || { vm_attached_state; vm_fail "a vault is still attached"; }
}


vm_step "vfat: a 5 GiB vault is refused before anything is written"
truncate -s 1G vfat.img && mkfs.vfat -F 32 -n STICK vfat.img >/dev/null
mount -o loop vfat.img /mnt/vfat
: >/mnt/vfat/big.vault
expect_rc 8 "$T" create /mnt/vfat/big.vault 5G big --pass-file pass "${PBKDF[@]}"
grep -q '4 GiB' err.log || vm_fail "the refusal does not mention the 4 GiB limit"
[ "$(stat -c %s /mnt/vfat/big.vault)" = 0 ] || vm_fail "the refused file was changed"

vm_step "vfat: free space is checked too"
expect_rc 8 "$T" create /mnt/vfat/big.vault 2G big --pass-file pass "${PBKDF[@]}"
grep -q 'free' err.log || vm_fail "the refusal does not mention free space"

vm_step "vfat: a 64 MiB vault works, with the 'cannot be sparse' warning"
"$T" medium /mnt/vfat/big.vault 64M | tee medium.out
grep -q '^fs=vfat' medium.out && grep -q '^sparse=0' medium.out || vm_fail "vfat not recognised"
: >/mnt/vfat/small.vault
"$T" create /mnt/vfat/small.vault 64M small --pass-file pass "${PBKDF[@]}" | tee create.out
grep -q '^warning=.*cannot hold sparse files' create.out || vm_fail "no sparse warning on vfat"
"$T" open /mnt/vfat/small.vault "$MP" --pass-file pass >/dev/null
echo "on a stick" >"$MP/hello"
"$T" close "$MP"
assert_no_vault_attached
"$T" open /mnt/vfat/small.vault "$MP" --pass-file pass >/dev/null
[ "$(cat "$MP/hello")" = "on a stick" ] || vm_fail "data lost on vfat"
"$T" close "$MP"
umount /mnt/vfat
assert_no_vault_attached

vm_step "exfat: big files allowed, but the 'cannot be sparse' warning; free space checked"
truncate -s 512M exfat.img && mkfs.exfat -n STICK exfat.img >/dev/null
mount -o loop exfat.img /mnt/exfat
: >/mnt/exfat/v.vault
expect_rc 8 "$T" create /mnt/exfat/v.vault 1G v --pass-file pass "${PBKDF[@]}"
"$T" create /mnt/exfat/v.vault 64M v --pass-file pass "${PBKDF[@]}" | tee create.out
grep -q '^fs=exfat' create.out || vm_fail "exfat not recognised"
grep -q '^warning=.*cannot hold sparse files' create.out || vm_fail "no sparse warning on exfat"
"$T" open /mnt/exfat/v.vault "$MP" --pass-file pass >/dev/null
echo "exfat" >"$MP/hello"
"$T" close "$MP"
umount /mnt/exfat
assert_no_vault_attached

vm_step "ext4 stick: sparse, no warning"
truncate -s 512M ext4.img && mkfs.ext4 -q ext4.img && mkdir -p /mnt/ext4 && mount -o loop ext4.img /mnt/ext4
: >/mnt/ext4/v.vault
"$T" create /mnt/ext4/v.vault 256M v --pass-file pass "${PBKDF[@]}" | tee create.out
grep -q '^warning=' create.out && vm_fail "a warning on ext4"
alloc=$(du -k /mnt/ext4/v.vault | cut -f1)
echo "256 MiB vault on ext4 allocates $alloc KiB"
[ "$alloc" -lt $((64 * 1024)) ] || vm_fail "the vault on ext4 is not sparse"
umount /mnt/ext4
vm_assert_nothing_attached
echo "medium checks passed"
