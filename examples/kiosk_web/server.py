#!/usr/bin/python3
"""server.py -- the check-in kiosk as a web page (issue 14).

    python3 examples/kiosk_web/server.py -d DIR --arrivals FILE [--port 8080]

A guest types the booking's e-mail (or phone) and booking reference; the
page greets them with the rule book's guest-facing texts in their language,
shows the room, and a large "Check in" button checks them in; the
confirmation says which teams were told, in counts.  It runs as its own
process beside the front desk on the same database, like examples/kiosk.c.

Owns: HTTP (routes, headers, request limits), the sessions between the
lookup and the check-in, and slowing down repeated failed lookups from one
client.  It handles desk.py's screen models as opaque values and hands
them to pages.py: it never sees a prompt.

May call: desk.py, pages.py and the standard library (http.server).

Pages: GET / (the form; ?lang=en|zh|pt), POST /lookup, GET /welcome?s=,
POST /checkin, GET /done?s=; the same as JSON for another front end:
POST /api/lookup {"contact", "reference", "lang"} and POST /api/checkin
{"session"}.  Lookups and check-ins redirect (303) to a GET page, so Back
and reload never resubmit a form.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import desk   # noqa: E402
import pages  # noqa: E402

MAX_BODY = 4096      # a lookup form is a few dozen bytes

# Sent with every response: nothing may be loaded from anywhere (no
# script at all), nothing cached, no page framed, no referrer sent on.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class Throttle:
    """Slows down a client that keeps giving wrong booking details.

    The first `free` failures are answered at once (typos happen).  From
    the `free`-th failure on, the client's next lookup first waits
    delay * 2**(failures - free) seconds, at most `cap`.  A client's
    lookups run one at a time (a lock per client), so sending many at once
    does not beat the wait.  A success does not reset the count -- one
    valid booking must not buy unlimited guesses at others -- but failures
    are forgotten `window` seconds after the last one.  Clients are told
    apart by IP address: on a kiosk, that is the kiosk.
    """

    def __init__(self, free: int = 3, delay: float = 1.0, cap: float = 30.0,
                 window: float = 300.0) -> None:
        self.free, self.delay, self.cap, self.window = free, delay, cap, window
        self._lock = threading.Lock()
        self._clients: Dict[str, "Throttle._Client"] = {}

    class _Client:
        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.failures = 0
            self.last_failure = 0.0
            self.not_before = 0.0

    def _client(self, key: str) -> "Throttle._Client":
        now = time.monotonic()
        with self._lock:
            if len(self._clients) > 10000:       # forget idle clients
                for k in [k for k, c in self._clients.items()
                          if not c.lock.locked() and now - c.last_failure > self.window]:
                    del self._clients[k]
            return self._clients.setdefault(key, Throttle._Client())

    def run(self, key: str, attempt):
        """Run attempt() (True: success) after this client's wait."""
        c = self._client(key)
        with c.lock:
            now = time.monotonic()
            if c.failures and now - c.last_failure > self.window:
                c.failures, c.not_before = 0, 0.0
            if c.not_before > now:
                time.sleep(c.not_before - now)
            ok = attempt()
            if not ok:
                c.failures += 1
                c.last_failure = time.monotonic()
                if c.failures >= self.free:
                    # The exponent is bounded: 2**n of a huge n is no float.
                    wait = min(self.cap,
                               self.delay * 2.0 ** min(c.failures - self.free, 60))
                    c.not_before = c.last_failure + wait
            return ok


@dataclass
class Session:
    """Between a successful lookup and the check-in: which booking, the
    welcome as it was shown (a preview after the check-in would already
    say "welcome back"), and the confirmation once checked in."""

    booking: desk.Booking
    welcome: desk.Welcome
    lang: str
    expires: float
    confirmation: Optional[desk.Confirmation] = None


class Sessions:
    """Random, unguessable tokens for sessions, forgotten after `ttl`
    seconds.  A token is all the Check in button carries: the browser never
    says which guest it is for."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._by_token: Dict[str, Session] = {}

    def add(self, s: Session) -> str:
        token = secrets.token_urlsafe(18)
        now = time.monotonic()
        with self._lock:
            for k in [k for k, v in self._by_token.items() if v.expires < now]:
                del self._by_token[k]
            self._by_token[token] = s
        return token

    def get(self, token: Optional[str]) -> Optional[Session]:
        if not token:
            return None
        with self._lock:
            s = self._by_token.get(token)
            if s and s.expires < time.monotonic():
                del self._by_token[token]
                return None
            return s


class Kiosk:
    """What the handler needs, shared by its threads."""

    def __init__(self, the_desk: desk.Desk, throttle: Throttle, sessions: Sessions) -> None:
        self.desk = the_desk
        self.throttle = throttle
        self.sessions = sessions

    def lookup(self, client: str, contact: str, reference: str,
               chosen_lang: Optional[str]) -> Tuple[Optional[str], Optional[Session]]:
        found: Dict[str, desk.Booking] = {}

        def attempt() -> bool:
            try:
                found["b"] = self.desk.find_booking(contact, reference)
                return True
            except desk.NoBooking:
                return False

        if not self.throttle.run(client, attempt):
            return None, None
        b = found["b"]
        welcome = self.desk.welcome(b)
        s = Session(b, welcome, pages.pick_language(b.language, chosen_lang),
                    time.monotonic() + self.sessions.ttl)
        return self.sessions.add(s), s

    def check_in(self, s: Session) -> desk.Confirmation:
        # Every tap fires: the booking's own event id makes the library do
        # the work once (two taps in flight, two kiosks, a new lookup), and
        # the prompts it returns the second time give the same counts.
        s.confirmation = self.desk.check_in(s.booking)
        return s.confirmation


class Handler(BaseHTTPRequestHandler):
    server_version = "kiosk"
    sys_version = ""
    kiosk: Kiosk            # set on the class by make_server()

    # ------------------------------------------------------------ plumbing
    def log_message(self, fmt: str, *args) -> None:
        # The request line without its query string: no token or typed
        # detail ends up in a log.  (Lookups are POSTs, so e-mails never
        # are in a URL anyway.)
        if args and isinstance(args[0], str) and args[0].count(" ") == 2:
            method, target, proto = args[0].split(" ")
            args = (f"{method} {target.split('?')[0]} {proto}",) + args[1:]
        sys.stderr.write("kiosk-web: %s %s\n" % (self.address_string(), fmt % args))

    def _send(self, status: int, body: bytes, ctype: str,
              extra: Optional[Dict[str, str]] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _html(self, text: str, status: int = 200) -> None:
        self._send(status, text.encode("utf-8"), "text/html; charset=utf-8")

    def _json(self, obj: dict, status: int = 200) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"),
                   "application/json; charset=utf-8")

    def _redirect(self, where: str) -> None:
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": where})

    def _query(self) -> Dict[str, str]:
        q = urllib.parse.urlsplit(self.path).query
        return {k: v[0] for k, v in urllib.parse.parse_qs(q).items()}

    def _body(self) -> Optional[Dict[str, str]]:
        """The form or JSON body as a dict of strings; None if unreadable."""
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if n < 0 or n > MAX_BODY:
            return None
        raw = self.rfile.read(n)
        try:
            if (self.headers.get("Content-Type") or "").startswith("application/json"):
                obj = json.loads(raw.decode("utf-8"))
                if not isinstance(obj, dict):
                    return None
                return {k: v for k, v in obj.items() if isinstance(v, str)}
            return {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode("utf-8")).items()}
        except (UnicodeDecodeError, ValueError):
            return None

    def _route(self) -> str:
        return urllib.parse.urlsplit(self.path).path

    def _failed(self, err: BaseException, lang: str, api: bool) -> None:
        # The type and code only: a library message may quote what it was
        # given, and what a guest types is personal data.
        code = getattr(err, "code", None)
        sys.stderr.write(f"kiosk-web: {type(err).__name__}"
                         f"{'' if code is None else f' (code {code})'}\n")
        if api:
            self._json(pages.error_json(lang, "error"), HTTPStatus.SERVICE_UNAVAILABLE)
        else:
            self._html(pages.start_page(lang, "error"), HTTPStatus.SERVICE_UNAVAILABLE)

    # ------------------------------------------------------------ routes
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        route, q = self._route(), self._query()
        lang = q.get("lang") if q.get("lang") in pages.LANGS else "en"
        try:
            if route == "/":
                return self._html(pages.start_page(lang))
            if route in ("/welcome", "/done"):
                s = self.kiosk.sessions.get(q.get("s"))
                if s is None:
                    return self._html(pages.start_page(lang, "expired"))
                if route == "/done" and s.confirmation is not None:
                    return self._html(pages.done_page(s.lang, s.confirmation))
                return self._html(pages.welcome_page(s.lang, s.welcome, q["s"]))
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
        except Exception as e:             # noqa: BLE001 -- one polite page for all
            self._failed(e, lang, False)

    def do_POST(self) -> None:
        route = self._route()
        api = route.startswith("/api/")
        body = self._body()
        lang = "en"
        if body is not None and body.get("lang") in pages.LANGS:
            lang = body["lang"]
        if body is None:
            return self._send(HTTPStatus.BAD_REQUEST, b"bad request\n",
                              "text/plain; charset=utf-8")
        try:
            if route in ("/lookup", "/api/lookup"):
                token, s = self.kiosk.lookup(self.client_address[0], body.get("contact", ""),
                                             body.get("reference", ""), lang)
                if s is None:
                    if api:
                        return self._json(pages.error_json(lang, "no_booking"),
                                          HTTPStatus.NOT_FOUND)
                    return self._html(pages.start_page(lang, "no_booking"))
                if api:
                    return self._json(pages.welcome_json(s.lang, s.welcome, token))
                return self._redirect(f"/welcome?s={token}")
            if route in ("/checkin", "/api/checkin"):
                token = body.get("session" if api else "s")
                s = self.kiosk.sessions.get(token)
                if s is None:
                    if api:
                        return self._json(pages.error_json(lang, "expired"),
                                          HTTPStatus.NOT_FOUND)
                    return self._html(pages.start_page(lang, "expired"))
                conf = self.kiosk.check_in(s)
                if api:
                    return self._json(pages.done_json(s.lang, conf))
                return self._redirect(f"/done?s={token}")
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
        except Exception as e:             # noqa: BLE001 -- one polite page for all
            self._failed(e, lang, api)


def _clock_from_env(value: Optional[str]):
    """PF_NOW as the C programs read it: "2026-11-23T09:00:00Z" or epoch
    seconds; None without it."""
    if not value:
        return None
    try:
        t = int(value)
    except ValueError:
        t = int(dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
                .replace(tzinfo=dt.timezone.utc).timestamp())
    return lambda: t


def make_server(args: argparse.Namespace) -> ThreadingHTTPServer:
    arrivals = desk.read_arrivals(args.arrivals)
    # As the C kiosk opens it: a lost last commit is acceptable after a
    # power cut, and random look-ups of a large file want no readahead.
    db = desk.libprofile.open(args.db, clock=_clock_from_env(os.environ.get("PF_NOW")),
                              nometasync=True, nordahead=True,
                              timezone=os.environ.get("PF_TZ") or None)
    kiosk = Kiosk(desk.Desk(db, arrivals),
                  Throttle(args.fail_free, args.fail_delay, args.fail_delay_max,
                           args.fail_window),
                  Sessions(args.session_minutes * 60.0))
    handler = type("KioskHandler", (Handler,), {"kiosk": kiosk})
    srv = ThreadingHTTPServer((args.host, args.port), handler)
    srv.daemon_threads = True
    srv.db = db   # type: ignore[attr-defined]
    return srv


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="kiosk-web", description=__doc__.split("\n\n")[1])
    p.add_argument("-d", "--db", default=os.environ.get("PF_DB"),
                   help="database directory (default $PF_DB; one is required)")
    p.add_argument("--arrivals", required=True,
                   help="CSV of the day's arrivals: reference,room,arrival,departure[,party]")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (8080; 0 picks a free one)")
    p.add_argument("--fail-free", type=int, default=3,
                   help="failed lookups from one client before they are slowed down (3)")
    p.add_argument("--fail-delay", type=float, default=1.0,
                   help="first wait in seconds, doubled with each further failure (1)")
    p.add_argument("--fail-delay-max", type=float, default=30.0, help="longest wait (30)")
    p.add_argument("--fail-window", type=float, default=300.0,
                   help="seconds after which a client's failures are forgotten (300)")
    p.add_argument("--session-minutes", type=float, default=10.0,
                   help="how long a welcome screen stays valid (10)")
    args = p.parse_args(argv)
    if not args.db:
        p.error("no database given (use -d DIR or PF_DB)")
    try:
        srv = make_server(args)
    except (OSError, ValueError) as e:
        print(f"kiosk-web: {e}", file=sys.stderr)
        return 1
    except desk.libprofile.Error as e:
        print(f"kiosk-web: cannot open the database: {type(e).__name__}", file=sys.stderr)
        return 1
    # SIGTERM (a service manager, a test) closes the database as ^C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    host, port = srv.server_address[:2]
    # The first line on stdout, flushed: a test (or a launcher) reads the
    # port from it when --port 0 let the system choose.
    print(f"kiosk page at http://{host}:{port}/", flush=True)
    try:
        srv.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        srv.server_close()
        srv.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
