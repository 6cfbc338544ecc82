"""Texts the public sees, in the four languages a resident may choose: Swedish, English, Arabic (written
right to left) and Somali. The public pages, the API's messages to senders and the e-mails all read them
here, so a resident gets one language throughout. The vocabulary keys stay those of ``schema``; Swedish and
English labels come from ``schema``, Arabic and Somali ones from the tables below."""

from __future__ import annotations

import re

from trygghetskarta import schema

PUBLIC_LANGUAGES: tuple[str, ...] = ("sv", "en", "ar", "so")
LANGUAGE_NAMES: dict[str, str] = {"sv": "Svenska", "en": "English", "ar": "العربية", "so": "Soomaali"}
RTL_LANGUAGES = frozenset({"ar"})

# (sv, en, ar, so)
TEXTS: dict[str, tuple[str, str, str, str]] = {
    "report_title": ("Anmäl en plats", "Report a place", "الإبلاغ عن مكان", "Ka warbixi meel"),
    "report_intro": (
        "Berätta om en plats som känns otrygg, eller en trygg plats att värna. Du behöver inget konto. "
        "Anmälan syns för allmänheten först när kommunen har granskat den.",
        "Tell us about a place that feels unsafe, or a safe place worth keeping. You need no account. "
        "The report is shown to the public only after the municipality has reviewed it.",
        "أخبرنا عن مكان تشعر فيه بعدم الأمان، أو عن مكان آمن يستحق الحفاظ عليه. لا تحتاج إلى حساب. "
        "لا يظهر البلاغ للعامة إلا بعد أن تراجعه البلدية.",
        "Noo sheeg meel aadan ku dareemin ammaan, ama meel ammaan ah oo mudan in la ilaaliyo. Uma baahnid "
        "akoon. Warbixintu dadweynaha uma muuqato ilaa degmadu ay dib u eegto."),
    "language": ("Språk", "Language", "اللغة", "Luqadda"),
    "category": ("Vad gäller det?", "What is it about?", "ما الموضوع؟", "Waa maxay arrintu?"),
    "place": ("Plats", "Place", "المكان", "Goobta"),
    "place_from_link": ("Platsen kommer från länken eller QR-koden ({pos}).",
                        "The place comes from the link or QR code ({pos}).",
                        "المكان مأخوذ من الرابط أو رمز QR ({pos}).",
                        "Goobta waxay ka timid xiriirka ama koodhka QR ({pos})."),
    "place_chosen": ("Vald plats: {pos}", "Chosen place: {pos}",
                     "المكان المختار: {pos}", "Goobta la doortay: {pos}"),
    "tap_map": ("Tryck på kartan där platsen är, eller använd telefonens position.",
                "Tap the map where the place is, or use your phone's position.",
                "اضغط على الخريطة حيث يوجد المكان، أو استخدم موقع هاتفك.",
                "Ku dhufo khariidadda meesha ay goobtu ku taal, ama isticmaal goobta taleefankaaga."),
    "use_gps": ("Använd min position", "Use my position", "استخدم موقعي", "Isticmaal goobtayda"),
    "gps_waiting": ("Hämtar position …", "Getting position …", "جارٍ تحديد الموقع …", "Goobta waa la raadinayaa …"),
    "gps_failed": ("Positionen kunde inte hämtas", "Could not get the position", "تعذّر تحديد الموقع",
                   "Goobta lama heli karin"),
    "gps_unavailable": ("Webbläsaren kan inte ge position", "The browser cannot give a position",
                        "المتصفح لا يستطيع تحديد الموقع", "Biraawsarku ma bixin karo goob"),
    "address": ("Adress eller platsbeskrivning (valfritt)", "Address or description of the place (optional)",
                "العنوان أو وصف المكان (اختياري)", "Cinwaanka ama sharaxaadda goobta (ikhtiyaari)"),
    "text": ("Beskriv vad du ser", "Describe what you see", "صف ما تراه", "Sharax waxaad aragto"),
    "text_help": ("Skriv inga namn, personnummer eller telefonnummer.",
                  "Do not write names, personal identity numbers or phone numbers.",
                  "لا تكتب أسماء أو أرقامًا شخصية أو أرقام هواتف.",
                  "Ha qorin magacyo, lambarro aqoonsi shakhsi ah ama lambarro taleefan."),
    "photo": ("Foto (valfritt)", "Photo (optional)", "صورة (اختياري)", "Sawir (ikhtiyaari)"),
    "email": ("E-post för besked om vad som händer (valfritt)", "E-mail to be told what happens (optional)",
              "البريد الإلكتروني لإبلاغك بما يحدث (اختياري)", "Iimayl si laguugu sheego waxa dhaca (ikhtiyaari)"),
    "honeypot": ("Lämna detta fält tomt", "Leave this field empty", "اترك هذا الحقل فارغًا",
                 "Goobtan banaan ka dhig"),
    "send": ("Skicka anmälan", "Send report", "إرسال البلاغ", "Dir warbixinta"),
    "no_place": ("Välj en plats på kartan eller använd din position.", "Choose a place on the map or use your "
                 "position.", "اختر مكانًا على الخريطة أو استخدم موقعك.",
                 "Dooro goob khariidadda ama isticmaal goobtaada."),
    "sent": ("Tack! Din anmälan är mottagen. Kvittokod: {code}",
             "Thank you! Your report has been received. Receipt code: {code}",
             "شكرًا! تم استلام بلاغك. رمز الإيصال: {code}",
             "Mahadsanid! Warbixintaada waa la helay. Koodhka rasiidka: {code}"),
    "sent_link": ("Spara länken för att se vad som händer med anmälan:",
                  "Keep the link to see what happens to the report:",
                  "احتفظ بالرابط لمعرفة ما يحدث للبلاغ:",
                  "Kaydi xiriirka si aad u aragto waxa ku dhaca warbixinta:"),
    "sent_email": ("Du får e-post när status ändras.", "You will get an e-mail when the status changes.",
                   "ستصلك رسالة بريد إلكتروني عندما تتغير الحالة.",
                   "Waxaad heli doontaa iimayl marka xaaladdu is beddesho."),
    "new_report": ("Gör en ny anmälan", "Make another report", "تقديم بلاغ جديد", "Samee warbixin cusub"),
    "rate_limited": ("Vi har tagit emot många anmälningar från din anslutning den senaste timmen, så den här "
                     "sparades inte. Försök igen om en stund.",
                     "We have received many reports from your connection in the last hour, so this one was not "
                     "saved. Please try again later.",
                     "لقد استلمنا بلاغات كثيرة من اتصالك خلال الساعة الأخيرة، لذلك لم يُحفظ هذا البلاغ. "
                     "حاول مرة أخرى لاحقًا.",
                     "Waxaan saacaddii la soo dhaafay ka helnay warbixino badan xiriirkaaga, sidaa darteed tan "
                     "lama kaydin. Fadlan isku day mar dambe."),
    "refused": ("Anmälan kunde inte tas emot.", "The report could not be received.", "تعذّر استلام البلاغ.",
                "Warbixinta lama aqbali karin."),
    "too_long": ("Texten är för lång (högst {n} tecken).", "The text is too long (at most {n} characters).",
                 "النص طويل جدًا (بحد أقصى {n} حرفًا).", "Qoraalku aad buu u dheer yahay (ugu badnaan {n} xaraf)."),
    "bad_email": ("E-postadressen ser inte ut att stämma.", "The e-mail address does not look right.",
                  "يبدو أن عنوان البريد الإلكتروني غير صحيح.", "Cinwaanka iimaylku uma muuqdo mid sax ah."),
    "bad_photo": ("Fotot kunde inte tas emot: {reason}", "The photo could not be received: {reason}",
                  "تعذّر استلام الصورة: {reason}", "Sawirka lama aqbali karin: {reason}"),
    "bad_place": ("Platsen ligger utanför kommunen.", "The place is outside the municipality.",
                  "المكان خارج البلدية.", "Goobtu waxay ka baxsan tahay degmada."),
    "bad_category": ("Välj vad anmälan gäller.", "Choose what the report is about.", "اختر موضوع البلاغ.",
                     "Dooro waxa ay warbixintu ku saabsan tahay."),
    # status page
    "status_title": ("Följ din anmälan", "Follow your report", "تابع بلاغك", "La soco warbixintaada"),
    "status_code": ("Kvittokod", "Receipt code", "رمز الإيصال", "Koodhka rasiidka"),
    "status_find": ("Visa status", "Show status", "عرض الحالة", "Muuji xaaladda"),
    "status_unknown": ("Ingen anmälan med den koden.", "No report with that code.", "لا يوجد بلاغ بهذا الرمز.",
                       "Ma jiro warbixin leh koodhkaas."),
    "status_now": ("Status: {status}", "Status: {status}", "الحالة: {status}", "Xaaladda: {status}"),
    "status_pending": ("Väntar på granskning", "Waiting for review", "في انتظار المراجعة", "Sugaya dib u eegis"),
    "status_rejected": ("Anmälan publiceras inte: {reason}", "The report is not published: {reason}",
                        "لن يُنشر البلاغ: {reason}", "Warbixinta lama daabacayo: {reason}"),
    "status_history": ("Vad som har hänt", "What has happened", "ما الذي حدث", "Waxa dhacay"),
    "status_reason": ("Skäl: {reason}", "Reason: {reason}", "السبب: {reason}", "Sababta: {reason}"),
    "status_sent_at": ("Skickad {at}", "Sent {at}", "أُرسل في {at}", "La diray {at}"),
    "unsubscribed": ("Du får inga fler e-postmeddelanden om anmälan.", "You will get no more e-mail about the "
                     "report.", "لن تصلك رسائل بريد إلكتروني أخرى بشأن البلاغ.",
                     "Iimayl kale kama heli doontid warbixinta."),
    "unsubscribe_unknown": ("Länken för att avsluta e-post är okänd eller redan använd.",
                            "The unsubscribe link is unknown or already used.",
                            "رابط إلغاء الاشتراك غير معروف أو مستخدم بالفعل.",
                            "Xiriirka joojinta iimaylka lama yaqaan ama hore ayaa loo isticmaalay."),
    # public map
    "map_title": ("Vad har gjorts", "What has been done", "ما الذي تم إنجازه", "Maxaa la qabtay"),
    "map_intro": ("Granskade anmälningar och fynd från trygghetsvandringar med status. Positionerna är "
                  "avrundade till ungefär {m:.0f} meter.",
                  "Reviewed reports and findings from safety walks with their status. Positions are rounded "
                  "to about {m:.0f} metres.",
                  "البلاغات التي تمت مراجعتها وملاحظات جولات السلامة مع حالتها. المواقع مقرّبة إلى نحو {m:.0f} متر.",
                  "Warbixinnada la eegay iyo natiijooyinka socodka badbaadada iyo xaaladdooda. Goobaha waxaa "
                  "lagu soo koobay qiyaastii {m:.0f} mitir."),
    "map_count": ("Antal platser: {n}", "Number of places: {n}", "عدد الأماكن: {n}", "Tirada goobaha: {n}"),
    "map_none": ("Inga publicerade platser ännu.", "No published places yet.", "لا توجد أماكن منشورة بعد.",
                 "Weli ma jiraan goobo la daabacay."),
    "col_category": ("Vad", "What", "ماذا", "Maxay"),
    "col_status": ("Status", "Status", "الحالة", "Xaaladda"),
    "col_reported": ("Anmäld", "Reported", "تاريخ البلاغ", "La soo sheegay"),
    "col_area": ("Område", "Area", "المنطقة", "Aagga"),
    "map_list": ("Kartans platser som lista ({n})", "The map's places as a list ({n})",
                 "أماكن الخريطة كقائمة ({n})", "Goobaha khariidadda oo liis ah ({n})"),
    "map_legend_status": ("Status", "Status", "الحالة", "Xaaladda"),
    "status_open": ("Pågår", "In progress", "قيد المعالجة", "Socda"),
    "status_fixed": ("Åtgärdad", "Fixed", "تم الإصلاح", "La hagaajiyay"),
    "status_not_fixed": ("Åtgärdas inte", "Will not be fixed", "لن يتم الإصلاح", "Lama hagaajin doono"),
    # help
    "help_title": ("Hjälp och stöd", "Help and support", "المساعدة والدعم", "Caawimo iyo taageero"),
    "quick_exit": ("Lämna sidan snabbt", "Leave this page quickly", "غادر الصفحة بسرعة", "Si degdeg ah uga bax"),
    "quick_exit_help": ("Knappen byter genast till en tom sida; Tillbaka leder inte hit igen.",
                        "The button switches at once to a blank page; Back does not lead here again.",
                        "ينقلك الزر فورًا إلى صفحة فارغة؛ ولن يعيدك زر الرجوع إلى هنا.",
                        "Badhanku isla markiiba wuxuu u beddelaa bog banaan; Dib-u-noqoshadu halkan kuma soo "
                        "celinayso."),
    "help_call_now": ("Ring nu", "Call now", "اتصل الآن", "Hadda wac"),
    "help_support": ("Stöd i kommunen", "Support in the municipality", "الدعم في البلدية", "Taageerada degmada"),
    "help_hide": ("Så döljer du besöket", "How to hide the visit", "كيف تخفي زيارتك", "Sida loo qariyo booqashada"),
    "help_hide_text": (
        "Sidan sparar inga kakor för spårning och hämtar inget från andra webbplatser. Webbläsaren sparar ändå "
        "historiken: använd ett privat fönster (inkognito), eller radera historiken för den här sidan efteråt. "
        "Tänk på att någon kan se telefonen eller datorn.",
        "This page sets no tracking cookies and loads nothing from other sites. The browser still keeps its "
        "history: use a private (incognito) window, or delete this page from the history afterwards. Remember "
        "that someone may see your phone or computer.",
        "لا تضع هذه الصفحة ملفات تعريف ارتباط للتتبع ولا تحمّل شيئًا من مواقع أخرى. لكن المتصفح يحتفظ بالسجل: "
        "استخدم نافذة خاصة (التصفح المتخفي)، أو احذف هذه الصفحة من السجل بعد ذلك. تذكّر أن شخصًا ما قد يرى "
        "هاتفك أو حاسوبك.",
        "Boggani ma dhigo buskudyo raad-raac ah mana ka soo dejiyo wax bogag kale ah. Biraawsarku wuu kaydiyaa "
        "taariikhda: isticmaal daaqad gaar ah (incognito), ama ka tirtir boggan taariikhda kadib. Xusuuso in "
        "qof uu arki karo taleefankaaga ama kombiyuutarkaaga."),
    "help_phone": ("Telefon: {phone}", "Phone: {phone}", "الهاتف: {phone}", "Taleefan: {phone}"),
    "help_address": ("Adress: {address}", "Address: {address}", "العنوان: {address}", "Cinwaan: {address}"),
    "help_hours": ("Öppet: {hours}", "Open: {hours}", "ساعات العمل: {hours}", "Furan: {hours}"),
    "help_web": ("Webb: {web}", "Web: {web}", "الموقع: {web}", "Bogga: {web}"),
    "help_ask_kommun": ("Adress och öppettider: fråga kommunens kontaktcenter.",
                        "Address and opening hours: ask the municipality's contact centre.",
                        "العنوان وساعات العمل: اسأل مركز الاتصال في البلدية.",
                        "Cinwaanka iyo saacadaha furitaanka: weydii xarunta xiriirka degmada."),
    "nav_report": ("Anmäl en plats", "Report a place", "الإبلاغ عن مكان", "Ka warbixi meel"),
    "nav_status": ("Följ din anmälan", "Follow your report", "تابع بلاغك", "La soco warbixintaada"),
    "nav_map": ("Vad har gjorts", "What has been done", "ما الذي تم إنجازه", "Maxaa la qabtay"),
    "nav_help": ("Hjälp och stöd", "Help and support", "المساعدة والدعم", "Caawimo iyo taageero"),
    "nav_login": ("Logga in (personal)", "Log in (staff)", "تسجيل الدخول (للموظفين)", "Gal (shaqaalaha)"),
    # e-mail
    "mail_greeting": ("Hej!", "Hello,", "مرحبًا،", "Salaan,"),
    "mail_status_subject": ("Din anmälan {code}: {status}", "Your report {code}: {status}", "بلاغك {code}: {status}",
                            "Warbixintaada {code}: {status}"),
    "mail_status_approved": ("Din anmälan är granskad och syns nu på kartan över vad som görs.",
                             "Your report has been reviewed and is now on the map of what is being done.",
                             "تمت مراجعة بلاغك وهو الآن على خريطة ما يتم إنجازه.",
                             "Warbixintaada waa la eegay, hadda waxay ku jirtaa khariidadda waxa la qabanayo."),
    "mail_status_assigned": ("Din anmälan har lämnats till {party}, som ansvarar för platsen.",
                             "Your report has been passed to {party}, who is responsible for the place.",
                             "تمت إحالة بلاغك إلى {party}، الجهة المسؤولة عن المكان.",
                             "Warbixintaada waxaa loo gudbiyay {party}, oo mas'uul ka ah goobta."),
    "mail_status_fixed": ("Det du anmälde är åtgärdat. Tack för att du hörde av dig!",
                          "What you reported has been fixed. Thank you for telling us!",
                          "تم إصلاح ما أبلغت عنه. شكرًا لإبلاغنا!",
                          "Waxaad soo sheegtay waa la hagaajiyay. Mahadsanid inaad noo sheegtay!"),
    "mail_status_wontfix": ("Det du anmälde kommer inte att åtgärdas. Skäl: {reason}",
                            "What you reported will not be fixed. Reason: {reason}",
                            "لن يتم إصلاح ما أبلغت عنه. السبب: {reason}",
                            "Waxaad soo sheegtay lama hagaajin doono. Sababta: {reason}"),
    "mail_status_link": ("Se status: {url}", "See the status: {url}", "اطّلع على الحالة: {url}",
                         "Eeg xaaladda: {url}"),
    "mail_unsubscribe": ("Vill du inte ha fler meddelanden om anmälan? Klicka här: {url}",
                         "No more messages about this report? Click here: {url}",
                         "لا تريد المزيد من الرسائل بشأن هذا البلاغ؟ اضغط هنا: {url}",
                         "Ma rabtaa inaadan helin fariimo kale oo ku saabsan warbixintan? Halkan guji: {url}"),
    "mail_signature": ("Trygghetskarta, {kommun}", "Trygghetskarta, {kommun}", "Trygghetskarta، {kommun}",
                       "Trygghetskarta, {kommun}"),
}

# Arabic and Somali labels of the vocabulary a resident sees (Swedish and English come from ``schema``).
_CATEGORY_AR_SO: dict[str, tuple[str, str]] = {
    "belysning_trasig": ("إنارة معطّلة أو مطفأة", "Nal jaban ama dansan"),
    "belysning_otillracklig": ("إنارة غير كافية أو مبهرة", "Iftiin aan ku filnayn ama indha-sarcaad leh"),
    "vegetation": ("نباتات كثيفة تحجب الرؤية", "Geedo aad u koray oo xira aragga"),
    "skymd_sikt": ("رؤية محجوبة، أماكن للاختباء", "Arag xiran, meelo lagu dhuunto"),
    "klotter": ("كتابة على الجدران", "Qoraal darbiyada lagu qoray"),
    "nedskrapning": ("قمامة أو رمي نفايات", "Qashin ama qashin la tuuray"),
    "skadegorelse": ("تخريب", "Burbur ula kac ah"),
    "gangtunnel": ("نفق للمشاة", "Tunnel lugeed"),
    "orienterbarhet": ("صعوبة الاهتداء أو اللافتات", "Jihaynta ama calaamadaha"),
    "gangvag": ("ممر المشاة أو سهولة المرور", "Waddada lugta ama marinka"),
    "trafiksakerhet": ("السلامة المرورية", "Badbaadada taraafikada"),
    "parkering": ("موقف سيارات أو مرآب", "Baarkin ama garaash"),
    "hallplats": ("موقف حافلات أو محطة", "Joogsiga baska ama saldhig"),
    "overgiven_byggnad": ("مبنى مهجور أو فارغ", "Dhismo la dayacay ama madhan"),
    "utrustning": ("ملعب أطفال أو أثاث خارجي", "Garoon carruureed ama alaab bannaanka"),
    "entre_trapphus": ("مدخل أو درج", "Albaabka laga galo ama jaranjarada"),
    "odsligt": ("مكان مقفر بلا رقابة", "Meel cidla ah oo aan la arkin"),
    "trygg_plats": ("مكان آمن يستحق الحفاظ عليه", "Meel ammaan ah oo mudan ilaalin"),
    "ovrigt": ("أخرى", "Kale"),
}
_STATUS_AR_SO: dict[str, tuple[str, str]] = {
    "ny": ("جديد", "Cusub"),
    "bedomd": ("تمت المراجعة", "La qiimeeyay"),
    "tilldelad": ("أُحيل إلى الجهة المسؤولة", "Loo gudbiyay mas'uulka"),
    "planerad": ("مخطط له", "La qorsheeyay"),
    "atgardad": ("تم الإصلاح", "La hagaajiyay"),
    "verifierad": ("تم التحقق", "La xaqiijiyay"),
    "ej_atgardas": ("لن يتم إصلاحه", "Lama hagaajin doono"),
    "dubblett": ("مكرر", "Nuqul"),
}


def lang_or_default(lang: object) -> str:
    """``lang`` if it is a public language, else Swedish."""
    return lang if isinstance(lang, str) and lang in PUBLIC_LANGUAGES else "sv"


_LTR_VALUE = re.compile(r"^[0-9A-Za-z\s:.,+\-/()]+$")


def ltr(value: object) -> str:
    """``value`` as a left-to-right island (Unicode isolates), so a phone number, date, code or position keeps
    its order inside right-to-left text ("114 14", not "14 114")."""
    return f"\u2066{value}\u2069"


def text(key: str, lang: str = "sv", **values: object) -> str:
    """The public text ``key`` in ``lang`` (Swedish for an unknown language; the key if the text is missing).
    In a right-to-left language, text values of digits and Latin letters (codes, dates, positions, phone
    numbers; not links) are inserted as left-to-right islands."""
    row = TEXTS.get(key)
    if row is None:
        return key
    lang = lang_or_default(lang)
    raw = row[PUBLIC_LANGUAGES.index(lang)]
    if lang in RTL_LANGUAGES:
        values = {k: ltr(v) if isinstance(v, str) and _LTR_VALUE.match(v) and not v.startswith("http") else v
                  for k, v in values.items()}
    return raw.format(**values) if values else raw


def category_label(key: str, lang: str = "sv") -> str:
    lang = lang_or_default(lang)
    if lang in ("ar", "so") and key in _CATEGORY_AR_SO:
        return _CATEGORY_AR_SO[key][0 if lang == "ar" else 1]
    return schema.label("category", key, "en" if lang == "en" else "sv")


def status_label(key: str, lang: str = "sv") -> str:
    lang = lang_or_default(lang)
    if lang in ("ar", "so") and key in _STATUS_AR_SO:
        return _STATUS_AR_SO[key][0 if lang == "ar" else 1]
    return schema.label("status", key, "en" if lang == "en" else "sv")


def status_with_swedish(key: str, lang: str = "sv") -> str:
    """The status in ``lang``, with the Swedish term the kommun uses in parentheses when they differ (handy
    when the resident calls the kommun)."""
    shown = status_label(key, lang)
    swedish = schema.label("status", key, "sv")
    return shown if shown == swedish else f"{shown} ({swedish})"


def party_label(key: str | None, lang: str = "sv") -> str:
    return schema.label("party", key, "en" if lang_or_default(lang) == "en" else "sv")
