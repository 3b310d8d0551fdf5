# The harness proves itself: dm-crypt with the seed's manual recipe and stock cryptsetup, a
# system-bus call answered by polkitd under the project's installed polkit actions, and udevd
# tagging a hot-plugged (then yanked) USB stick with the project's own rule.
#
# Ordered for speed under software emulation, where every program started costs a tenth of a
# second or more: polkitd starts while the recipe runs, and the recipe runs before udevd, so
# that cryptsetup does not wait for udev's device-mapper rules (about 5 s); the stick is plugged
# while polkitd is asked.

vm_step "install Coffer from the build tree; system bus; polkitd starting"
vm_add_test_users
vm_install_coffer
test -f /usr/share/polkit-1/actions/org.coffer.helper.policy || vm_fail "polkit actions not installed"
test -f /usr/lib/udev/rules.d/90-coffer.rules || vm_fail "udev rule not installed"
vm_start_dbus
vm_launch_polkitd

vm_step "seed recipe: truncate, losetup, cryptsetup luksFormat/open, mkfs.ext4, mount"
truncate -s 32M vault.img
loop=$(losetup --find --show vault.img)
# This proves dm-crypt in the guest, not the key derivation (the block tests cover that): the
# cheapest argon2id and a key-slot area for one slot, since benchmarking argon2 and wiping the
# default 16 MiB key-slot area take seconds under software emulation.
printf pw | cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-memory 32 --pbkdf-force-iterations 4 \
    --luks2-keyslots-size 256k --luks2-metadata-size 16k "$loop" -
printf pw | cryptsetup open "$loop" selftest -
mkfs.ext4 -q /dev/mapper/selftest
mkdir -p mnt && mount /dev/mapper/selftest mnt
echo "coffer-selftest-plaintext" >mnt/secret
umount mnt && cryptsetup close selftest && losetup -d "$loop"
vm_assert_nothing_attached
if grep -q coffer-selftest-plaintext vault.img; then vm_fail "plaintext found in the backing file"; fi
echo "plaintext absent from the backing file; nothing left attached"

vm_step "udevd with the installed rules; the host plugs a USB stick"
vm_start_udevd
udevadm monitor --udev --subsystem-match=block --tag-match=coffer-media >udev.log 2>&1 &
monitor=$!
vm_wait_until 10 grep -q 'UDEV' udev.log || vm_fail "udevadm monitor did not start"
vm_event ready-for-stick

vm_step "polkitd answers over the system bus: alice allowed, mallory denied"
vm_wait_polkitd
pkcheck_as() { vm_as "$1" bash -c 'exec pkcheck --action-id org.coffer.helper.unlock --process $$'; }
# Both at once: each waits mostly on polkitd, and the guest has two CPUs.
pkcheck_as mallory & mallory_check=$!
alice_rc=0
pkcheck_as alice || alice_rc=$?
mallory_rc=0
wait "$mallory_check" || mallory_rc=$?
[ "$alice_rc" = 0 ] || vm_fail "polkitd denied alice ($alice_rc)"
[ "$mallory_rc" != 0 ] || vm_fail "polkitd allowed mallory"
echo "alice: authorized; mallory: not authorized ($mallory_rc)"

vm_step "udevd tags the hot-plugged USB stick with rules/90-coffer.rules"
vm_wait_until 120 grep -q '^UDEV.*add' udev.log || { cat udev.log; vm_fail "no tagged add event"; }
dev=$(readlink -f /dev/disk/by-label/COFFERTEST)
udevadm info --query=property "$dev" | grep -q '^TAGS=.*:coffer-media:' || vm_fail "$dev not tagged"
echo "tagged: $dev"
vm_event stick-seen
vm_wait_until 60 grep -q '^UDEV.*remove' udev.log || { cat udev.log; vm_fail "no remove event after the yank"; }
kill "$monitor"
echo "yanked: remove event seen"
