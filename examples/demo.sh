#!/bin/sh
# demo.sh — `make demo`: the seed scene, played with examples/frontdesk and
# examples/kiosk on a fresh database in ./demo-db.
#
# Two guests stay once; the departments record what they notice.  Months
# later both book again and arrive: the rule book (examples/hotel.rules)
# turns what was noticed into work for each department, and the staff work
# through it.  Then both complain: one complaint is put right before the
# end of the business day (the sunset rule), the other misses its deadline
# and is escalated when the guest books again; the front office calls both
# back, and the quality report gives the figures for those days.  (The
# hotel's business day is in UTC here; PF_TZ=Asia/Macau would put it in
# Macau time.)  PF_NOW fixes the clock for each scene, so every time printed
# is the same on every run (only the random ids differ).  Nothing is
# written outside ./demo-db.
# shellcheck disable=SC1010  # "done" below is a frontdesk command, not the keyword
set -e

BUILD=${BUILD:-build}
# frontdesk has no default database (it refuses to guess one), so the demo
# names its own; exported, it reaches frontdesk and kiosk alike.
PF_DB=./demo-db
export PF_DB
unset PF_TZ      # the hotel's business day in UTC, whatever the caller's setting
FD="$BUILD/frontdesk"
KIOSK="$BUILD/kiosk"
for prog in "$FD" "$KIOSK"; do
	[ -x "$prog" ] || { echo "demo: $prog is missing; run 'make' first" >&2; exit 1; }
done

# at TIME TITLE: set the clock for the scenes that follow, and say so.
at() {
	PF_NOW=$1
	export PF_NOW
	clock=${1#*T}
	echo
	echo "==== ${1%%T*} ${clock%:*Z} UTC -- $2 ===="
}
say() { echo; echo "== $* =="; }

# The ids (first column) of DEPT's open prompts whose line matches the
# awk regex PATTERN, one a line.
prompt_ids() {
	"$FD" prompts "$1" | awk -v pat="$2" 'NR > 1 && $0 ~ pat { print $1 }'
}

# The id (first column) of GUEST's first feedback whose line matches PATTERN.
feedback_id() {
	"$FD" feedback "$1" | awk -v pat="$2" 'NR > 1 && $0 ~ pat { print $1; exit }'
}

rm -rf "$PF_DB"

at 2026-03-09T08:00:00Z "Spring 2026: the hotel sets up"
say "Load the rule book"
"$FD" rules load examples/hotel.rules

say "Two guests are registered"
"$FD" add "Zhuang Wei" --email zw@example.com --phone "+853 6123 4567" --lang zh \
	--tier gold --tag advertising
"$FD" add "Maria Rossi" --email maria.rossi@example.it --phone "+39 347 555 0188" \
	--lang it --tier vip --birth 1961-11-24

at 2026-03-11T10:30:00Z "During their first stays, the departments record what they notice"
say "Front desk: Zhuang Wei asks for a high floor facing south"
"$FD" pref zw@example.com room.floor 10 --by front_desk --staff lina
"$FD" pref zw@example.com room.facing south --by front_desk --staff lina
say "Restaurant: Sichuan food, chili oil on the side"
"$FD" pref zw@example.com dining.cuisine sichuan --by restaurant --staff chen
"$FD" pref zw@example.com dining.condiment chili_oil --by restaurant --staff chen \
	--note "in a small dish"
say "Housekeeping: he reads the advertising papers"
"$FD" pref zw@example.com reading.newspaper "advertising papers" --by housekeeping --staff mei

say "Maria Rossi: front desk, housekeeping and concierge take notes (her hearing is a need)"
"$FD" pref maria.rossi@example.it room.facing west --by front_desk --staff lina \
	--note "likes the sunset"
"$FD" pref maria.rossi@example.it amenity.flower lily --by housekeeping --staff mei
"$FD" pref maria.rossi@example.it amenity.shower_gel sandalwood --by housekeeping --staff mei
"$FD" pref maria.rossi@example.it number.lucky 8 --by concierge --staff tomas
"$FD" pref maria.rossi@example.it access.hearing "hard of hearing" --need --by front_desk \
	--staff lina --note "face her when speaking"

say "Their first stays"
"$FD" stay zw@example.com 2026-03-10 2026-03-14 --room 1012 --property MFM1 --party 1
"$FD" stay maria.rossi@example.it 2026-03-09 2026-03-12 --room 718 --property MFM1 --party 2

say "Zhuang Wei's profile"
"$FD" show zw@example.com


at 2026-11-20T08:00:00Z "Both guests book again, arriving on 23 November"
say "Reservations: each one sends its prompts to the departments concerned"
"$FD" reserve zw@example.com RES-88101 --arrival 2026-11-23 --departure 2026-11-26 \
	--party 1 --property MFM1
"$FD" reserve maria.rossi@example.it RES-88102 --arrival 2026-11-23 --departure 2026-11-25 \
	--party 2 --property MFM1

at 2026-11-20T08:40:00Z "The departments prepare for the arrivals"
say "Front desk: Lina blocks the rooms and notes Maria Rossi's hearing"
for id in $(prompt_ids front_desk .); do "$FD" done "$id" lina; done
say "Housekeeping and the restaurant brief their teams on her hearing"
for id in $(prompt_ids housekeeping "hard of hearing"); do "$FD" done "$id" mei; done
for id in $(prompt_ids restaurant "hard of hearing"); do "$FD" done "$id" chen; done
say "Concierge: Tomas orders a birthday cake (acknowledged until it is delivered)"
for id in $(prompt_ids concierge birthday); do "$FD" ack "$id" tomas; done

at 2026-11-23T09:00:00Z "Arrival day: Zhuang Wei at the front desk"
say "As he walks in, Lina previews his check-in (nothing is stored)"
"$FD" preview zw@example.com check_in --room 1012 --arrival 2026-11-23 --departure 2026-11-26 \
	--party 1
say "Check-in"
"$FD" checkin zw@example.com CHK-88101 --room 1012 --arrival 2026-11-23 \
	--departure 2026-11-26 --party 1 --property MFM1

at 2026-11-23T09:20:00Z "Maria Rossi checks in at the lobby kiosk (what the guest sees)"
"$KIOSK" maria.rossi@example.it CHK-88102 --room 818 --arrival 2026-11-23 \
	--departure 2026-11-25 --party 2

at 2026-11-23T09:30:00Z "Each department's work list"
for dept in front_desk housekeeping restaurant concierge management; do
	say "$dept"
	"$FD" prompts "$dept"
done

at 2026-11-23T10:15:00Z "The staff work through their lists"
say "Front desk: Lina assigns the rooms and welcomes both guests"
for id in $(prompt_ids front_desk .); do "$FD" done "$id" lina; done
say "Management: the duty manager greets Maria Rossi in person"
for id in $(prompt_ids management VIP); do "$FD" ack "$id" duty_manager; "$FD" done "$id" duty_manager; done
say "Housekeeping: Mei acknowledges her list, then works through it"
for id in $(prompt_ids housekeeping " pending "); do "$FD" ack "$id" mei; done
for id in $(prompt_ids housekeeping "lily|hard of hearing"); do "$FD" done "$id" mei; done
for id in $(prompt_ids housekeeping sandalwood); do
	"$FD" dismiss "$id" mei "sandalwood out of stock; left lavender and told the guest"
done
say "Restaurant: Chen suggests Sichuan dishes, and sets out chili oil at lunch"
for id in $(prompt_ids restaurant "Sichuan|chili"); do "$FD" ack "$id" chen; done
for id in $(prompt_ids restaurant Sichuan); do "$FD" done "$id" chen; done
say "Concierge: the cake is delivered to room 818"
for id in $(prompt_ids concierge birthday); do "$FD" done "$id" tomas; done

say "Still open after the morning"
for dept in front_desk housekeeping restaurant concierge management; do
	echo "-- $dept"
	"$FD" prompts "$dept"
done

at 2026-11-23T15:00:00Z "Afternoon: the duty manager looks for service omissions"
say "Open prompts past their due time"
"$FD" overdue

at 2026-11-23T16:30:00Z "Zhuang Wei complains: the lift kept him awake"
say "Lina records the complaint; the hotel learns he dislikes rooms near the lift"
"$FD" complaint zw@example.com housekeeping noise \
	"Room 1012 is noisy: the lift next to it ran all night" --by lina --severity 2 \
	--stay 2026-11-23 --dislike "room.location=near lift"
say "It is on housekeeping's and the duty manager's lists, due by the end of the day"
"$FD" prompts housekeeping
"$FD" prompts management

at 2026-11-23T18:10:00Z "Housekeeping moves him before the day is out (the sunset rule)"
ZW_COMPLAINT=$(feedback_id zw@example.com noise)
"$FD" resolve "$ZW_COMPLAINT" mei "Moved to quiet room 1415, away from the lift"
say "The front office must call him back"
"$FD" prompts front_office

at 2026-11-23T22:40:00Z "Maria Rossi complains after the 22:00 cut-off: due by noon tomorrow"
"$FD" complaint maria.rossi@example.it restaurant food \
	"Room service took 90 minutes and arrived cold" --by sam --stay 2026-11-23
MR_COMPLAINT=$(feedback_id maria.rossi@example.it food)

at 2026-11-24T09:00:00Z "Next morning: the call-back, and the restaurant looks into the other one"
"$FD" followup "$ZW_COMPLAINT" ana satisfied
"$FD" update "$MR_COMPLAINT" in_progress chen "checking the kitchen's order log"

at 2026-11-24T11:00:00Z "Maria Rossi books Christmas while her complaint is still open"
say "The rule book sends the open complaint to the duty manager first"
"$FD" reserve maria.rossi@example.it RES-88301 --arrival 2026-12-23 --departure 2026-12-27 \
	--party 2 --property MFM1

at 2026-11-24T13:00:00Z "The restaurant resolves it, an hour after its noon deadline"
"$FD" resolve "$MR_COMPLAINT" chen "Room-service charge refunded; the chef called to apologise"

at 2026-11-25T10:00:00Z "The front office calls Maria Rossi back: she is not satisfied"
"$FD" followup "$MR_COMPLAINT" ana not_satisfied
say "All feedback"
"$FD" feedback

say "Service quality for the demo's days"
"$FD" report --from 2026-11-20 --to 2026-11-25

say "Zhuang Wei's profile now: two stays, one complaint dealt with, a new dislike"
"$FD" show zw@example.com
