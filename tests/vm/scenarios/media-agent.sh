# The plug flow without a tray (issue 12), with real udevd, the helper by D-Bus activation and
# QMP hot-plug of a FAT stick whose label is hostile bytes:
#  - cofferctl media lists the stick, the registered vault and a vault Coffer does not know
#    (hostile file name), with every name made fit to print (no escape byte, no newline, JSON
#    bytes as base64);
#  - plugged again and mounted as a desktop would, `cofferctl agent` (as alice, no terminal)
#    backs the registered vault up with its key file and locks it; the registry shows the sync;
#  - pulled out mid-sync: the helper ends the job MediumGone, sends VaultRemoved(medium-gone),
#    nothing stays attached; plugged back in, the unlock runs e2fsck and every file of the last
#    completed sync is intact;
#  - a corrupt registry is set aside byte for byte and reported (cofferctl vaults fails naming
#    where it was kept; the agent says so and goes on), never silently reset.
A=/home/alice
ALICE_UID=
MP=/media/alice/STICK
LOG=/var/log/coffer-helper.log
PBKDF=(--pbkdf-memory-kib 16384 --pbkdf-iterations 4)
HOSTILE_LABEL=$'\e[31mEVIL\n\xe9'

stick_dev() { local d; for d in /sys/block/sd*; do [ -e "$d/${d##*/}1" ] && { echo "/dev/${d##*/}1"; return; }; [ -e "$d" ] && { echo "/dev/${d##*/}"; return; }; done; return 1; }
has_stick() { local d; d=$(stick_dev) && [ -b "$d" ] && blkid "$d" >/dev/null; }
no_stick() { ! compgen -G "/sys/block/sd*" >/dev/null; }
mount_stick() { # as a desktop would: alice's, the label's bytes taken as Latin-1
    vm_wait_until 120 has_stick || vm_fail "no stick"
    DEV=$(stick_dev)
    mount -t vfat -o "uid=$ALICE_UID,gid=$ALICE_UID,iocharset=iso8859-1,utf8=0,nosuid,nodev" "$DEV" "$MP"
}
agent_says() { grep -qF -- "$1" "${2:-agent.log}"; } # TEXT [LOG]
watch_has() { grep -q "\"event\":\"$1\".*\"source\":\"$2\"" watch.log; } # EVENT SOURCE (keys come sorted)
big_files_going_in() { compgen -G "/run/coffer/$ALICE_UID/keys/current/data/big/*" >/dev/null; }
dump() { echo "---- agent"; cat agent.log; echo "---- watch"; cat watch.log; echo "---- helper"; cat $LOG; } >&2

trap 'cp $LOG agent.log watch.log "$VMSHARE/" 2>/dev/null || true' EXIT
vm_step "install; system bus, polkitd, udevd; the helper idles out after 3 s"
vm_add_test_users
ALICE_UID=$(id -u alice)
vm_install_coffer
mkdir -p /etc/coffer
printf '[helper]\nIdleSeconds=3\nLogFile=%s\n' $LOG >/etc/coffer/helper.conf
vm_start_dbus
vm_launch_polkitd
vm_start_udevd
vm_wait_polkitd
install -d -m 0750 -o alice -g alice /media/alice
mkdir "$MP"
vm_event ready-for-stick
mount_stick
blkid -p -o udev "$DEV" | grep -qF 'ID_FS_LABEL_ENC=\x1b\x5b31mEVIL\x0a\xe9' || vm_fail "the stick's label is not the hostile one"

vm_step "alice makes a vault with a key file on the stick, and the header of another under a hostile name"
printf 'agent-pass-5e1' >$A/pw
head -c 64 /dev/urandom >$A/key
mkdir -p $A/data/sub
for i in $(seq 1 40); do echo "file $i of alice's" >"$A/data/f$i.txt"; done
head -c 2M /dev/urandom >$A/data/sub/blob
chown -R alice:alice $A
chmod 600 $A/pw $A/key
vm_as alice cofferctl create "$MP/keys.coffer" --size 128M --name keys --passphrase-file $A/pw --keyfile $A/key "${PBKDF[@]}"
EVIL=$'\xe2\x80\xaeevil\xe9.coffer'  # a right-to-left override and a byte that is not UTF-8
truncate -s 17M hdr
printf pw >hpw
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file hpw \
    --label coffer:stranger --subsystem coffer hdr
head -c 2M hdr >"$MP/$EVIL"

vm_step "an unknown stick: cofferctl media lists its two vaults, neither registered"
vm_as alice cofferctl media >unknown.txt
cat unknown.txt
grep -q 'vault keys.coffer "keys" (LUKS2, Coffer.s): not registered' unknown.txt || vm_fail "the vault on the unknown stick is not listed"
[ "$(grep -c ': not registered' unknown.txt)" = 2 ] || vm_fail "not both vaults of the unknown stick are listed"

vm_step "register one; cofferctl media lists both vaults, names fit to print"
vm_as alice cofferctl register "$MP/keys.coffer" --source $A/data --trigger backup --keyfile $A/key | tee reg.out
grep -q '^Registered "keys"' reg.out || vm_fail "not registered"
vm_as alice cofferctl media >media.txt
cat media.txt
grep -q 'vault keys.coffer "keys": registered, never backed up' media.txt || vm_fail "the registered vault is not listed"
grep -q '"stranger" (LUKS2, Coffer.s): not registered' media.txt || vm_fail "the unknown vault is not listed"
if LC_ALL=C grep -qaP '[\x00-\x08\x0b-\x1f\x7f]' media.txt; then vm_fail "a control byte reached the terminal"; fi
if LC_ALL=C grep -qaP '\xe2\x80\xae' media.txt; then vm_fail "the right-to-left override reached the terminal"; fi
[ "$(wc -l <media.txt)" = 3 ] || vm_fail "a name broke a line (expected 3 lines)"
vm_as alice cofferctl media --json >media.json
/usr/bin/python3 - "$HOSTILE_LABEL" "$EVIL" <<'PY' || vm_fail "cofferctl media --json is wrong"
import base64, json, os, sys
label, evil = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
def raw(v):
    return base64.b64decode(v["base64"]) if isinstance(v, dict) else v.encode()
media = [json.loads(line) for line in open("media.json")]
assert len(media) == 1, media
m = media[0]
assert raw(m["label"]) == label, m["label"]
vaults = {raw(v["path"]): v for v in m["vaults"]}
assert vaults[b"keys.coffer"]["registered"], vaults
assert vaults[b"keys.coffer"]["registry"]["staleness"]["never-synced"], vaults
assert not vaults[evil]["registered"] and raw(vaults[evil]["name"]) == b"stranger", vaults
print("media --json: the label and the file name as bytes; a registered and an unknown vault")
PY

vm_step "the agent and a watcher run as alice; the stick is pulled out and plugged in again"
vm_as alice cofferctl watch --json >watch.log 2>&1 &
vm_as alice cofferctl agent --no-prompt >agent.log 2>&1 </dev/null &
AGENT=$!
vm_wait_until 30 watch_has watching watch || { dump; vm_fail "the watcher did not start"; }
vm_wait_until 30 agent_says "watching for drives" || { dump; vm_fail "the agent did not start"; }
umount "$MP"
vm_event yank-1
vm_wait_until 60 no_stick || vm_fail "the stick did not go"
vm_wait_until 30 watch_has medium-removed udev || { dump; vm_fail "the watcher saw no removal"; }
vm_event plug-2
vm_wait_until 120 watch_has medium-added udev || { dump; vm_fail "the watcher saw no plug"; }
vm_wait_until 30 agent_says "is not mounted: mount it" || { dump; vm_fail "the agent did not wait for a mount"; }
mount_stick

vm_step "mounted: the agent backs up with the key file and locks"
vm_wait_until 120 agent_says '"keys": backed up' || { dump; vm_fail "the agent did not back up"; }
agent_says "locked, safe to unplug" || { dump; vm_fail "not locked after the backup"; }
vm_assert_nothing_attached 30
vm_as alice cofferctl vaults --json >vaults.json
/usr/bin/python3 - <<'PY' || { cat vaults.json; vm_fail "the registry does not show the backup"; }
import json
v = json.loads(open("vaults.json").readline())
assert v["last-sync"]["outcome"] == "ok" and v["last-sync"]["files"] == 41, v
assert "last-success" in v and not v["staleness"]["stale"] and v["present"], v
print("registry: last sync", v["last-sync"]["time"], "ok,", v["last-sync"]["files"], "files")
PY
cp -a $A/data completed-sync
SUCCESS=$(/usr/bin/python3 -c 'import json; print(json.loads(open("vaults.json").readline())["last-success"])')

vm_step "pulled out mid-sync: MediumGone, VaultRemoved(medium-gone), nothing attached"
mkdir $A/data/big
for i in $(seq 1 20); do head -c 4M /dev/urandom >"$A/data/big/b$i"; done
chown -R alice:alice $A/data
umount "$MP"
vm_event yank-2
vm_wait_until 60 no_stick || vm_fail "the stick did not go"
vm_event plug-3
mount_stick
# Mid-sync: the big files are going in; the job has not finished.
vm_wait_until 120 big_files_going_in || { dump; vm_fail "the sync did not get to the big files"; }
[ "$(grep -c '"keys": backed up' agent.log)" = 1 ] || { dump; vm_fail "the sync finished before the yank"; }
vm_event yank-3
vm_wait_until 60 no_stick || vm_fail "the stick did not go"
umount -l "$MP"   # as a desktop does when its drive is gone
vm_wait_until 60 agent_says "the drive was removed during the backup" || { dump; vm_fail "the job did not end MediumGone"; }
vm_wait_until 30 grep -q '"event":"vault-removed".*"reason":"medium-gone"' watch.log || { dump; vm_fail "no VaultRemoved(medium-gone)"; }
grep -q "its drive is gone, detaching it" $LOG || { dump; vm_fail "the helper did not tear the vault down"; }
vm_assert_nothing_attached 60
vm_as alice cofferctl vaults --json >vaults.json
/usr/bin/python3 - "$SUCCESS" <<'PY' || { cat vaults.json; vm_fail "the registry does not show the failed sync"; }
import json, sys
v = json.loads(open("vaults.json").readline())
assert v["last-sync"]["outcome"] == "failed" and v["last-success"] == sys.argv[1], v
print("registry: the failed sync is recorded; the last success stays", v["last-success"])
PY

vm_step "plugged back in: the unlock runs e2fsck; every file of the last completed sync is intact"
vm_stop $AGENT
vm_event plug-4
mount_stick
vault=$(vm_as alice cofferctl unlock "$MP/keys.coffer" --keyfile $A/key)
grep -q "unlocked .* (e2fsck ran first)" $LOG || { dump; vm_fail "no e2fsck at the unlock after the yank"; }
(cd completed-sync && find . -type f) | while read -r f; do
    cmp -s "completed-sync/$f" "$vault/current/data/$f" || vm_fail "lost or damaged after the yank: $f"
done
echo "$(cd completed-sync && find . -type f | wc -l) files of the last completed sync intact"
vm_as alice cofferctl lock "$MP/keys.coffer"
umount "$MP"
vm_assert_nothing_attached

vm_step "a corrupt registry: kept aside byte for byte and reported, never silently reset"
REG=$A/.config/coffer/vaults.json
head -c 100 $REG >broken.json   # cut off mid-entry, as a full disk might leave it
install -m 0600 -o alice -g alice broken.json $REG
rc=0; vm_as alice cofferctl vaults >corrupt.out 2>&1 || rc=$?
cat corrupt.out
[ "$rc" = 1 ] || vm_fail "cofferctl vaults on a corrupt registry gave exit $rc, not 1"
grep -q "could not be used: it is not valid JSON.*It was kept as $REG.corrupt-" corrupt.out || vm_fail "the corrupt registry is not reported with where it was kept"
aside=$(compgen -G "$REG.corrupt-*") && [ "$(wc -w <<<"$aside")" = 1 ] || vm_fail "not one file set aside"
cmp -s broken.json "$aside" || vm_fail "the file set aside is not the corrupt registry byte for byte"
vm_as alice cofferctl vaults | grep -q "^No vault is registered" || vm_fail "no fresh registry after the corrupt one was set aside"
install -m 0600 -o alice -g alice broken.json $REG
vm_as alice cofferctl agent --no-prompt >agent2.log 2>&1 </dev/null &
AGENT=$!
vm_wait_until 30 agent_says "watching for drives" agent2.log || { cat agent2.log; vm_fail "the agent did not start"; }
vm_stop $AGENT
cat agent2.log
agent_says "could not be used: it is not valid JSON" agent2.log || vm_fail "the agent did not report the corrupt registry"
[ "$(compgen -G "$REG.corrupt-*" | wc -l)" = 2 ] || vm_fail "the agent did not set the corrupt registry aside beside the first"
for f in $REG.corrupt-*; do cmp -s broken.json "$f" || vm_fail "$f is not the corrupt registry byte for byte"; done
echo "plug, back up, yank mid-sync, re-plug, a corrupt registry: all as promised"
