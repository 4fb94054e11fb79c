#!/usr/bin/env bash
# Runs one Linux x86-64 test binary inside a disposable QEMU virtual machine
# that emulates an AMD CPU in software (TCG), with KVM loaded in nested mode,
# so the binary sees a /dev/kvm on which Hyperlight guests really run. This
# is how the Hyperlight backend is tested on machines whose own /dev/kvm
# cannot run a guest (see the README, "The Hyperlight backend").
#
#   scripts/run-in-vm.sh [-e NAME=VALUE]... BINARY [ARGS...]
#
# Prints the binary's output and exits with its exit status, or, when no VM
# of VM_ATTEMPTS fresh boots reported one, 124 if the last outlived
# VM_TIMEOUT seconds and 125 if it died (a kernel panic, say).
# The binary and its shared libraries are copied into the VM's initramfs at
# their own paths; it runs as root in a directory named like $PWD.
#
# Needs Debian's qemu-system-x86, busybox-static and cpio (`make deps-vm`).
# The kernel is Debian's linux-image-amd64, fetched once with
# `apt-get download` into VM_CACHE (default ~/.cache/polybox-vm).
#
# Knobs: VM_CPU (default EPYC-Rome: AMD SVM, and restores far faster than
# "max"), VM_MEMORY (4G), VM_CPUS (1: with two, the emulation wedged one of
# them every few runs of the parity suite, and with one it did not in 60),
# VM_TIMEOUT (900, per boot), VM_ATTEMPTS (3), VM_CACHE.
set -euo pipefail

fail() { echo "run-in-vm: $*" >&2; exit 125; }

cpu=${VM_CPU:-EPYC-Rome}
memory=${VM_MEMORY:-4G}
cpus=${VM_CPUS:-1}
timeout_s=${VM_TIMEOUT:-900}
attempts=${VM_ATTEMPTS:-3}
cache=${VM_CACHE:-$HOME/.cache/polybox-vm}

envs=()
while [ "${1:-}" = -e ]; do envs+=("$2"); shift 2; done
[ $# -ge 1 ] || fail "usage: $0 [-e NAME=VALUE]... BINARY [ARGS...]"
binary=$(realpath -s "$1"); shift
[ -x "$binary" ] || fail "$binary is not an executable"
for tool in qemu-system-x86_64 cpio ldd apt-get dpkg; do
  command -v "$tool" >/dev/null || fail "$tool is missing (make deps-vm)"
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 \
  || fail "a static busybox is needed (make deps-vm installs busybox-static)"

# The kernel and the four modules KVM on AMD needs, unpacked once.
if [ ! -f "$cache/ready" ]; then
  rm -rf "$cache" && mkdir -p "$cache/modules"
  kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }'
  }
  package=$(kernel_package)
  if [ -z "$package" ]; then  # package lists not fetched yet
    $([ "$(id -u)" = 0 ] || echo sudo) apt-get update -qq
    package=$(kernel_package)
  fi
  [ -n "$package" ] || fail "apt knows no linux-image-amd64"
  (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$package" >/dev/null) || fail "cannot download $package"
  dpkg -x "$cache"/linux-image-*.deb "$cache/unpacked"
  cp "$cache"/unpacked/boot/vmlinuz-* "$cache/vmlinuz"
  for module in virt/lib/irqbypass drivers/crypto/ccp/ccp arch/x86/kvm/kvm arch/x86/kvm/kvm-amd; do
    source=$(ls "$cache"/unpacked/lib/modules/*/kernel/"$module".ko* | head -n 1)
    case "$source" in
      *.xz) xz -dc "$source" ;;
      *.zst) zstd -dc "$source" ;;
      *) cat "$source" ;;
    esac > "$cache/modules/$(basename "$module").ko"
  done
  rm -rf "$cache/unpacked" "$cache"/linux-image-*.deb
  touch "$cache/ready"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/polybox-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,root,modules}
cp "$busybox" "$root/bin/busybox"
cp "$cache"/modules/*.ko "$root/modules/"

# Copies a host file into the initramfs at the same path.
copy_in() {
  local path
  path=$(realpath -s "$1")
  mkdir -p "$root$(dirname "$path")"
  cp -L "$path" "$root$path"
}
copy_in "$binary"
ldd "$binary" | grep -oE '/[^ ]+' | while read -r library; do copy_in "$library"; done
mkdir -p "$root$PWD"

{
  echo 'export PATH=/bin HOME=/root TERM=dumb'
  for assignment in "${envs[@]+"${envs[@]}"}"; do printf 'export %q\n' "$assignment"; done
  printf 'cd %q\n' "$PWD"
  printf '%q ' "$binary" "$@"
  echo
} > "$root/run"

cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm
chmod 1777 /tmp
exec </dev/console >/dev/console 2>&1
for module in irqbypass ccp kvm; do insmod /modules/$module.ko 2>/dev/null; done
insmod /modules/kvm-amd.ko nested=1 || echo "run-in-vm: kvm-amd did not load"
[ -c /dev/kvm ] || echo "run-in-vm: the VM has no /dev/kvm"
sh /run
echo "polybox-vm-exit=$?"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$work/initrd"

# One VM boot. The emulation can wedge a CPU of the VM inside KVM's
# nested-guest handling (seen as a soft lockup, or as an RCU stall on a CPU
# that stopped taking timer interrupts). The VM's kernel is told to panic
# on either, and a panic ends QEMU at once, instead of a wedged VM running
# out the timeout.
boot_vm() {
  timeout "$timeout_s" qemu-system-x86_64 -accel tcg,thread=multi -cpu "$cpu" \
    -m "$memory" -smp "$cpus" -nodefaults -display none -monitor none -no-reboot \
    -serial stdio -kernel "$cache/vmlinuz" -initrd "$work/initrd" \
    -append "console=ttyS0 quiet loglevel=1 panic=-1 softlockup_panic=1 sysctl.kernel.panic_on_rcu_stall=1 mitigations=off tsc=reliable" \
    </dev/null 2> >(grep -v "TCG doesn't support requested feature" >&2) \
    | tee "$work/console" | grep -av -e '^polybox-vm-exit=' -e 'reboot: Power down'
  return "${PIPESTATUS[0]}"
}

# The binary's own exit status is final. A VM that died without reporting
# one (a kernel panic) or ran out of time is booted afresh, each retry
# announced; a binary that hangs by itself still fails, after every attempt.
for attempt in $(seq 1 "$attempts"); do
  set +e
  boot_vm
  qemu_status=$?
  set -e
  status=$(grep -ao '^polybox-vm-exit=[0-9]*' "$work/console" | tail -n 1 | cut -d= -f2 || true)
  [ -n "$status" ] && exit "$status"
  if [ "$qemu_status" = 124 ]; then
    reason="the VM did not finish within ${timeout_s}s"
    final=124
  else
    reason="the VM stopped without reporting the binary's exit status (qemu exited $qemu_status)"
    panic=$(grep -aom1 'Kernel panic - not syncing: [^[:cntrl:]]*' "$work/console" || true)
    [ -n "$panic" ] && reason="the VM's kernel stopped it: $panic"
    final=125
  fi
  if [ "$attempt" -ge "$attempts" ]; then
    echo "run-in-vm: $reason; gave up after $attempts attempts" >&2
    exit "$final"
  fi
  echo "run-in-vm: $reason; booting a fresh VM (attempt $((attempt + 1)) of $attempts)" >&2
done
