#!/bin/sh
# demo_chain.sh — `make demo-chain`: the two-hotel scene, played with
# examples/frontdesk.  A guest stays at the chain's Macau hotel, where the
# departments note what he likes; months later he books the Lisbon hotel,
# which has never seen him.  Both hotels sync through a NATS server
# (libprofile-sync), so Lisbon's rule book (examples/hotel.rules) turns
# what Macau noticed into work for Lisbon's front desk, housekeeping and
# restaurant, and welcomes him back on his second stay with the chain.
#
# Everything lives in a temporary directory ($TMPDIR, else /tmp), removed
# at exit: the two databases and the JetStream store of a nats-server
# started for the demo on a free port of 127.0.0.1 (never another address),
# stopped by its pid at exit, on error or on Ctrl-C.  PF_NOW fixes the
# clock for each scene, as in examples/demo.sh.
#
#   BUILD=build        where frontdesk was built (or FRONTDESK=path)
#   NATS_SERVER=path   the nats-server binary (Debian package nats-server)
# shellcheck disable=SC1010  # "done" below is a frontdesk command, not the keyword
set -e

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
FD=${FRONTDESK:-$BUILD/frontdesk}
RULES=$ROOT/examples/hotel.rules
NATS_SERVER=${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
CHAIN=grand
[ -x "$FD" ] || { echo "demo-chain: $FD is missing; run 'make' first" >&2; exit 1; }
[ -x "$NATS_SERVER" ] || {
	echo "demo-chain: nats-server is missing (apt-get install nats-server)" >&2; exit 1; }
unset PF_DB PF_TZ   # each command names its database; business days in UTC

work=$(mktemp -d "${TMPDIR:-/tmp}/demo-chain.XXXXXX")
nats_pid=
cleanup() {
	if [ -n "$nats_pid" ]; then
		kill "$nats_pid" 2>/dev/null || :
		wait "$nats_pid" 2>/dev/null || :
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -p -1: the kernel picks a free port; the server's log says which.
: >"$work/nats.log"     # there before the loop below reads it
"$NATS_SERVER" -js -a 127.0.0.1 -p -1 -sd "$work/jetstream" >>"$work/nats.log" 2>&1 &
nats_pid=$!
port=
tries=0
while [ -z "$port" ]; do
	if ! kill -0 "$nats_pid" 2>/dev/null || [ "$tries" -ge 100 ]; then
		echo "demo-chain: nats-server did not start:" >&2
		cat "$work/nats.log" >&2
		exit 1
	fi
	if grep -q "Server is ready" "$work/nats.log"; then
		port=$(sed -n 's/.*Listening for client connections on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
			"$work/nats.log" | head -n 1)
	fi
	[ -n "$port" ] || { sleep 0.1; tries=$((tries + 1)); }
done
NATS=nats://127.0.0.1:$port

# The two front desks: each hotel's own database, named in the chain.
macau()  { "$FD" -d "$work/macau" --property macau "$@"; }
lisbon() { "$FD" -d "$work/lisbon" --property lisbon "$@"; }

# at TIME TITLE: set the clock for the scenes that follow, and say so.
at() {
	PF_NOW=$1
	export PF_NOW
	clock=${1#*T}
	echo
	echo "==== ${1%%T*} ${clock%:*Z} UTC -- $2 ===="
}
say() { echo; echo "== $* =="; }

# The ids (first column) of Lisbon's open prompts for DEPT whose line
# matches the awk regex PATTERN, one a line.
prompt_ids() {
	lisbon prompts "$1" | awk -v pat="$2" 'NR > 1 && $0 ~ pat { print $1 }'
}

echo "The chain '$CHAIN' syncs through nats-server on $NATS"

at 2026-03-10T08:00:00Z "Macau: Zhuang Wei arrives for his first stay with the chain"
macau add "Zhuang Wei" --email zw@example.com --phone "+853 6123 4567" --lang zh \
	--tier gold --country MAC
macau stay zw@example.com 2026-03-10 2026-03-14 --room 1012 --property MFM1 --party 1

at 2026-03-11T10:30:00Z "Macau: the departments record what they notice"
say "Housekeeping: lilies in the room"
macau pref zw@example.com amenity.flower lily --by housekeeping --staff mei
say "Front desk: a room on the 10th floor"
macau pref zw@example.com room.floor 10 --by front_desk --staff lina
say "Restaurant: chili-oil sauce with every meal"
macau pref zw@example.com dining.condiment chili_oil --by restaurant --staff chen \
	--note "in a small dish"

say "Macau syncs: its changes go to the chain's stream"
macau sync --nats "$NATS" --chain "$CHAIN"

at 2026-11-20T08:00:00Z "Lisbon: the hotel loads its rule book and syncs with the chain"
lisbon rules load "$RULES"
lisbon sync --nats "$NATS" --chain "$CHAIN"
say "Lisbon's desk has never met him, but knows him"
lisbon show zw@example.com

at 2026-11-20T08:30:00Z "Lisbon: Zhuang Wei books three nights"
lisbon reserve zw@example.com RES-LIS-2201 --arrival 2026-11-23 --departure 2026-11-26 \
	--party 1 --property LIS1

at 2026-11-20T08:40:00Z "Lisbon: the front desk blocks a room on the 10th floor"
for id in $(prompt_ids front_desk "floor 10"); do lisbon done "$id" ana; done

at 2026-11-23T15:00:00Z "Lisbon: he checks in"
lisbon checkin zw@example.com CHK-LIS-2201 --room 1004 --arrival 2026-11-23 \
	--departure 2026-11-26 --party 1 --property LIS1

at 2026-11-23T15:10:00Z "Lisbon: each department's work list"
for dept in front_desk housekeeping restaurant; do
	say "$dept"
	lisbon prompts "$dept"
done

at 2026-11-23T15:20:00Z "Lisbon's stay goes back to Macau"
lisbon sync --nats "$NATS" --chain "$CHAIN"
macau sync --nats "$NATS" --chain "$CHAIN"
say "Macau's view of him: two stays with the chain"
macau show zw@example.com

say "Both hotels hold the same guests (the digest of the shared state)"
m=$(macau digest)
l=$(lisbon digest)
echo "macau   $m"
echo "lisbon  $l"
if [ "$m" = "$l" ]; then
	echo "same shared state"
else
	echo "demo-chain: the digests differ" >&2
	exit 1
fi
