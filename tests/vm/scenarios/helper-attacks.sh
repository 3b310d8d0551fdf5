# coffer-helper under attack (issues 5 and 10, design.md 4): every hostile argument is answered
# by a clear named error with nothing changed and nothing left attached; hostile header UUIDs
# never become paths; a copy of an open vault touches nothing of it; another user sees nothing of
# an open vault (not its directories, properties, objects or signals); one user's flood of
# unlocks with secret pipes never closed neither passes the per-user limit nor keeps another
# user waiting; the helper SIGKILLed during unlock and during sync is restarted by the next call
# into a consistent state; two clients on one vault get Busy; LockAll locks what is free and
# names what is busy; the sync child is coffer-sync, exec'd, as the user.

HC=/usr/bin/python3
CALL="$COFFER_SOURCE_DIR/tests/vm/tools-helper/helper-call.py"
PASS='attack-test-passphrase-91ab'
PBKDF=(--pbkdf-memory-kib 16384 --pbkdf-iterations 4)
A=/home/alice
MGR=(/org/coffer/Helper1 org.coffer.Helper1.Manager)

helper_running() {
    [ "$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        NameHasOwner s org.coffer.Helper1)" = "b true" ]
}
helper_pid() { pgrep -u root -x coffer-helper; }
WATCH="$COFFER_SOURCE_DIR/tests/vm/tools-helper/watch-signals.py"
SETUUID="$COFFER_SOURCE_DIR/tests/vm/tools-helper/luks-set-uuid.py"
B=/home/bob

# expect ERRORNAME CMD...: CMD (a helper-call.py call as alice) must fail with that error and
# leave nothing attached (beyond what the test itself attached: $EXTRA_ATTACHED).
expect() {
    local want=$1 out
    shift
    out=$(vm_as alice $HC "$CALL" "$@" 2>&1) && vm_fail "succeeded, wanted $want: $* -> $out"
    echo "$out" | grep -q "^ERROR org.coffer.Helper1.Error.$want" || vm_fail "wanted $want: $* -> $out"
    echo "  $want: ${out#ERROR org.coffer.Helper1.Error.$want }"
    [ -n "${EXTRA_ATTACHED:-}" ] || vm_assert_nothing_attached
}
unlock() { expect "$1" "${MGR[@]}" Unlock 'hha{sv}' "$2" "${3:-pipe:$PASS}" 'dict:{}'; }
COPTS='dict:{"pbkdf-memory-kib":16384,"pbkdf-iterations":4}'
create() { expect "$1" "${MGR[@]}" CreateVault 'htha{sv}' "$2" "${3:-t:67108864}" "pipe:$PASS" "${4:-$COPTS}"; }

trap 'cp /var/log/coffer-helper.log "$VMSHARE/" 2>/dev/null || true' EXIT
vm_step "setup: install, bus, polkitd; alice's and bob's vaults"
vm_add_test_users
# bob: a second user polkit allows, for what one user must not do to another (his rule comes
# before the test rules of vm_install_coffer, which refuse everyone but alice).
echo "bob:x:1500:1500::$B:/bin/bash" >>/etc/passwd
echo "bob:x:1500:" >>/etc/group
echo "bob:!:20000:0:99999:7:::" >>/etc/shadow
install -d -m 0700 -o 1500 -g 1500 $B
vm_install_coffer
cat >/etc/polkit-1/rules.d/40-coffer-bob.rules <<'RULES'
polkit.addRule(function(action, subject) {
    if (subject.user == "bob" && action.id.indexOf("org.coffer.helper.") == 0
        && action.id != "org.coffer.helper.manage-other-users")
        return polkit.Result.YES;
    return polkit.Result.NOT_HANDLED;
});
RULES
mkdir -p /etc/coffer
printf '[helper]\nIdleSeconds=30\nLogFile=/var/log/coffer-helper.log\n' >/etc/coffer/helper.conf
vm_start_dbus
vm_start_polkitd
printf %s "$PASS" >$A/pw
chown alice:alice $A/pw
vm_as alice cofferctl create $A/v.img --size 400M --name keys --passphrase-file $A/pw "${PBKDF[@]}"
vm_as alice cofferctl create $A/w.img --size 64M --name work --passphrase-file $A/pw "${PBKDF[@]}"
printf %s "$PASS" >$B/pw
chown bob:bob $B/pw
vm_as bob cofferctl create $B/b.img --size 64M --name bobs --passphrase-file $B/pw "${PBKDF[@]}"
sha_v=$(sha256sum <$A/v.img)

vm_step "backing file attacks on Unlock"
ln -s $A/v.img $A/link.img
unlock InvalidArgument fd:$A/link.img:path                       # the symlink itself (O_PATH)
install -m 666 /dev/null /var/tmp/rootfile && truncate -s 64M /var/tmp/rootfile
ln -s /var/tmp/rootfile $A/link-root.img
unlock NotAuthorized fd:$A/link-root.img                          # followed: root's file
vm_as alice ln $A/v.img $A/hard.img
unlock InvalidArgument fd:$A/hard.img                            # two links
rm $A/hard.img
vm_as alice mkfifo $A/fifo
unlock InvalidArgument fd:$A/fifo                                # FIFO
loopdev=$(losetup --find --show /var/tmp/rootfile)
chown alice "$loopdev"
EXTRA_ATTACHED=1 unlock InvalidArgument fd:$loopdev              # block device
losetup -d "$loopdev"
vm_assert_nothing_attached
unlock InvalidArgument fd:$A:dir                                 # directory
mkdir -p /var/tmp/shared && chmod 1777 /var/tmp/shared
vm_as mallory cp $A/v.img /var/tmp/shared/mallorys.img 2>/dev/null || cp $A/v.img /var/tmp/shared/mallorys.img
chown mallory:mallory /var/tmp/shared/mallorys.img && chmod 666 /var/tmp/shared/mallorys.img
unlock NotAuthorized fd:/var/tmp/shared/mallorys.img             # another user's file
unlock InvalidArgument fd:$A/v.img:r                             # read-only fd
unlock BadPassphrase fd:$A/v.img pipe:not-the-passphrase         # wrong passphrase
unlock InvalidArgument fd:$A/v.img pipeopen:$PASS                # secret pipe never closed
unlock InvalidArgument fd:$A/v.img fd:/dev/zero:r                # endless "key file"
out=$(vm_as alice $HC "$CALL" --bad-fd-index Unlock 2>&1) || true
echo "$out" | grep -q '^ERROR org.coffer.Helper1.Error.InvalidArgument' || vm_fail "bad fd index: $out"
echo "  bad fd index (Unlock): $out"
vm_assert_nothing_attached

vm_step "no LUKS header, corrupted header"
vm_as alice truncate -s 64M $A/zero.img
unlock NotSupported fd:$A/zero.img
vm_as alice sh -c "head -c 40M /dev/urandom >$A/random.img"
unlock NotSupported fd:$A/random.img
vm_as alice cp $A/v.img $A/corrupt.img
vm_as alice dd if=/dev/urandom of=$A/corrupt.img bs=64K count=1 conv=notrunc status=none
out=$(vm_as alice $HC "$CALL" "${MGR[@]}" Unlock 'hha{sv}' fd:$A/corrupt.img "pipe:$PASS" 'dict:{}' 2>&1) \
    && vm_fail "a vault with both headers destroyed opened: $out"
echo "$out" | grep -q '^ERROR org.coffer.Helper1.Error.' || vm_fail "corrupted header: $out"
echo "  corrupted header: $out"
vm_assert_nothing_attached
[ "$(sha256sum <$A/v.img)" = "$sha_v" ] || vm_fail "the good vault changed"

vm_step "hostile header UUIDs never become paths (LUKS2 and LUKS1)"
for type in luks2 luks1; do
    truncate -s 20M $A/hostile-$type.img
    printf %s "$PASS" | cryptsetup luksFormat --type $type --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
        --batch-mode --key-file=- $A/hostile-$type.img
    $HC "$SETUUID" $A/hostile-$type.img ../../../etc/coffer-owned
    chown alice:alice $A/hostile-$type.img
    out=$(vm_as alice $HC "$CALL" "${MGR[@]}" Unlock 'hha{sv}' fd:$A/hostile-$type.img "pipe:$PASS" 'dict:{}' 2>&1) \
        && vm_fail "a header with UUID ../../../etc/coffer-owned opened: $out"
    echo "$out" | grep -q '^ERROR org.coffer.Helper1.Error.' || vm_fail "hostile UUID ($type): $out"
    echo "  $type: $out"
    [ ! -e /etc/coffer-owned.json ] && [ ! -e /etc/coffer-owned ] || vm_fail "a header's UUID wrote into /etc"
    [ -z "$(ls /run/coffer/state/ 2>/dev/null)" ] || vm_fail "state written for a hostile header: $(ls /run/coffer/state)"
    [ -z "$(ls /run/coffer/$(id -u alice)/ 2>/dev/null)" ] || vm_fail "a mount point left: $(ls /run/coffer/$(id -u alice))"
    vm_assert_nothing_attached
done

vm_step "CreateVault attacks"
vm_as alice sh -c "echo 'precious content' >$A/precious.txt"
sha_p=$(sha256sum <$A/precious.txt)
create InvalidArgument fd:$A/precious.txt                        # non-empty file
[ "$(sha256sum <$A/precious.txt)" = "$sha_p" ] || vm_fail "the non-empty file was changed"
vm_as alice touch $A/new.img
create InvalidArgument fd:$A/new.img t:0                         # size 0
create NoSpace fd:$A/new.img t:1099511627776                     # 1 TiB: beyond free space
create InvalidArgument fd:$A/new.img t:18446744073709551615      # absurd
create InvalidArgument fd:$A/new.img t:67108864 'dict:{"label":"../../etc"}'
create InvalidArgument fd:$A/new.img t:67108864 'dict:{"label":"a/b"}'
create InvalidArgument fd:$A/new.img t:67108864 'dict:{"label":"line\nbreak"}'
create InvalidArgument fd:$A/new.img t:67108864 "dict:{\"label\":\"$(head -c 4096 /dev/zero | tr '\0' x)\"}"
create InvalidArgument fd:$A/new.img t:67108864 'dict:{"no-such-option":1}'
create InvalidArgument fd:$A/new.img:r                           # read-only
create InvalidArgument fd:$A/fifo                                # FIFO
create NotAuthorized fd:/var/tmp/rootfile                        # root's (world-writable) file
out=$(vm_as alice $HC "$CALL" --bad-fd-index CreateVault 2>&1) || true
echo "$out" | grep -q '^ERROR org.coffer.Helper1.Error.InvalidArgument' || vm_fail "bad fd index: $out"
echo "  bad fd index (CreateVault): $out"
[ ! -s $A/new.img ] || vm_fail "a refused CreateVault wrote into the file"

vm_step "50 unlocks from alice with secret pipes never closed; bob is answered while they wait"
mkdir $A/flood && chown alice:alice $A/flood
vm_as alice $HC "$CALL" --flood 50 $A/flood /var/tmp/flood >/var/tmp/flood.out 2>&1 & flood=$!
vm_wait_until 120 test -e /var/tmp/flood.sent || { cat /var/tmp/flood.out; vm_fail "the flood was not sent"; }
# The 34 beyond the per-user limit of 16 (unlocks in progress count) are refused at once.
vm_wait_until 120 sh -c '[ "$(grep -c Error.Busy /var/tmp/flood)" -ge 34 ]' \
    || { cat /var/tmp/flood; vm_fail "the unlocks beyond the per-user limit were not refused"; }
bmp=$(vm_as bob cofferctl unlock $B/b.img --passphrase-file $B/pw) || vm_fail "bob's unlock failed during alice's flood"
answered=$(grep -c . /var/tmp/flood)
echo "  bob unlocked at $bmp while $((50 - answered)) of alice's 50 calls were still waiting"
[ "$answered" -lt 50 ] || vm_fail "bob was answered only after all of alice's calls"
[ "$(grep -c Error.Busy /var/tmp/flood)" = 34 ] || { cat /var/tmp/flood; vm_fail "not exactly 16 of alice's unlocks accepted"; }
touch /var/tmp/flood.release
wait $flood || { cat /var/tmp/flood.out; vm_fail "the flood client failed"; }
[ "$(grep -c . /var/tmp/flood)" = 50 ] || vm_fail "not every one of alice's calls was answered"
grep -v Error.Busy /var/tmp/flood | grep -qv 'Error.NotSupported\|Error.InvalidArgument' \
    && { cat /var/tmp/flood; vm_fail "an unexpected answer to a flood call"; }
vm_as bob cofferctl lock $B/b.img
vm_assert_nothing_attached

vm_step "a caller that disconnects during the polkit check gets nothing done"
for i in 1 2 3 4 5; do
    vm_as alice $HC "$CALL" --no-wait "${MGR[@]}" Unlock 'hha{sv}' fd:$A/v.img "pipe:$PASS" 'dict:{}'
done
vm_wait_until 30 grep -q 'dropped, the caller disconnected\|cannot tell who is calling\|denied' /var/log/coffer-helper.log \
    || { tail -20 /var/log/coffer-helper.log; vm_fail "no trace of dropped calls"; }
vm_assert_nothing_attached
vm_as alice $HC "$CALL" "${MGR[@]}" ListVaults '' | grep -q '^OK' || vm_fail "helper unusable after hang-ups"

vm_step "two clients on one vault: one unlocks, the other gets Busy"
vm_as alice cofferctl unlock $A/v.img --passphrase-file $A/pw >/var/tmp/u1 2>&1 & p1=$!
vm_as alice cofferctl unlock $A/v.img --passphrase-file $A/pw >/var/tmp/u2 2>&1 & p2=$!
r1=0; r2=0; wait $p1 || r1=$?; wait $p2 || r2=$?
echo "  exits: $r1 $r2"; cat /var/tmp/u1 /var/tmp/u2
{ [ "$r1" = 0 ] && [ "$r2" = 6 ]; } || { [ "$r1" = 6 ] && [ "$r2" = 0 ]; } || vm_fail "two unlocks: exits $r1 and $r2"
mp=/run/coffer/$(id -u alice)/keys
mountpoint -q $mp || vm_fail "not mounted at $mp"

vm_step "bob unlocks a copy of alice's open vault: Busy, and her record and mount point are untouched"
install -m 0644 $A/v.img /var/tmp/shared/copy.img
vm_as bob cp /var/tmp/shared/copy.img $B/copy.img
rm /var/tmp/shared/copy.img
record_before=$(cat /run/coffer/state/*.json)
rc=0; out=$(vm_as bob cofferctl unlock $B/copy.img --passphrase-file $B/pw 2>&1) || rc=$?
echo "  bob's unlock of the copy: exit $rc: $out"
[ "$rc" = 6 ] || vm_fail "unlocking a copy of an open vault gave exit $rc, not 6 (Busy)"
[ "$(cat /run/coffer/state/*.json)" = "$record_before" ] || vm_fail "alice's state record changed"
[ -z "$(ls /run/coffer/1500/ 2>/dev/null)" ] || vm_fail "a mount point was left for bob"
mountpoint -q $mp || vm_fail "alice's vault is no longer mounted"

vm_step "privacy: nobody else reaches alice's open vault, reads its objects or hears its signals"
[ "$(stat -c %U:%a /run/coffer/$(id -u alice))" = root:750 ] || vm_fail "/run/coffer/<uid> is $(stat -c %U:%a /run/coffer/$(id -u alice))"
[ "$(stat -c %U:%a $mp)" = alice:700 ] || vm_fail "the vault's top folder is $(stat -c %U:%a $mp)"
vm_as alice ls /run/coffer/$(id -u alice) >/dev/null || vm_fail "alice cannot reach her own mount point"
vm_as mallory ls /run/coffer/$(id -u alice) >/dev/null 2>&1 && vm_fail "mallory lists alice's mount points"
vm_as mallory stat $mp >/dev/null 2>&1 && vm_fail "mallory reaches alice's mount point"
vm_as mallory ls /run/coffer >/dev/null 2>&1 && vm_fail "mallory lists whose vaults are open"
vpath=$(vm_as alice $HC "$CALL" "${MGR[@]}" ListVaults '' | sed -n "s/^OK dbus.Array(\[dbus.ObjectPath('\([^']*\)').*/\1/p")
[ -n "$vpath" ] || vm_fail "alice's ListVaults gave no vault"
vm_as alice $HC "$CALL" "$vpath" org.freedesktop.DBus.Properties GetAll s s:org.coffer.Helper1.Vault | grep -q "$mp" \
    || vm_fail "alice cannot read her vault's properties"
for who in mallory bob; do
    out=$(vm_as $who $HC "$CALL" "$vpath" org.freedesktop.DBus.Properties GetAll s s:org.coffer.Helper1.Vault 2>&1) \
        && vm_fail "$who read alice's vault: $out"
    echo "$out" | grep -q '^ERROR org.coffer.Helper1.Error.NotAuthorized' || vm_fail "$who's GetAll: $out"
    out=$(vm_as $who $HC "$CALL" "$vpath" org.freedesktop.DBus.Properties Get ss s:org.coffer.Helper1.Vault s:MountPoint 2>&1) \
        && vm_fail "$who read alice's mount point: $out"
    out=$(vm_as $who $HC "$CALL" /org/coffer/Helper1/vault org.freedesktop.DBus.Introspectable Introspect '' 2>&1)
    echo "$out" | grep -q 'node name=' && vm_fail "$who sees alice's vault in Introspect: $out"
    out=$(vm_as $who $HC "$CALL" "$vpath" org.freedesktop.DBus.Introspectable Introspect '' 2>&1)
    echo "$out" | grep -q 'org.coffer.Helper1.Vault' && vm_fail "$who introspects alice's vault: $out"
done
echo "  mallory and bob: NotAuthorized for its properties, nothing of it in Introspect"
vm_as alice $HC "$WATCH" /var/tmp/alice.signals & alice_watch=$!
vm_as mallory $HC "$WATCH" /var/tmp/mallory.signals & mallory_watch=$!
vm_as bob $HC "$WATCH" /var/tmp/bob.signals & bob_watch=$!
vm_wait_until 60 sh -c 'grep -qs listening /var/tmp/alice.signals && grep -qs listening /var/tmp/mallory.signals && grep -qs listening /var/tmp/bob.signals' \
    || vm_fail "the signal watchers did not start"
mkdir -p $A/small && echo "a private file name" >$A/small/secret-plans.txt && chown -R alice:alice $A/small
wmp=$(vm_as alice cofferctl unlock $A/w.img --passphrase-file $A/pw)
vm_as alice cofferctl sync $A/w.img --source $A/small
vm_wait_until 60 grep -q 'Job.Completed' /var/tmp/alice.signals || { cat /var/tmp/alice.signals; vm_fail "alice's watcher heard nothing"; }
grep -q 'Manager.VaultAdded' /var/tmp/alice.signals || vm_fail "alice did not hear VaultAdded"
grep -q 'PropertiesChanged' /var/tmp/alice.signals || vm_fail "alice did not hear her job's progress"
# The watchers' own pids (vm_as runs them in a subshell of their own).
watcher() { sed -n 's/^listening //p' /var/tmp/$1.signals; }
kill -USR1 "$(watcher mallory)" "$(watcher bob)"
wait $mallory_watch $bob_watch || true
kill "$(watcher alice)"
wait $alice_watch || true
for who in mallory bob; do
    grep -q flushed /var/tmp/$who.signals || vm_fail "$who's watcher did not finish"
    grep -q '^/org/coffer' /var/tmp/$who.signals && vm_fail "$who heard alice's signals: $(cat /var/tmp/$who.signals)"
done
echo "  alice heard $(grep -c '^/org/coffer' /var/tmp/alice.signals) signals of her vaults and jobs; mallory and bob none"

vm_step "helper SIGKILLed during a sync; the next call restarts it and adopts the vault"
mkdir -p $A/data
for i in $(seq 1 400); do echo "file $i" >$A/data/f$i; done
head -c 150M /dev/urandom >$A/data/big
chown -R alice:alice $A/data
vm_as alice cofferctl sync $A/v.img --source $A/data >/var/tmp/sync1 2>&1 & sp=$!
vm_wait_until 60 pgrep -u alice -x coffer-sync || vm_fail "no sync child running as alice"
child=$(pgrep -u alice -x coffer-sync | head -1)
grep -q "Uid:.*$(id -u alice)" /proc/$child/status || vm_fail "child not alice"
grep -q 'NoNewPrivs:.*1' /proc/$child/status || vm_fail "child without no_new_privs"
# A program of its own, started afresh: not a fork of the helper, nothing of its log or environment.
[ "$(readlink /proc/$child/exe)" = /usr/libexec/coffer-sync ] || vm_fail "the sync child is $(readlink /proc/$child/exe)"
[ "$(readlink /proc/$child/fd/2)" = /dev/null ] || vm_fail "the sync child's stderr is $(readlink /proc/$child/fd/2)"
[ ! -s /proc/$child/environ ] || vm_fail "the sync child has an environment"
rc=0; out=$(vm_as alice cofferctl lock $A/v.img 2>&1) || rc=$?
echo "  lock during sync: exit $rc: $out"
[ "$rc" = 6 ] || vm_fail "lock during a sync gave exit $rc, not 6 (Busy)"
rc=0; out=$(vm_as alice cofferctl lock --all 2>&1) || rc=$?
echo "  lock --all during sync: exit $rc: $out"
[ "$rc" = 6 ] || vm_fail "lock --all during a sync gave exit $rc, not 6 (Busy)"
echo "$out" | grep -q keys || vm_fail "lock --all did not name the busy vault"
mountpoint -q "$wmp" && vm_fail "lock --all left the free vault open"
mountpoint -q $mp || vm_fail "lock --all locked the busy vault"
kill -9 "$(helper_pid)"
rc=0; wait $sp || rc=$?; echo "  cofferctl sync after the kill: exit $rc"
vm_wait_until 10 sh -c '! pgrep -u alice -x coffer-sync' || vm_fail "the sync child outlived the helper"
vm_as alice cofferctl status | tee /var/tmp/status
grep -q "$mp" /var/tmp/status || vm_fail "restarted helper did not adopt the mounted vault"
grep -q "adopted" /var/log/coffer-helper.log || vm_fail "no adoption in the log"

vm_step "Ctrl-C on cofferctl sync cancels the job (exit 7)"
head -c 150M /dev/urandom >$A/data/big2 && chown alice:alice $A/data/big2
vm_as alice cofferctl sync $A/v.img --source $A/data >/var/tmp/sync2 2>&1 & sp=$!
vm_wait_until 60 pgrep -u alice -x coffer-sync || vm_fail "no sync child running as alice"
# $sp is the backgrounded subshell (which ignores SIGINT): signal cofferctl itself.
kill -INT "$(pgrep -u alice -x cofferctl)"
rc=0; wait $sp || rc=$?
cat /var/tmp/sync2
[ "$rc" = 7 ] || vm_fail "cancelled sync gave exit $rc, not 7"
vm_wait_until 30 sh -c '! pgrep -u alice -x coffer-sync' || vm_fail "the sync child outlived the cancel"
vm_as alice cofferctl sync $A/v.img --source $A/data
cmp $A/data/big $mp/current/data/big || vm_fail "sync after restart incomplete"
cmp $A/data/big2 $mp/current/data/big2 || vm_fail "sync after the cancel incomplete"
vm_as alice cofferctl lock $A/v.img
vm_assert_nothing_attached

vm_step "helper SIGKILLed during an unlock; the next call cleans up; unlock works again"
vm_as alice cofferctl create $A/slow.img --size 64M --name slow --passphrase-file $A/pw \
    --pbkdf-memory-kib 65536 --pbkdf-iterations 8
vm_as alice cofferctl unlock $A/slow.img --passphrase-file $A/pw >/var/tmp/u3 2>&1 & up=$!
vm_wait_until 60 sh -c 'grep -qs "\"opening\"" /run/coffer/state/*.json' || vm_fail "unlock never started"
kill -9 "$(helper_pid)"
rc=0; wait $up || rc=$?; echo "  cofferctl unlock after the kill: exit $rc"
vm_as alice cofferctl status
vm_assert_nothing_attached 20
[ -z "$(ls /run/coffer/state/ 2>/dev/null)" ] || vm_fail "stale state left: $(ls /run/coffer/state)"
[ ! -e /run/coffer/$(id -u alice)/slow ] || vm_fail "stale mount point left"
mp2=$(vm_as alice cofferctl unlock $A/slow.img --passphrase-file $A/pw)
mountpoint -q "$mp2" || vm_fail "unlock after the kill failed"
vm_as alice cofferctl lock --all
vm_assert_nothing_attached
cp /var/log/coffer-helper.log "$VMSHARE/helper-attacks-helper.log"
