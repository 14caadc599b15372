#!/bin/sh
# The remote side of fleetpatch's SSH executor (ssh-executor.ts): the executor decides what a job
# step does, this script does it on the host. It is sent as the command (`sh -c SCRIPT
# fleetpatch-remote-step OPERATION ARGUMENT...`), so nothing is installed on the host beyond a
# POSIX sh, setsid and mktemp. Every path is under ${FLEETPATCH_ROOT:-/}, so a directory root with
# its own package database reads and changes like a live host.
#
#   facts RPM_QUERY_FORMAT   the host's facts as framed sections: "NAME BYTES\n", the bytes, "\n"
#   begin NAME               claims the journal entry NAME (its started marker from stdin) and
#                            prints `new`; or `finished` and the stored result; or `started` (the
#                            key was claimed before and never finished)
#   finish NAME              stores the result JSON from stdin as the entry's result
#   run TIMEOUT_MS ARG...    runs ARG... in a session of its own, stdout and stderr on stdout;
#                            the whole session is killed at the timeout (reported on stderr as
#                            `fleetpatch-remote-step: timed out`) or as soon as stdin closes (the
#                            executor gave up, or the connection is gone); exits with its status
#   reboot NAME              stores the `started` result from stdin, prints `rebooting`, then runs
#                            ${FLEETPATCH_REBOOT_COMMAND:-systemctl reboot}
set -u
umask 077

root=${FLEETPATCH_ROOT:-/}
case $root in
  */) ;;
  *) root=$root/ ;;
esac
export FLEETPATCH_ROOT="$root"
journal=${root}var/lib/fleetpatch/ssh-jobs
# Entries untouched this long are removed: no server asks for a key weeks after its deadline.
journal_retention_days=30

scratch=$(mktemp -d "${TMPDIR:-/tmp}/fleetpatch-step.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT

fail() {
  printf 'fleetpatch-remote-step: %s\n' "$*" >&2
  exit 1
}

# section NAME FILE: the file's bytes, framed by their count.
section() {
  printf '%s %s\n' "$1" "$(wc -c < "$2" | tr -d ' ')"
  cat "$2"
  printf '\n'
}

# file_section NAME PATH: a copy first, so a file rewritten meanwhile is framed consistently.
file_section() {
  cat "$2" > "$scratch/section" 2>/dev/null || return 1
  section "$1" "$scratch/section"
}

value_section() {
  printf '%s' "$2" > "$scratch/section"
  section "$1" "$scratch/section"
}

# write_durably PATH: stdin into PATH, replaced atomically and on disk before anything acts on it.
write_durably() {
  cat > "$1.tmp" && mv -f "$1.tmp" "$1" && { sync "$1" "${1%/*}" 2>/dev/null || sync; }
}

facts() {
  value_section root "$root"
  if [ "$root" = / ] || ! file_section hostname "${root}etc/hostname"; then
    value_section hostname "$(uname -n)"
  fi
  file_section os-release "${root}etc/os-release" || file_section os-release "${root}usr/lib/os-release"
  if [ -f "${root}var/lib/dpkg/status" ]; then
    file_section packages-dpkg-status "${root}var/lib/dpkg/status"
  elif [ -f "${root}lib/apk/db/installed" ]; then
    file_section packages-apk "${root}lib/apk/db/installed"
  elif [ -f "${root}usr/lib/apk/db/installed" ]; then
    file_section packages-apk "${root}usr/lib/apk/db/installed"
  elif [ -d "${root}var/lib/rpm" ] || [ -d "${root}usr/lib/sysimage/rpm" ]; then
    if [ "$root" = / ]; then
      rpm -qa --queryformat "$1" > "$scratch/rpm" || fail "rpm -qa failed"
    else
      rpm --root "$root" -qa --queryformat "$1" > "$scratch/rpm" || fail "rpm -qa failed"
    fi
    section packages-rpm "$scratch/rpm"
  fi
  file_section boot-id "${root}proc/sys/kernel/random/boot_id"
  file_section running-kernel "${root}proc/sys/kernel/osrelease"
  if [ -e "${root}var/run/reboot-required" ] || [ -e "${root}run/reboot-required" ]; then
    value_section reboot-required yes
  else
    value_section reboot-required no
  fi
}

begin() {
  entry=$journal/$1
  mkdir -p "$journal" || fail "cannot create $journal"
  find "$journal/." ! -name . -prune -type d -mtime +"$journal_retention_days" -exec rm -rf {} +
  # mkdir is the claim: of two runs of one key, exactly one creates the entry.
  if mkdir "$entry" 2>/dev/null; then
    write_durably "$entry/started" || fail "cannot journal $1"
    echo new
  elif [ -f "$entry/result.json" ]; then
    echo finished
    cat "$entry/result.json"
  elif [ -d "$entry" ]; then
    echo started
  else
    fail "cannot create $entry"
  fi
}

finish() {
  [ -d "$journal/$1" ] || fail "no journal entry $1"
  write_durably "$journal/$1/result.json" || fail "cannot store the result of $1"
}

run() {
  seconds=$(( ($1 + 999) / 1000 ))
  shift
  exec 3<&0
  setsid "$@" < /dev/null 2>&1 &
  command=$!
  # Background jobs are in this shell's process group, so setsid makes each the leader of a
  # session of its own: killing that group reaches everything the command started.
  setsid sh -c 'sleep "$1"; : > "$2"; kill -s TERM -- "-$3"; sleep 5; kill -s KILL -- "-$3"' \
    watchdog "$seconds" "$scratch/timed-out" "$command" < /dev/null > /dev/null 2>&1 &
  watchdog=$!
  setsid sh -c 'cat > /dev/null; kill -s KILL -- "-$1" 2>/dev/null || kill -s KILL "$1"' \
    lifeline "$command" <&3 > /dev/null 2>&1 &
  lifeline=$!
  exec 3<&-
  # The shell's own "Terminated" notice is not the command's output.
  wait "$command" 2>/dev/null
  status=$?
  kill -s KILL -- "-$watchdog" "-$lifeline" 2>/dev/null
  [ -e "$scratch/timed-out" ] && printf 'fleetpatch-remote-step: timed out\n' >&2
  exit "$status"
}

reboot_host() {
  entry=$journal/$1
  [ -d "$entry" ] || fail "no journal entry $1"
  write_durably "$entry/result.json" || fail "cannot journal the reboot of $1"
  echo rebooting
  # The connection may drop before the command ends: its output stays in the journal.
  sh -c "${FLEETPATCH_REBOOT_COMMAND:-systemctl reboot}" < /dev/null > "$entry/reboot-output" 2>&1
  status=$?
  cat "$entry/reboot-output"
  exit "$status"
}

[ $# -ge 1 ] || fail "no operation"
operation=$1
shift
case $operation in
  facts) [ $# -eq 1 ] || fail "usage: facts RPM_QUERY_FORMAT"; facts "$1" ;;
  begin) [ $# -eq 1 ] || fail "usage: begin NAME"; begin "$1" ;;
  finish) [ $# -eq 1 ] || fail "usage: finish NAME"; finish "$1" ;;
  run) [ $# -ge 2 ] || fail "usage: run TIMEOUT_MS ARG..."; run "$@" ;;
  reboot) [ $# -eq 1 ] || fail "usage: reboot NAME"; reboot_host "$1" ;;
  *) fail "unknown operation $operation" ;;
esac
