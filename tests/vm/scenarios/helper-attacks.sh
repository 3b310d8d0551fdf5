# coffer-helper under attack (issue 5, design.md 4): every hostile argument is answered by a
# clear named error with nothing changed and nothing left attached; the helper SIGKILLed during
# unlock and during sync is restarted by the next call into a consistent state; two clients on
# one vault get Busy.

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
vm_step "setup: install, bus, polkitd; alice's vault"
vm_add_test_users
vm_install_coffer
mkdir -p /etc/coffer
printf '[helper]\nIdleSeconds=30\nLogFile=/var/log/coffer-helper.log\n' >/etc/coffer/helper.conf
vm_start_dbus
vm_start_polkitd
printf %s "$PASS" >$A/pw
chown alice:alice $A/pw
vm_as alice cofferctl create $A/v.img --size 400M --name keys --passphrase-file $A/pw "${PBKDF[@]}"
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

vm_step "helper SIGKILLed during a sync; the next call restarts it and adopts the vault"
mkdir -p $A/data
for i in $(seq 1 400); do echo "file $i" >$A/data/f$i; done
head -c 150M /dev/urandom >$A/data/big
chown -R alice:alice $A/data
vm_as alice cofferctl sync $A/v.img --source $A/data >/var/tmp/sync1 2>&1 & sp=$!
vm_wait_until 60 pgrep -u alice -x coffer-helper || vm_fail "no sync child running as alice"
grep -q "Uid:.*$(id -u alice)" /proc/$(pgrep -u alice -x coffer-helper | head -1)/status || vm_fail "child not alice"
grep -q 'NoNewPrivs:.*1' /proc/$(pgrep -u alice -x coffer-helper | head -1)/status || vm_fail "child without no_new_privs"
rc=0; out=$(vm_as alice cofferctl lock $A/v.img 2>&1) || rc=$?
echo "  lock during sync: exit $rc: $out"
[ "$rc" = 6 ] || vm_fail "lock during a sync gave exit $rc, not 6 (Busy)"
kill -9 "$(helper_pid)"
rc=0; wait $sp || rc=$?; echo "  cofferctl sync after the kill: exit $rc"
vm_wait_until 10 sh -c '! pgrep -u alice -x coffer-helper' || vm_fail "the sync child outlived the helper"
vm_as alice cofferctl status | tee /var/tmp/status
grep -q "$mp" /var/tmp/status || vm_fail "restarted helper did not adopt the mounted vault"
grep -q "adopted" /var/log/coffer-helper.log || vm_fail "no adoption in the log"

vm_step "Ctrl-C on cofferctl sync cancels the job (exit 7)"
head -c 150M /dev/urandom >$A/data/big2 && chown alice:alice $A/data/big2
vm_as alice cofferctl sync $A/v.img --source $A/data >/var/tmp/sync2 2>&1 & sp=$!
vm_wait_until 60 pgrep -u alice -x coffer-helper || vm_fail "no sync child running as alice"
# $sp is the backgrounded subshell (which ignores SIGINT): signal cofferctl itself.
kill -INT "$(pgrep -u alice -x cofferctl)"
rc=0; wait $sp || rc=$?
cat /var/tmp/sync2
[ "$rc" = 7 ] || vm_fail "cancelled sync gave exit $rc, not 7"
vm_wait_until 30 sh -c '! pgrep -u alice -x coffer-helper' || vm_fail "the sync child outlived the cancel"
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
