"""pages.py -- the kiosk's HTML pages and JSON bodies, and the page's own
words in English, Chinese and Portuguese.

Owns: how the screen models of desk.py (Welcome, Confirmation) look, and
every word the kiosk itself says.  It renders only what those models hold
-- guest-facing texts, the room, counts per department -- so a staff note
cannot reach a page or a JSON body from here.  Everything is escaped; the
pages are self-contained (inline CSS, no script, no font or image from
anywhere), so they work offline on a locked-down kiosk.

May call: the standard library and desk.py's model classes (no libprofile).
"""

from __future__ import annotations

import html
from typing import Dict, Optional

LANGS = ("en", "zh", "pt")
# What the language switch shows, each in its own language.
LANG_NAMES = {"en": "English", "zh": "中文", "pt": "Português"}
# The `lang` attribute of pages in each language: the zh words are in
# traditional characters, as the hotel book's zh texts (Macau, Hong Kong).
HTML_LANG = {"en": "en", "zh": "zh-Hant", "pt": "pt"}

WORDS: Dict[str, Dict[str, str]] = {
    "en": {
        "title": "Self check-in",
        "intro": "Welcome. Please enter the e-mail address or phone number of your "
                 "booking and your booking reference.",
        "contact": "E-mail or phone number",
        "reference": "Booking reference",
        "continue": "Continue",
        "no_booking": "Sorry, we could not find a booking with these details. Please "
                      "check them, or see the front desk; we will be glad to help.",
        "expired": "This screen has timed out. Please start again.",
        "error": "Sorry, the kiosk cannot help right now. Please see the front desk.",
        "room": "Your room",
        "check_in": "Check in",
        "not_you": "Not you? Start again",
        "checked_in": "You are checked in to room {room}.",
        "told": "We have let our team know you are here:",
        "enjoy": "Enjoy your stay.",
        "notes": "{n} notes",
        "note": "1 note",
        "finish": "Finish",
        "language": "Language",
    },
    "zh": {
        "title": "自助入住",
        "intro": "歡迎光臨。請輸入預訂時使用的電郵地址或電話號碼，以及預訂編號。",
        "contact": "電郵地址或電話號碼",
        "reference": "預訂編號",
        "continue": "繼續",
        "no_booking": "抱歉，我們找不到與這些資料相符的預訂。請核對資料，或前往前台，"
                      "我們樂意為您服務。",
        "expired": "畫面已逾時，請重新開始。",
        "error": "抱歉，自助機暫時無法提供服務，請前往前台。",
        "room": "您的房間",
        "check_in": "辦理入住",
        "not_you": "不是您？重新開始",
        "checked_in": "您已入住 {room} 號房間。",
        "told": "我們已通知以下團隊您已抵達：",
        "enjoy": "祝您入住愉快。",
        "notes": "{n} 項",
        "note": "1 項",
        "finish": "完成",
        "language": "語言",
    },
    "pt": {
        "title": "Check-in automático",
        "intro": "Bem-vindo. Indique o e-mail ou o telefone da sua reserva e o código "
                 "da reserva.",
        "contact": "E-mail ou telefone",
        "reference": "Código da reserva",
        "continue": "Continuar",
        "no_booking": "Lamentamos, não encontrámos uma reserva com estes dados. "
                      "Verifique-os ou dirija-se à receção; teremos todo o gosto em ajudar.",
        "expired": "Este ecrã expirou. Por favor, comece de novo.",
        "error": "Lamentamos, o quiosque não pode ajudar de momento. Dirija-se à receção.",
        "room": "O seu quarto",
        "check_in": "Fazer check-in",
        "not_you": "Não é você? Recomeçar",
        "checked_in": "O seu check-in está feito: quarto {room}.",
        "told": "Avisámos a nossa equipa de que chegou:",
        "enjoy": "Desejamos-lhe uma boa estadia.",
        "notes": "{n} notas",
        "note": "1 nota",
        "finish": "Terminar",
        "language": "Idioma",
    },
}

# Team names as a guest reads them; another department is shown as its
# name with blanks ("guest_relations" -> "Guest relations").
DEPARTMENTS: Dict[str, Dict[str, str]] = {
    "en": {"front_desk": "Front desk", "front_office": "Front office",
           "housekeeping": "Housekeeping", "restaurant": "Restaurant",
           "concierge": "Concierge", "management": "Management"},
    "zh": {"front_desk": "前台", "front_office": "前廳部", "housekeeping": "客房部",
           "restaurant": "餐廳", "concierge": "禮賓部", "management": "管理團隊"},
    "pt": {"front_desk": "Receção", "front_office": "Atendimento",
           "housekeeping": "Limpeza de quartos", "restaurant": "Restaurante",
           "concierge": "Concierge", "management": "Direção"},
}


def pick_language(guest_language: Optional[str], chosen: Optional[str]) -> str:
    """The page's language: the guest's (primary subtag: zh-TW -> zh) when
    the kiosk speaks it, else the one chosen on the switch, else English."""
    if guest_language:
        primary = guest_language.replace("_", "-").split("-")[0].lower()
        if primary in LANGS:
            return primary
    return chosen if chosen in LANGS else "en"


def department_label(dept: str, lang: str) -> str:
    label = DEPARTMENTS[lang].get(dept)
    if label:
        return label
    text = dept.replace("_", " ")
    return text[:1].upper() + text[1:]


_CSS = """
*{box-sizing:border-box}
html{font-size:125%}
body{margin:0;background:#fff;color:#111;font-family:system-ui,sans-serif;line-height:1.45}
main{max-width:44rem;margin:0 auto;padding:1.5rem}
h1{font-size:2rem;margin:.5rem 0 1rem}
p{margin:.75rem 0}
label{display:block;font-weight:700;margin:1.25rem 0 .35rem}
input{width:100%;min-height:3.5rem;font-size:1.4rem;padding:.5rem .75rem;
  border:3px solid #111;border-radius:.4rem;background:#fff;color:#111}
button,.button{display:block;width:100%;min-height:4.5rem;margin:1.5rem 0 .5rem;
  font-size:1.6rem;font-weight:700;border:0;border-radius:.6rem;background:#003a70;
  color:#fff;text-align:center;text-decoration:none;padding:1rem;cursor:pointer}
button.checkin{min-height:7rem;font-size:2.4rem}
a{color:#003a70}
a:focus,button:focus,input:focus,.button:focus{outline:5px solid #111;outline-offset:4px;
  box-shadow:0 0 0 4px #fff}
.langs{display:flex;gap:.75rem;flex-wrap:wrap;margin:0 0 1rem}
.langs a{display:inline-block;min-height:3rem;min-width:7rem;padding:.6rem 1rem;
  border:3px solid #003a70;border-radius:.5rem;text-align:center;font-weight:700}
.langs a[aria-current]{background:#003a70;color:#fff}
.message{border:4px solid #8a1c00;background:#fff4f0;color:#5c1200;padding:1rem;
  border-radius:.5rem;font-weight:700}
.greeting{font-size:1.7rem;font-weight:700}
.room{font-size:1.4rem}
.room strong{font-size:2.6rem;display:block}
ul.teams{font-size:1.3rem;padding-left:1.5rem}
.again{display:block;text-align:center;font-size:1.2rem;padding:1rem;min-height:3rem}
"""


def _page(lang: str, body: str, refresh_home: int = 0) -> str:
    w = WORDS[lang]
    refresh = (f'<meta http-equiv="refresh" content="{refresh_home};url=/?lang={lang}">'
               if refresh_home else "")
    return (f'<!DOCTYPE html>\n<html lang="{HTML_LANG[lang]}">\n<head>\n'
            f'<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'{refresh}<title>{html.escape(w["title"])}</title>\n'
            f'<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n'
            f'</body>\n</html>\n')


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def start_page(lang: str, message: Optional[str] = None) -> str:
    """The first screen: the language switch and the two fields.
    `message` is a key of WORDS ("no_booking", "expired", "error")."""
    w = WORDS[lang]
    current = ' aria-current="true"'
    switch = "".join(
        f'<a href="/?lang={code}" lang="{HTML_LANG[code]}"'
        f'{current if code == lang else ""}>{_e(LANG_NAMES[code])}</a>'
        for code in LANGS)
    msg = (f'<p class="message" role="alert" id="message">{_e(w[message])}</p>'
           if message else "")
    return _page(lang, f"""<nav class="langs" aria-label="{_e(w['language'])}">{switch}</nav>
<h1>{_e(w['title'])}</h1>
{msg}
<p>{_e(w['intro'])}</p>
<form method="post" action="/lookup" autocomplete="off">
<input type="hidden" name="lang" value="{lang}">
<label for="contact">{_e(w['contact'])}</label>
<input id="contact" name="contact" type="text" inputmode="email" required autofocus
 autocapitalize="none" spellcheck="false" maxlength="200">
<label for="reference">{_e(w['reference'])}</label>
<input id="reference" name="reference" type="text" required autocapitalize="characters"
 spellcheck="false" maxlength="100">
<button type="submit" id="continue">{_e(w['continue'])}</button>
</form>""")


def welcome_page(lang: str, welcome, session: str) -> str:
    """The welcome screen: the rule book's guest-facing texts, the room,
    and the big Check in button (a form: no script needed)."""
    w = WORDS[lang]
    tl = f' lang="{_e(welcome.text_language)}"' if welcome.text_language else ""
    greeting = "".join(f'<p class="greeting"{tl}>{_e(t)}</p>' for t in welcome.texts)
    return _page(lang, f"""<h1>{_e(w['title'])}</h1>
<section id="welcome" aria-live="polite">{greeting}</section>
<p class="room" id="room">{_e(w['room'])} <strong>{_e(welcome.room)}</strong></p>
<form method="post" action="/checkin">
<input type="hidden" name="s" value="{_e(session)}">
<button type="submit" class="checkin" id="checkin">{_e(w['check_in'])}</button>
</form>
<a class="again" href="/?lang={lang}" id="again">{_e(w['not_you'])}</a>""")


def done_page(lang: str, conf) -> str:
    """After the check-in: the room and how many notes each team got.
    Returns to the first screen by itself after a minute, so the next
    guest does not find this one's confirmation."""
    w = WORDS[lang]
    if conf.teams:
        items = "".join(
            f'<li data-department="{_e(d)}" data-count="{n}">{_e(department_label(d, lang))}: '
            f'{_e(w["note"] if n == 1 else w["notes"].format(n=n))}</li>'
            for d, n in conf.teams)
        told = f'<p>{_e(w["told"])}</p>\n<ul class="teams" id="teams">{items}</ul>'
    else:
        told = f'<p>{_e(w["enjoy"])}</p>'
    return _page(lang, f"""<h1>{_e(w['title'])}</h1>
<p class="greeting" id="confirmation" role="status">{_e(w['checked_in'].format(room=conf.room))}</p>
{told}
<a class="button" href="/?lang={lang}" id="finish">{_e(w['finish'])}</a>""", refresh_home=60)


def welcome_json(lang: str, welcome, session: str) -> dict:
    return {"session": session, "language": lang, "greeting": list(welcome.texts),
            "greeting_language": welcome.text_language, "room": welcome.room,
            "words": {k: WORDS[lang][k] for k in ("room", "check_in", "not_you")}}


def done_json(lang: str, conf) -> dict:
    return {"language": lang, "room": conf.room, "notes": conf.notes,
            "message": WORDS[lang]["checked_in"].format(room=conf.room),
            "teams": [{"department": d, "label": department_label(d, lang), "count": n}
                      for d, n in conf.teams]}


def error_json(lang: str, key: str) -> dict:
    return {"error": key, "message": WORDS[lang][key]}
