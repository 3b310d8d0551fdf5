# coffer-helper end to end (issue 5): alice's whole flow through cofferctl with the helper started
# by D-Bus activation from the installed files and exiting when idle; mallory gets NotAuthorized
# from every method and changes nothing; the passphrase never shows in any process's cmdline or
# environment, the helper's log or what dbus-monitor sees.

HC=/usr/bin/python3
CALL="$COFFER_SOURCE_DIR/tests/vm/tools-helper/helper-call.py"
PASS='alice-S3cret-passphrase-6d1f0c'
PBKDF=(--pbkdf-memory-kib 16384 --pbkdf-iterations 4)

helper_running() {
    [ "$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        NameHasOwner s org.coffer.Helper1)" = "b true" ]
}
helper_gone() { ! helper_running; }
secrets_nowhere() {
    local f
    for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do
        # -f: the pattern comes from a file, so no grep's own cmdline ever holds it.
        if grep -qaFf /var/tmp/pass-pattern "$f" 2>/dev/null; then
            echo "passphrase found in $f: $(tr '\0' ' ' <"${f%/*}/cmdline")" >&2
            return 1
        fi
    done
}

trap 'cp /var/log/coffer-helper.log "$VMSHARE/" 2>/dev/null || true' EXIT
vm_step "install Coffer; system bus and polkitd; helper idles out after 3 s"
vm_add_test_users
vm_install_coffer
mkdir -p /etc/coffer
printf '[helper]\nIdleSeconds=3\nLogFile=/var/log/coffer-helper.log\n' >/etc/coffer/helper.conf
vm_start_dbus
vm_start_polkitd
dbus-monitor --system >/var/tmp/dbus-monitor.log 2>&1 &
monitor=$!
test -x /usr/libexec/coffer-helper || vm_fail "helper not installed in libexec"
grep -q '^Exec=/usr/libexec/coffer-helper$' /usr/share/dbus-1/system-services/org.coffer.Helper1.service \
    || vm_fail "service file Exec= is not the installed helper"
helper_gone || vm_fail "the helper runs before anyone called it"

printf %s "$PASS" >/home/alice/pw
printf '%s\n' "$PASS" >/var/tmp/pass-pattern
printf %s "new-passphrase-7c2e" >/home/alice/pw2
echo "new-passphrase-7c2e" >>/var/tmp/pass-pattern
printf 'wrong-passphrase' >/home/alice/wrong
mkdir -p /home/alice/data/sub
echo "ssh key material" >/home/alice/data/id_ed25519
head -c 300000 /dev/urandom >/home/alice/data/sub/blob
chown -R alice:alice /home/alice
chmod 600 /home/alice/pw /home/alice/pw2
A=/home/alice
ALICE_UID=$(id -u alice)

vm_step "alice creates a vault (activation starts the helper)"
vm_as alice cofferctl create $A/v.img --size 64M --name keys --passphrase-file $A/pw "${PBKDF[@]}"
test -s $A/v.img || vm_fail "no vault file"
[ "$(stat -c %U $A/v.img)" = alice ] || vm_fail "vault file not alice's"
grep -q "uid $ALICE_UID: creating vault" /var/log/coffer-helper.log || vm_fail "helper log has no create"
vm_assert_nothing_attached
cryptsetup isLuks --type luks2 $A/v.img || vm_fail "not LUKS2"

vm_step "the helper exits when idle"
vm_wait_until 30 helper_gone || vm_fail "the helper did not exit when idle"
grep -q "idle for 3 s, exiting" /var/log/coffer-helper.log || vm_fail "no idle exit in the log"

vm_step "wrong passphrase: exit 4, nothing attached"
rc=0
vm_as alice cofferctl unlock $A/v.img --passphrase-file $A/wrong || rc=$?
[ "$rc" = 4 ] || vm_fail "wrong passphrase gave exit $rc, not 4"
vm_assert_nothing_attached

vm_step "alice unlocks (activation again), sees status, syncs"
mp=$(vm_as alice cofferctl unlock $A/v.img --passphrase-file $A/pw)
[ "$mp" = "/run/coffer/$ALICE_UID/keys" ] || vm_fail "mount point is '$mp'"
findmnt -no OPTIONS "$mp" | grep -q nosuid || vm_fail "not nosuid"
findmnt -no OPTIONS "$mp" | grep -q nodev || vm_fail "not nodev"
findmnt -no OPTIONS "$mp" | grep -q noexec || vm_fail "not noexec"
[ "$(stat -c %U "$mp")" = alice ] || vm_fail "vault root not alice's"
[ "$(stat -c %U "/run/coffer/$ALICE_UID")" = root ] || vm_fail "mount point parent not root's"
vm_as alice cofferctl status --json | tee /var/tmp/status.json
grep -q "\"mountPoint\":\"$mp\"" /var/tmp/status.json || vm_fail "status does not list the vault"
secrets_nowhere || vm_fail "passphrase visible in /proc"

vm_as alice cofferctl sync $A/v.img --source $A/data
cmp $A/data/sub/blob "$mp/current/data/sub/blob" || vm_fail "synced blob differs"
cmp $A/data/id_ed25519 "$mp/current/data/id_ed25519" || vm_fail "synced key differs"
[ "$(stat -c %U "$mp/current/data/id_ed25519")" = alice ] || vm_fail "synced file not owned by alice"
grep -q "sync into" /var/log/coffer-helper.log || vm_fail "no sync in the log"

vm_step "core/client's example watches a sync through the real helper, signals only"
echo "watched" >$A/data/watched && chown alice:alice $A/data/watched
vm_as alice "$COFFER_BUILD_DIR/tests/examples/watchjob" $A/v.img $A/data >/var/tmp/watchjob.out \
    || { cat /var/tmp/watchjob.out; vm_fail "watchjob failed"; }
cat /var/tmp/watchjob.out
grep -q '^progress 1.00 ' /var/tmp/watchjob.out || vm_fail "watchjob saw no progress"
grep -qx 'outcome ok' /var/tmp/watchjob.out || vm_fail "watchjob: the outcome is not ok"
grep -qx 'scanned 4 copied 1 bytes 8' /var/tmp/watchjob.out || vm_fail "watchjob: not the counts of this sync"
cmp $A/data/watched "$mp/current/data/watched" || vm_fail "the watched sync did not land"

vm_step "sync --dry-run through the helper prints the plan; one that does not fit exits 8"
echo "planned" >$A/data/planned && chown alice:alice $A/data/planned
vm_as alice cofferctl sync $A/v.img --source $A/data --dry-run >/var/tmp/plan.out
cat /var/tmp/plan.out
grep -qx '+ f data/planned  (8 B)' /var/tmp/plan.out || vm_fail "the plan does not list the new file"
grep -q '^Dry run: 1 to add, 0 to update, .* 0 to delete' /var/tmp/plan.out || vm_fail "the plan's counts are wrong"
grep -q ': it fits\.$' /var/tmp/plan.out || vm_fail "the plan does not say it fits"
[ ! -e "$mp/current/data/planned" ] || vm_fail "the dry run wrote into the vault"
mkdir -p $A/huge && truncate -s 1G $A/huge/big && chown -R alice:alice $A/huge
rc=0
vm_as alice cofferctl sync $A/v.img --source $A/huge --dry-run >/var/tmp/plan2.out || rc=$?
cat /var/tmp/plan2.out
[ "$rc" = 8 ] || vm_fail "a dry run that does not fit gave exit $rc, not 8"
grep -q ': it does NOT fit\.$' /var/tmp/plan2.out || vm_fail "the plan does not say it does not fit"

vm_step "two clients on one vault: the second unlock is Busy (exit 6)"
rc=0
vm_as alice cofferctl unlock $A/v.img --passphrase-file $A/pw || rc=$?
[ "$rc" = 6 ] || vm_fail "second unlock gave exit $rc, not 6"

vm_step "mallory: NotAuthorized from every method, nothing changes"
printf x >/home/mallory/pw
truncate -s 0 /home/mallory/new.img
truncate -s 64M /home/mallory/m.img
touch /home/mallory/out
chown -R mallory:mallory /home/mallory
before=$(vm_attached_state)
vault=$(vm_as alice $HC "$CALL" /org/coffer/Helper1 org.coffer.Helper1.Manager ListVaults "" | sed -n "s/^OK dbus.Array(\[dbus.ObjectPath('\([^']*\)').*/\1/p")
[ -n "$vault" ] || vm_fail "alice's ListVaults gave no vault"
job=$(vm_as alice $HC "$CALL" "$vault" org.coffer.Helper1.Vault Sync 'asa{sv}' "as:$A/data" 'dict:{}' | sed -n 's/^OK //p')
[ -n "$job" ] || vm_fail "alice's Sync gave no job"
M=/home/mallory
denied() {
    local out
    out=$(vm_as mallory $HC "$CALL" "$@" 2>&1) && vm_fail "mallory's $3 succeeded: $out"
    echo "$out" | grep -q '^ERROR org.coffer.Helper1.Error.NotAuthorized' || vm_fail "mallory's $3: $out"
    echo "mallory $3: NotAuthorized"
}
MGR=(/org/coffer/Helper1 org.coffer.Helper1.Manager)
VLT=("$vault" org.coffer.Helper1.Vault)
denied "$job" org.coffer.Helper1.Job Cancel ''   # first, while the job is surely still there
job_finished() {
    [ "$(busctl --system get-property org.coffer.Helper1 "$job" org.coffer.Helper1.Job Finished)" = "b true" ]
}
vm_wait_until 120 job_finished || vm_fail "alice's sync job did not finish"
[ "$(busctl --system get-property org.coffer.Helper1 "$job" org.coffer.Helper1.Job Success)" = "b true" ] \
    || vm_fail "alice's sync job failed (or mallory cancelled it)"

denied "${MGR[@]}" CreateVault 'htha{sv}' fd:$M/new.img t:67108864 pipe:x 'dict:{}'
denied "${MGR[@]}" Unlock 'hha{sv}' fd:$M/m.img pipe:x 'dict:{}'
denied "${MGR[@]}" ListVaults ''
denied "${MGR[@]}" LockAll ''
denied "${VLT[@]}" Lock 'a{sv}' 'dict:{"force":true}'
denied "${VLT[@]}" Sync 'asa{sv}' as:$M 'dict:{}'
denied "${VLT[@]}" ChangePassphrase hh pipe:a pipe:b
denied "${VLT[@]}" AddKey hh pipe:a pipe:b
denied "${VLT[@]}" RemoveKey h pipe:a
denied "${VLT[@]}" BackupHeader h fd:$M/out
denied "${VLT[@]}" Resize th t:134217728 pipe:a
[ "$(vm_attached_state)" = "$before" ] || vm_fail "mallory's calls changed what is attached"
[ ! -s $M/out ] || vm_fail "mallory got a header backup"
[ ! -s $M/new.img ] || vm_fail "mallory's CreateVault wrote something"
cmp $A/data/sub/blob "$mp/current/data/sub/blob" || vm_fail "alice's data changed"

vm_step "alice adds a key file, backs up the header, locks; sync --lock-after unlocks and locks"
head -c 64 /dev/urandom >$A/key.bin && chown alice:alice $A/key.bin
vm_as alice cofferctl add-key $A/v.img --keyfile $A/key.bin --passphrase-file $A/pw
vm_as alice cofferctl header-backup $A/v.img $A/header.bak
cryptsetup isLuks $A/header.bak || vm_fail "header backup is not a LUKS header"

vm_step "alice changes the passphrase and grows the vault, both through the helper"
vm_as alice cofferctl passwd $A/v.img --passphrase-file $A/pw --new-passphrase-file $A/pw2
vm_as alice cofferctl resize $A/v.img --size 96M --passphrase-file $A/pw2
size=$(vm_as alice cofferctl status --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["vaults"][0]["size"])')
[ "$size" -gt $((64 << 20)) ] || vm_fail "the vault did not grow (size $size)"
[ "$(stat -c %s $A/v.img)" = $((96 << 20)) ] || vm_fail "the backing file is not 96 MiB"
cmp $A/data/sub/blob "$mp/current/data/sub/blob" || vm_fail "data changed by the resize"

vm_step "busy lock: the holders are named; force stops alice's own program only, and not while root's holds it"
(cd "$mp" && exec setpriv --reuid=alice --regid=alice --init-groups tail -f /dev/null) &
alice_holder=$!
(cd "$mp" && exec tail -f /dev/null) &
root_holder=$!
cwd_is() { [ "$(readlink /proc/$1/cwd)" = "$2" ]; }
vm_wait_until 10 cwd_is $alice_holder "$mp" || vm_fail "alice's holder did not start"
vm_wait_until 10 cwd_is $root_holder "$mp" || vm_fail "root's holder did not start"
rc=0; out=$(vm_as alice cofferctl lock $A/v.img 2>&1) || rc=$?
[ "$rc" = 6 ] || vm_fail "lock of a busy vault gave exit $rc, not 6: $out"
echo "$out" | grep -q "tail" || vm_fail "the busy lock does not name the program holding it: $out"
rc=0; out=$(vm_as alice cofferctl lock $A/v.img --force 2>&1) || rc=$?
[ "$rc" = 6 ] || vm_fail "force-lock with root's program holding the vault gave exit $rc, not 6: $out"
kill -0 $root_holder && kill -0 $alice_holder || vm_fail "a force-lock refused as Busy stopped a program"
kill $root_holder; wait $root_holder || true
vm_as alice cofferctl lock $A/v.img --force
wait $alice_holder || true
kill -0 $alice_holder 2>/dev/null && vm_fail "force-lock left alice's program running"
vm_assert_nothing_attached

vm_step "locked: passwd and header-backup work on alice's own file; resize unlocks and locks again"
printf %s "third-passphrase-5b1a" >$A/pw3 && chown alice:alice $A/pw3 && chmod 600 $A/pw3
echo "third-passphrase-5b1a" >>/var/tmp/pass-pattern
vm_as alice cofferctl passwd $A/v.img --passphrase-file $A/pw2 --new-passphrase-file $A/pw3
vm_assert_nothing_attached
vm_as alice cofferctl header-backup $A/v.img $A/header-locked.bak
cryptsetup isLuks $A/header-locked.bak || vm_fail "the locked vault's header backup is not a LUKS header"
[ "$(stat -c %U:%a $A/header-locked.bak)" = alice:600 ] || vm_fail "the header backup is not alice's alone"
vm_as alice cofferctl resize $A/v.img --size 128M --passphrase-file $A/pw3
[ "$(stat -c %s $A/v.img)" = $((128 << 20)) ] || vm_fail "the locked vault did not grow to 128 MiB"
vm_assert_nothing_attached
echo "changed after the lock" >$A/data/new-file && chown alice:alice $A/data/new-file
vm_as alice cofferctl sync $A/v.img --source $A/data --lock-after --keyfile $A/key.bin
vm_assert_nothing_attached
rc=0
vm_as alice cofferctl unlock $A/v.img --passphrase-file $A/pw || rc=$?
[ "$rc" = 4 ] || vm_fail "the old passphrase gave exit $rc, not 4"
mp=$(vm_as alice cofferctl unlock $A/v.img --passphrase-file $A/pw3)
cmp $A/data/new-file "$mp/current/data/new-file" || vm_fail "the key-file sync did not land"
vm_as alice cofferctl lock --all
vm_assert_nothing_attached
vm_wait_until 30 helper_gone || vm_fail "the helper did not exit when idle at the end"

vm_step "secrets: not in /proc, the helper's log or dbus-monitor's view"
secrets_nowhere || vm_fail "passphrase visible in /proc"
kill "$monitor"
grep -c 'org.coffer.Helper1' /var/tmp/dbus-monitor.log >/dev/null || vm_fail "dbus-monitor saw nothing"
grep -qaFf /var/tmp/pass-pattern /var/tmp/dbus-monitor.log && vm_fail "passphrase in dbus-monitor output"
grep -qaFf /var/tmp/pass-pattern /var/log/coffer-helper.log && vm_fail "passphrase in the helper log"
grep -qaF "wrong-passphrase" /var/tmp/dbus-monitor.log && vm_fail "wrong passphrase in dbus-monitor output"
echo "passphrase absent from /proc/*/cmdline, /proc/*/environ, helper log, dbus-monitor"
cp /var/log/coffer-helper.log "$VMSHARE/helper-flow-helper.log"
