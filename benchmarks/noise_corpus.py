"""The noise set: clean article bodies dressed in web-page noise, with the truth.

Each clean body (the AEB ground-truth bodies, the multilingual articles under
``tests/data/multilingual/clean``) gets a headline, its site's furniture
(header, menu, footer: the same lines on every page of a site, as on real
sites) and page noise drawn from templates (ad markers, share rows, calls to
subscribe, captions and photo credits, cookie and paywall lines, related-link
lists, comment furniture, author bios, HTML remnants, stray foreign-script
lines, reprint notices at the top or the bottom). Every line is labelled:
``title``, ``content``, ``blank`` or ``noise:<kind>``; a reprint notice's
source is the doc's ``reprinted_from`` truth.

The templates are deliberately broader than ``rules.toml``: decorations
(bullets, arrows, emoji, upper case, counters), phrasings and languages the
rules may not know, so that the benchmark's figure is an honest one. Random
choices come from a ``random.Random`` seeded per document: the same seed gives
the same corpus.

Importable by tests (``sys.path`` insert of ``benchmarks/``) and by
``bench_noise.py``.
"""

from __future__ import annotations

import json
import random
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
AEB = SHARED / "bench" / "aeb"
MULTILINGUAL = ROOT / "tests" / "data" / "multilingual"

__all__ = ["Dressed", "dress", "aeb_bodies", "multilingual_bodies", "build_corpus", "KINDS", "gold_furniture",
           "furniture_kind"]
FURNITURE_TSV = ROOT / "benchmarks" / "noise_gold_furniture.tsv"

KINDS = ("header", "menu", "footer", "ad", "share", "subscribe", "caption", "cookie", "paywall",
         "related", "comment", "bio", "html", "stray_script", "reprint", "tags")


@dataclass
class Dressed:
    """One dressed article: its lines, a label per line, the reprint truth."""

    key: str
    lang: str
    site: str
    lines: list[str]
    labels: list[str]  # "title" | "content" | "blank" | "noise:<kind>"
    reprinted_from: str | None = None
    title: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    @property
    def source_path(self) -> str:
        return f"{self.site}/{self.key}.txt"

    def truth(self) -> dict:
        return {"key": self.key, "lang": self.lang, "site": self.site, "title": self.title,
                "reprinted_from": self.reprinted_from, "labels": self.labels}


# --- vocabulary -----------------------------------------------------------------
# Per language: words a page's furniture is written with. English is the
# fallback for every kind (sites in other languages often keep English widgets).
_EN = {
    "ad": ["ADVERTISEMENT", "Advertisement", "- Advertisement -", "Sponsored", "Ad", "[ad_3]",
           "[ad id=\"4471\"]", "Advertisement - Scroll to continue", "Story continues below advertisement",
           "ADVERTISING", "Sponsored Content", "Paid Post", "Promoted", "Advertisement:",
           "-- ADVERTISEMENT --", "Article continues below this ad", "Ad Feedback", "Continue reading below"],
    "share": ["Share", "Share this article", "Share on Facebook", "Facebook Twitter WhatsApp Email",
              "Share: Facebook | Twitter | LinkedIn", "Tweet", "Share this:", "Share via Email",
              "Copy link", "Facebook  Twitter  Pinterest  WhatsApp", "SHARE", "Print this article",
              "Share this story", "Share on WhatsApp", "Email  Print  Facebook  Twitter"],
    "subscribe": ["Subscribe to our newsletter", "Sign up for our daily newsletter",
                  "Join our Telegram channel for the latest updates", "Follow us on Google News",
                  "Follow us on Twitter @{site}", "Download our app for breaking news alerts",
                  "Get the latest news delivered to your inbox", "Join our WhatsApp channel",
                  "Subscribe to our YouTube channel", "Like us on Facebook",
                  "Follow {Site} on Instagram", "Get our free daily briefing by email",
                  "Sign up for breaking news alerts", "Never miss a story: subscribe now",
                  "Stay informed: sign up for our morning newsletter",
                  "Click here to join our Telegram channel"],
    "cookie": ["We use cookies to improve your experience on our website.",
               "This website uses cookies. By continuing to browse the site you agree to our use of cookies.",
               "Accept all cookies", "Manage cookie preferences",
               "By using this site, you agree to our Privacy Policy and Terms of Use.",
               "We and our partners use cookies to personalise content and ads.",
               "Cookie settings", "I accept", "Reject all"],
    "paywall": ["Subscribe to continue reading", "This article is for subscribers only.",
                "You have reached your limit of free articles this month.",
                "Already a subscriber? Log in", "Subscribe now for unlimited access",
                "Support independent journalism. Donate today.",
                "Become a member to read the full story"],
    "related": ["Related", "Read more", "Related Articles", "Recommended", "Most Read", "More from {Site}",
                "You may also like", "Also read", "MOST POPULAR", "Trending Now", "Related Stories",
                "Read next", "Don't miss", "Editor's picks", "More stories"],
    "read_more_prefix": ["Read more: ", "READ MORE: ", "Also read: ", "Related: ", "See also: ",
                         "RELATED: ", "Read also: ", "► ", "» ", "→ "],
    "comment": ["Comments", "0 Comments", "Leave a Reply", "Leave a comment", "Post a comment",
                "3 comments", "Your email address will not be published. Required fields are marked *",
                "Comments are closed.", "Join the conversation", "Log in to comment",
                "Reply", "Report", "View comments (12)", "Be the first to comment",
                "Show comments", "Comment *"],
    "caption_credit": ["(Photo: AFP)", "(AP Photo/{person})", "REUTERS/{person}", "Photo by {person}/Getty Images",
                       "(Photo: Reuters)", "Photo: {person}/AFP", "(Image: Shutterstock)",
                       "Image credit: {person}", "(EPA/{person})", "Credit: {person} for {Site}",
                       "Photograph: {person}/AP", "© {person}/dpa", "(Xinhua/{person})"],
    "caption_text": ["People walk past the building on Monday", "A view of the city centre",
                     "Protesters gather outside parliament", "The minister speaks to reporters",
                     "File photo", "Workers at the site last week", "The area after the storm"],
    "bio": ["{person} is a reporter for {Site} covering politics and the economy.",
            "About the author: {person} writes about technology and business.",
            "{person} is a senior correspondent based in London. Follow her on Twitter @{handle}.",
            "{person} has covered the region for more than a decade.",
            "More articles by {person}", "By {person}", "Written by {person}",
            "{person} | Staff Writer"],
    "tags": ["Tags: {w1}, {w2}, {w3}", "Topics: {w1} | {w2}", "Filed under: {w1}", "Categories: {w1}, {w2}",
             "#{w1} #{w2}"],
    "menu": ["Home", "News", "World", "Politics", "Business", "Sports", "Opinion", "Culture", "Video"],
    "footer": ["© {year} {Site}. All rights reserved.", "About Us | Contact | Privacy Policy | Terms of Use",
               "{Site} is not responsible for the content of external sites.",
               "Copyright © {year} {Site}", "Advertise with us", "Terms of Service | Cookie Policy"],
}

_LOCAL: dict[str, dict[str, list[str]]] = {
    "de": {"ad": ["Anzeige", "ANZEIGE", "Werbung", "- Anzeige -"], "share": ["Teilen", "Artikel teilen", "Auf Facebook teilen"],
           "subscribe": ["Jetzt Newsletter abonnieren", "Folgen Sie uns auf Facebook", "Hier geht es zu unserem WhatsApp-Kanal"],
           "related": ["Lesen Sie auch", "Mehr zum Thema", "Das könnte Sie auch interessieren", "Meistgelesen"],
           "comment": ["Kommentare", "Kommentar schreiben", "Kommentare (4)"],
           "cookie": ["Wir verwenden Cookies, um Ihnen das beste Nutzererlebnis zu bieten.", "Alle akzeptieren"],
           "paywall": ["Jetzt weiterlesen mit Plus", "Dieser Artikel ist nur für Abonnenten verfügbar."],
           "caption_credit": ["Foto: dpa", "Foto: {person}/dpa", "Bild: Imago"],
           "menu": ["Startseite", "Politik", "Wirtschaft", "Sport", "Kultur", "Lokales"],
           "footer": ["Impressum | Datenschutz | Kontakt", "© {year} {Site}. Alle Rechte vorbehalten."]},
    "es": {"ad": ["Publicidad", "PUBLICIDAD", "Contenido patrocinado"], "share": ["Compartir", "Compartir en Facebook", "Compartir en WhatsApp"],
           "subscribe": ["Suscríbete a nuestro boletín", "Síguenos en Google Noticias", "Únete a nuestro canal de WhatsApp"],
           "related": ["Te puede interesar", "Lee también", "Noticias relacionadas", "Lo más leído"],
           "comment": ["Comentarios", "Deja un comentario", "2 comentarios"],
           "cookie": ["Utilizamos cookies propias y de terceros para mejorar nuestros servicios.", "Aceptar cookies"],
           "paywall": ["Suscríbete para seguir leyendo", "Este contenido es exclusivo para suscriptores."],
           "caption_credit": ["Foto: EFE", "(Foto: {person}/EFE)", "Imagen: Europa Press"],
           "menu": ["Portada", "Nacional", "Internacional", "Deportes", "Economía", "Opinión"],
           "footer": ["Aviso legal | Política de privacidad | Contacto", "© {year} {Site}. Todos los derechos reservados."]},
    "ru": {"ad": ["Реклама", "РЕКЛАМА", "Партнерский материал"], "share": ["Поделиться", "Поделиться ВКонтакте", "ВКонтакте Одноклассники Telegram"],
           "subscribe": ["Подписывайтесь на наш канал в Telegram", "Читайте нас в Дзене", "Подпишитесь на нашу рассылку"],
           "related": ["Читайте также", "Самое читаемое", "Другие новости", "По теме"],
           "comment": ["Комментарии", "Оставить комментарий", "Комментарии (7)"],
           "cookie": ["Мы используем файлы cookie для улучшения работы сайта.", "Принять"],
           "paywall": ["Оформите подписку, чтобы читать дальше"],
           "caption_credit": ["Фото: РИА Новости", "Фото: {person}/ТАСС", "Фото: пресс-служба мэрии"],
           "menu": ["Главная", "Новости", "Политика", "Экономика", "Спорт", "Общество"],
           "footer": ["© {year} {Site}. Все права защищены.", "О проекте | Контакты | Реклама"]},
    "tr": {"ad": ["Reklam", "REKLAM", "Sponsorlu İçerik"], "share": ["Paylaş", "Facebook'ta Paylaş", "Haberi paylaş"],
           "subscribe": ["Bizi Google Haberler'den takip edin", "Telegram kanalımıza katılın", "Bültenimize abone olun"],
           "related": ["İlgili Haberler", "Bunlar da ilginizi çekebilir", "En çok okunanlar", "Benzer Haberler"],
           "comment": ["Yorumlar", "Yorum yap", "Yorum Yazın"],
           "cookie": ["Sitemizde çerezler kullanılmaktadır.", "Kabul et"],
           "caption_credit": ["Fotoğraf: AA", "(Fotoğraf: {person}/DHA)", "Foto: İHA"],
           "menu": ["Anasayfa", "Gündem", "Ekonomi", "Spor", "Dünya", "Yaşam"],
           "footer": ["© {year} {Site}. Tüm hakları saklıdır.", "Künye | İletişim | Gizlilik Politikası"]},
    "el": {"ad": ["Διαφήμιση", "ΔΙΑΦΗΜΙΣΗ"], "share": ["Κοινοποίηση", "Μοιραστείτε το άρθρο"],
           "subscribe": ["Ακολουθήστε μας στο Google News", "Εγγραφείτε στο newsletter μας"],
           "related": ["Διαβάστε επίσης", "Σχετικά άρθρα", "Δημοφιλή"],
           "comment": ["Σχόλια", "Αφήστε ένα σχόλιο"], "caption_credit": ["Φωτογραφία: ΑΠΕ-ΜΠΕ", "(Φωτ.: Eurokinissi)"],
           "menu": ["Αρχική", "Πολιτική", "Οικονομία", "Κόσμος", "Αθλητισμός"],
           "footer": ["© {year} {Site}. Με την επιφύλαξη παντός δικαιώματος.", "Όροι χρήσης | Επικοινωνία"]},
    "he": {"ad": ["פרסומת", "תוכן שיווקי"], "share": ["שתפו", "שתפו בפייסבוק", "שיתוף"],
           "subscribe": ["הצטרפו לערוץ הטלגרם שלנו", "הירשמו לניוזלטר"],
           "related": ["עוד באותו נושא", "כתבות נוספות", "הנקראים ביותר"],
           "comment": ["תגובות", "הוסיפו תגובה"], "caption_credit": ["צילום: רויטרס", "(צילום: {person})", "צילום: פלאש 90"],
           "menu": ["ראשי", "חדשות", "כלכלה", "ספורט", "תרבות"],
           "footer": ["© כל הזכויות שמורות ל{Site} {year}", "אודות | צור קשר | מדיניות פרטיות"]},
    "ar": {"ad": ["إعلان", "اعلان", "محتوى مدفوع"], "share": ["شارك", "مشاركة", "شارك على فيسبوك"],
           "subscribe": ["تابعونا على تليجرام", "اشترك في النشرة البريدية", "تابعوا آخر الأخبار عبر قناتنا على واتساب"],
           "related": ["اقرأ أيضا", "أخبار ذات صلة", "الأكثر قراءة", "اقرأ أيضاً:"],
           "comment": ["التعليقات", "أضف تعليقا"], "caption_credit": ["(صورة: رويترز)", "الصورة: أ ف ب", "(صورة أرشيفية)"],
           "menu": ["الرئيسية", "أخبار", "اقتصاد", "رياضة", "ثقافة"],
           "footer": ["جميع الحقوق محفوظة © {year} {Site}", "من نحن | اتصل بنا | سياسة الخصوصية"]},
    "fa": {"ad": ["تبلیغات", "آگهی"], "share": ["اشتراک‌گذاری", "به اشتراک بگذارید"],
           "subscribe": ["ما را در تلگرام دنبال کنید", "به کانال ما در تلگرام بپیوندید", "عضویت در خبرنامه"],
           "related": ["بیشتر بخوانید", "اخبار مرتبط", "پربازدیدترین‌ها"],
           "comment": ["نظرات", "ارسال نظر", "دیدگاه‌ها"], "caption_credit": ["عکس: ایرنا", "(عکس: {person}/ایسنا)"],
           "menu": ["صفحه اصلی", "سیاسی", "اقتصادی", "ورزشی", "فرهنگی"],
           "footer": ["کلیه حقوق این سایت محفوظ است © {year}", "درباره ما | تماس با ما"]},
    "hi": {"ad": ["विज्ञापन", "Advertisement"], "share": ["शेयर करें", "फेसबुक पर शेयर करें", "शेयर"],
           "subscribe": ["हमें गूगल न्यूज़ पर फॉलो करें", "हमारे व्हाट्सएप चैनल से जुड़ें", "ताज़ा खबरों के लिए ऐप डाउनलोड करें"],
           "related": ["यह भी पढ़ें", "ये भी पढ़ें:", "संबंधित खबरें", "सबसे ज़्यादा पढ़ी गई"],
           "comment": ["टिप्पणियाँ", "अपनी राय दें"], "caption_credit": ["फोटो: पीटीआई", "(फाइल फोटो)", "तस्वीर: {person}"],
           "menu": ["होम", "देश", "विदेश", "खेल", "मनोरंजन", "राज्य"],
           "footer": ["© {year} {Site}. सर्वाधिकार सुरक्षित।", "हमारे बारे में | संपर्क करें | गोपनीयता नीति"]},
    "ka": {"ad": ["რეკლამა"], "share": ["გაზიარება", "გააზიარე"],
           "subscribe": ["გამოიწერეთ ჩვენი Telegram არხი", "მოგვწონეთ Facebook-ზე"],
           "related": ["ასევე წაიკითხეთ", "მსგავსი სიახლეები", "ყველაზე კითხვადი"],
           "comment": ["კომენტარები", "დატოვეთ კომენტარი"], "caption_credit": ["ფოტო: {person}", "ფოტო: IPN"],
           "menu": ["მთავარი", "პოლიტიკა", "ეკონომიკა", "საზოგადოება", "სპორტი"],
           "footer": ["© {year} {Site}. ყველა უფლება დაცულია."]},
    "zh": {"ad": ["广告", "【广告】", "推广"], "share": ["分享到：", "分享", "微信 微博 QQ空间"],
           "subscribe": ["关注我们的微信公众号", "下载客户端，阅读更多新闻", "扫码关注"],
           "related": ["相关阅读", "延伸阅读", "热门推荐", "相关新闻"],
           "comment": ["评论", "发表评论", "网友评论"], "caption_credit": ["图片来源：新华社", "（图片来源：视觉中国）", "摄影：{person}"],
           "menu": ["首页", "新闻", "财经", "体育", "娱乐", "科技"],
           "footer": ["版权所有 © {year} {Site}", "关于我们 | 联系我们 | 隐私政策", "责任编辑：{person}"]},
    "ja": {"ad": ["広告", "PR", "スポンサーリンク"], "share": ["シェア", "ツイート", "この記事をシェアする"],
           "subscribe": ["公式LINEアカウントを友だち追加", "メールマガジンに登録する", "アプリで読む"],
           "related": ["関連記事", "あわせて読みたい", "おすすめ記事", "アクセスランキング"],
           "comment": ["コメント", "コメントを書く"], "caption_credit": ["（写真：共同）", "写真：{person}撮影", "（撮影：{person}）"],
           "menu": ["トップ", "ニュース", "経済", "スポーツ", "エンタメ"],
           "footer": ["Copyright © {year} {Site} All rights reserved.", "利用規約 | プライバシーポリシー | お問い合わせ"]},
    "ko": {"ad": ["광고", "AD"], "share": ["공유하기", "페이스북 트위터 카카오톡", "기사 공유"],
           "subscribe": ["구독하기", "네이버에서 구독하세요", "카카오톡 채널 추가"],
           "related": ["관련 기사", "많이 본 뉴스", "추천 기사", "함께 볼만한 뉴스"],
           "comment": ["댓글", "댓글 쓰기", "댓글 0"], "caption_credit": ["(사진=연합뉴스)", "사진=뉴스1", "[사진 제공=부산시]"],
           "menu": ["홈", "정치", "경제", "사회", "국제", "스포츠"],
           "footer": ["Copyright © {year} {Site}. All rights reserved.", "무단전재 및 재배포 금지", "회사소개 | 개인정보처리방침"]},
    "th": {"ad": ["โฆษณา"], "share": ["แชร์", "แชร์ไปยัง Facebook"],
           "subscribe": ["ติดตามข่าวสารผ่าน LINE", "กดติดตามเพจ Facebook ของเรา"],
           "related": ["ข่าวที่เกี่ยวข้อง", "อ่านเพิ่มเติม", "ข่าวยอดนิยม"],
           "comment": ["ความคิดเห็น", "แสดงความคิดเห็น"], "caption_credit": ["ภาพ: {person}", "(ภาพจาก Facebook)"],
           "menu": ["หน้าแรก", "การเมือง", "เศรษฐกิจ", "กีฬา", "บันเทิง"],
           "footer": ["© {year} {Site} สงวนลิขสิทธิ์"]},
    "my": {"ad": ["ကြော်ငြာ"], "share": ["မျှဝေရန်", "Share"],
           "subscribe": ["ကျွန်ုပ်တို့၏ Telegram Channel ကို Join ပါ", "Facebook Page ကို Like လုပ်ပါ"],
           "related": ["ဆက်စပ်သတင်းများ", "ဆက်ဖတ်ရန်"],
           "comment": ["မှတ်ချက်များ"], "caption_credit": ["ဓာတ်ပုံ - {person}", "(Photo: Myanmar Now)"],
           "menu": ["ပင်မစာမျက်နှာ", "သတင်း", "နိုင်ငံရေး", "စီးပွားရေး"],
           "footer": ["© {year} {Site}. All rights reserved."]},
}

_HTML = ['<img src="/uploads/{year}/06/photo-{n}.jpg" alt="" width="800" height="450">',
         '<link rel="stylesheet" href="/assets/css/main.{n}.css">', "&nbsp;", "&nbsp; &nbsp;",
         '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>',
         "{{ article.author }}", '[caption id="attachment_{n}" align="aligncenter" width="640"]',
         "[/caption]", "<br>", "<p>&nbsp;</p>", '<iframe src="https://www.youtube.com/embed/{handle}" '
         'width="560" height="315" frameborder="0"></iframe>', "<!-- /wp:paragraph -->",
         '<div class="ad-container" id="div-gpt-ad-{n}"></div>', "[embed]https://youtu.be/{handle}[/embed]",
         "googletag.cmd.push(function() { googletag.display('div-gpt-ad-{n}'); });", "</div>"]

# Stray letters of another script (mangled bidi or font fallbacks), by script.
_STRAY = {"arabic": ["ب ب", "ش"], "georgian": ["ა"], "cyrillic": ["ру"], "han": ["中"], "hangul": ["한"],
          "hebrew": ["אב"], "greek": ["Ω"], "thai": ["ก"], "devanagari": ["ह"], "latin": ["ab", "Xx"]}
_SCRIPT_OF = {"ar": "arabic", "fa": "arabic", "ka": "georgian", "ru": "cyrillic", "zh": "han", "ja": "han",
              "ko": "hangul", "he": "hebrew", "el": "greek", "th": "thai", "hi": "devanagari", "my": "burmese"}

# AEB bodies that end with a notice of their own (found by hand): the source
# it names, or None where it names the publisher itself. Such a body gets no
# second notice.
OWN_NOTICES = {"14cc2a0ca59c": "Futurism", "3c5bf8db4272": "Live Science", "bd673bd79881": "Live Science",
               "c467d507551a": "Associated Press", "e1c7023ee214": "European Space Agency",
               "f344ca5fb36e": None}
# The publisher a None above names: the body is dressed on that publisher's own
# site. On any other outlet's page the same line ("Copyright 2019 Hawaii News
# Now. All rights reserved.") would be a reprint notice naming its source --
# the corpus's own "Copyright {year} {src}" reprint template -- so a None truth
# holds only on the publisher's site.
OWN_SITES = {"f344ca5fb36e": "Hawaii News Now"}

_REPRINT = [
    ("This article was originally published by {src}.", "top"), ("Originally published at {src}.", "bottom"),
    ("This story first appeared in {src}.", "any"), ("Republished with permission from {src}.", "any"),
    ("Source: {src}", "bottom"), ("This article is republished from {src} under a Creative Commons license. "
                                  "Read the original article.", "bottom"),
    ("(c) {src} {year}", "bottom"), ("Copyright {year} {src}", "bottom"), ("Distributed by {src}.", "bottom"),
    ("This article first appeared on {src} and is reproduced here with permission.", "any"),
    ("This story was originally published by {src} and is republished here with permission.", "any"),
    ("A version of this article originally appeared in {src}.", "any"),
    ("Reprinted with permission from {src}.", "any"), ("© {year} {src}. All rights reserved.", "bottom"),
    ("This piece was first published on {src}.", "any"), ("Originally posted on {src}", "bottom"),
    ("This article was produced by {src} and is republished with permission.", "any"),
    ("Content originally published by {src}.", "bottom"),
]
_SOURCES = ["Radio Free Europe/Radio Liberty", "The Conversation", "Eurasianet", "Global Voices",
            "ProPublica", "Kaiser Health News", "Inside Climate News", "Grist", "The Associated Press",
            "Reuters", "Agence France-Presse", "Balkan Insight", "OC Media", "Mongabay", "Al-Monitor",
            "The Moscow Times", "Nikkei Asia", "CalMatters", "Stateline", "Undark", "Carbon Brief",
            "Project Syndicate", "The Diplomat", "Rest of World", "Hakai Magazine", "Yale Environment 360"]
_WIRE = frozenset({"The Associated Press", "Reuters", "Agence France-Presse"})
_COPYRIGHT_FORMS = ("(c) ", "Copyright ", "© ")
_PEOPLE = ["Anna Petrova", "John Miller", "Maria Garcia", "Kenji Sato", "Leyla Aliyeva", "Tom Baker",
           "Sofia Rossi", "David Cohen", "Aram Hakobyan", "Li Wei", "Fatima Zahra", "Jan Novak"]
_WORDS = ["politics", "economy", "climate", "energy", "health", "education", "transport", "Europe",
          "Caucasus", "elections", "technology", "culture"]


def _local(lang: str, kind: str) -> list[str]:
    """Templates of one kind: the language's own plus English (sites mix them)."""
    own = _LOCAL.get(lang, {}).get(kind, [])
    en = _EN.get(kind, [])
    return own * 3 + en if own else en


def _fill(rng: random.Random, template: str, site: str) -> str:
    person = rng.choice(_PEOPLE)
    return (template.replace("{Site}", site).replace("{site}", site.replace(" ", ""))
            .replace("{person}", person).replace("{handle}", person.split()[0].lower() + str(rng.randint(1, 99)))
            .replace("{year}", str(rng.choice((2019, 2021, 2023, 2024, 2025))))
            .replace("{n}", str(rng.randint(100, 99999)))
            .replace("{w1}", rng.choice(_WORDS)).replace("{w2}", rng.choice(_WORDS))
            .replace("{w3}", rng.choice(_WORDS)))


def _decorate(rng: random.Random, line: str) -> str:
    """Variants the rules may not know: case, bullets, arrows, emoji, brackets."""
    r = rng.random()
    if r < 0.12:
        return line.upper()
    if r < 0.20:
        return rng.choice(("• ", "▶ ", "» ", "📢 ", "👉 ", "🔔 ", "* ")) + line
    if r < 0.26:
        return line + rng.choice((" »", " →", " ›", " >>", " ✓"))
    if r < 0.30:
        return f"[ {line} ]"
    return line


@dataclass
class _Site:
    name: str
    header: list[tuple[str, str]] = field(default_factory=list)  # (line, kind)
    footer: list[tuple[str, str]] = field(default_factory=list)


def make_site(name: str, lang: str, seed: int) -> _Site:
    """A site's furniture: the same header and footer on each of its pages."""
    rng = random.Random(zlib.crc32(f"{seed}:{name}".encode()))
    site = _Site(name)
    tagline = rng.choice(("", f"{name} | Independent news since {rng.randint(1990, 2015)}",
                          f"{name} - News, analysis, opinion"))
    site.header.append((name, "header"))
    if tagline:
        site.header.append((tagline, "header"))
    menu = _local(lang, "menu")
    items = rng.sample(menu, k=min(len(menu), rng.randint(3, 6)))
    sep = rng.choice((" | ", "  ", " · ", " / "))
    if rng.random() < 0.5:
        site.header.append((sep.join(items), "menu"))
    else:
        site.header.extend((it, "menu") for it in items)
    foot = _local(lang, "footer")
    for t in rng.sample(foot, k=min(len(foot), rng.randint(1, 3))):
        site.footer.append((_fill(rng, t, name), "footer"))
    return site


def _block(rng: random.Random, kind: str, lang: str, site: str, others: list[str]) -> list[str]:
    """The lines of one piece of page noise."""
    if kind == "caption":
        credit = _fill(rng, rng.choice(_local(lang, "caption_credit")), site)
        if rng.random() < 0.5 and credit.startswith("("):
            return [f"{rng.choice(_EN['caption_text'])} {credit}"]
        return [credit]
    if kind == "related":
        head = _fill(rng, rng.choice(_local(lang, "related")), site)
        items = rng.sample(others, k=min(len(others), rng.randint(1, 4))) if others else []
        if rng.random() < 0.4 and items:
            return [rng.choice(_EN["read_more_prefix"]) + items[0]]
        bullet = rng.choice(("", "- ", "• ", "› "))
        return [_decorate(rng, head)] + [bullet + it for it in items]
    if kind == "comment":
        picks = rng.sample(_local(lang, "comment"), k=rng.randint(1, 3))
        return [_fill(rng, p, site) for p in picks]
    if kind == "html":
        return [_fill(rng, rng.choice(_HTML), site)]
    if kind == "stray_script":
        own = _SCRIPT_OF.get(lang, "latin")
        return [rng.choice(rng.choice([v for k, v in _STRAY.items() if k != own]))]
    if kind == "bio":
        return [_fill(rng, rng.choice(_EN["bio"]), site)]
    if kind == "tags":
        return [_fill(rng, rng.choice(_EN["tags"]), site)]
    return [_decorate(rng, _fill(rng, rng.choice(_local(lang, kind)), site))]


# Where each kind of noise goes: top of the body, inside it, or after it.
_TOP = ("ad", "share", "caption", "subscribe", "html")
_MID = ("ad", "ad", "caption", "related", "subscribe", "html", "share", "stray_script")
_BOTTOM = ("share", "subscribe", "related", "tags", "bio", "comment", "cookie", "paywall", "html", "ad")


def dress(key: str, lang: str, title: str, body: list[str], site: _Site, seed: int,
          others: list[str] = (), reprint_share: float = 0.5) -> Dressed:
    """``body`` (paragraph lines, blank lines between them) dressed in noise."""
    rng = random.Random(zlib.crc32(f"{seed}:{key}".encode()))
    d = Dressed(key=key, lang=lang, site=site.name, lines=[], labels=[], title=title)

    def put(lines: list[str], label: str) -> None:
        for ln in lines:
            d.lines.append(ln)
            d.labels.append(label)

    def noise(kind: str) -> None:
        put(_block(rng, kind, lang, site.name, list(others)), f"noise:{kind}")
        if rng.random() < 0.6:
            put([""], "blank")

    for line, kind in site.header:
        put([line], f"noise:{kind}")
    put([""], "blank")
    put([title], "title")
    put([""], "blank")
    reprint = None
    own = key[:12] in OWN_NOTICES
    if own:
        d.reprinted_from = OWN_NOTICES[key[:12]]
    elif rng.random() < reprint_share:
        template, where = rng.choice(_REPRINT)
        src = rng.choice(_SOURCES)
        reprint = (_fill(rng, template.replace("{src}", src), site.name), where if where != "any"
                   else rng.choice(("top", "bottom")))
        d.reprinted_from = src
    for kind in rng.sample(_TOP, k=rng.randint(0, 3)):
        noise(kind)
    if reprint and reprint[1] == "top":
        put([reprint[0]], "noise:reprint")
        put([""], "blank")
    paras = [p for p in body if p.strip()]
    gaps = sorted(rng.sample(range(1, len(paras)), k=min(len(paras) - 1, rng.randint(0, 3)))) if len(paras) > 2 else []
    for i, p in enumerate(paras):
        if i in gaps:
            noise(rng.choice(_MID))
        put([p], "content")
        put([""], "blank")
    if reprint and reprint[1] == "bottom":
        # A wire agency's copyright right below the story is the story's own
        # last line to the AEB annotators (c467d507551a keeps "© 2019
        # Associated Press. All Rights Reserved."): content, its source noted.
        wire = src in _WIRE and template.startswith(_COPYRIGHT_FORMS)
        put([reprint[0]], "content" if wire else "noise:reprint")
        put([""], "blank")
    for kind in rng.sample(_BOTTOM, k=rng.randint(1, 5)):
        noise(kind)
    for line, kind in site.footer:
        put([line], f"noise:{kind}")
    while d.lines and not d.lines[-1].strip():
        d.lines.pop()
        d.labels.pop()
    return d


# --- the clean bodies ---------------------------------------------------------------
_SLUG = re.compile(r"[^/]+(?=/?(?:\.html?|\.php)?(?:\?.*)?$)")


def _slug_title(url: str) -> str:
    """A headline made from the URL's slug (the AEB bodies have none)."""
    parts = [p for p in re.split(r"[/?#]", url) if p]
    slug = max(parts[2:] or ["news story"], key=lambda p: p.count("-"))
    words = [w for w in re.split(r"[-_]+", re.sub(r"\.\w+$", "", slug)) if w and not w.isdigit()]
    words = words[:14] or ["Latest", "news"]
    if len(words) < 3:
        words += ["news", "report"]
    return " ".join(words).capitalize()


def aeb_bodies() -> list[tuple[str, str, str, list[str]]]:
    """``(key, lang, headline, paragraph lines)`` for the 181 AEB ground-truth bodies."""
    gold = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for k in sorted(gold):
        lines = [ln.strip() for ln in gold[k]["articleBody"].split("\n") if ln.strip()]
        if lines:
            out.append((k, "en", _slug_title(gold[k].get("url", "")), lines))
    return out


def multilingual_bodies() -> list[tuple[str, str, str, list[str]]]:
    """``(key, lang, headline, paragraph lines)`` for the hand-written articles."""
    out = []
    for p in sorted((MULTILINGUAL / "clean").glob("*.txt")):
        lines = [ln.strip() for ln in p.read_text(encoding="utf-8").split("\n") if ln.strip()]
        out.append((p.stem, p.stem, lines[0], lines[1:]))
    return out


_SITE_NAMES = ["Daily Ledger", "Caucasus Herald", "Metro Courier", "The Evening Post", "Harbor Times",
               "Valley Gazette", "Northern Star", "Capital Wire", "Pacific Observer", "Riverside News",
               "Global Dispatch", "Civic Tribune", "Morning Chronicle", "Eastern Monitor", "Plains Journal",
               "Highland Voice", "Coastal Report", "Summit Review", "Union Bulletin", "Lakeside Record"]


def build_corpus(seed: int = 7, limit: int | None = None, reprint_share: float = 0.5) -> list[Dressed]:
    """The noise set: every AEB body on one of 20 sites (about 9 pages each, so
    site furniture repeats as it does on real sites), and each multilingual
    article once, on one of those sites (outlets with language services), with
    noise in its own language and in English."""
    out: list[Dressed] = []
    aeb = aeb_bodies()[:limit] if limit else aeb_bodies()
    titles = [t for _, _, t, _ in aeb]
    sites = [make_site(n, "en", seed) for n in _SITE_NAMES]
    for i, (k, lang, title, body) in enumerate(aeb):
        others = [t for t in titles[max(0, i - 6):i + 6] if t != title]
        site = make_site(OWN_SITES[k[:12]], "en", seed) if k[:12] in OWN_SITES else sites[i % len(sites)]
        out.append(dress(k, lang, title, body, site, seed, others, reprint_share))
    ml = multilingual_bodies()
    for i, (k, lang, title, body) in enumerate(ml):
        others = [t for _, g, t, _ in ml if g != lang][i % 5:i % 5 + 3]
        out.append(dress(k, lang, title, body, sites[(i * 7) % len(sites)], seed, others, reprint_share))
    return out


def multilingual_dressed(seed: int = 11) -> list[Dressed]:
    """Each multilingual article alone on a site of its language (furniture in
    that language): the files under ``tests/data/multilingual/dressed``."""
    ml = multilingual_bodies()
    out = []
    for i, (k, lang, title, body) in enumerate(ml):
        others = [t for _, g, t, _ in ml if g != lang][i % 5:i % 5 + 3]
        site = make_site(f"{lang.upper()} Daily", lang, seed)
        out.append(dress(k, lang, title, body, site, seed, others, reprint_share=0.6))
    return out


def write_multilingual_dressed(seed: int = 11) -> None:
    """(Re)write ``tests/data/multilingual/dressed/*.txt`` and ``truth.json``."""
    dest = MULTILINGUAL / "dressed"
    dest.mkdir(parents=True, exist_ok=True)
    truth = {}
    for d in multilingual_dressed(seed):
        (dest / f"{d.key}.txt").write_text(d.text, encoding="utf-8")
        truth[d.key] = d.truth()
    (dest / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_multilingual_dressed()


# --- scoring ------------------------------------------------------------------------
def gold_furniture(path: Path = FURNITURE_TSV) -> dict[tuple[str, str], str]:
    """``{(body, line): kind}`` of ``noise_gold_furniture.tsv``: AEB gold-body
    lines that are catalogue noise (``body`` a 12-hex key prefix or ``*``)."""
    out: dict[tuple[str, str], str] = {}
    for n, row in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not row.strip() or row.startswith("#") or row.startswith("body\t"):
            continue
        parts = row.split("\t")
        if len(parts) != 4:
            raise ValueError(f"{path.name}:{n}: 4 tab-separated fields expected, got {len(parts)}")
        body, kind, line, _why = parts
        out[(body, json.loads(line))] = kind
    return out


def furniture_kind(furniture: dict[tuple[str, str], str], key: str, line: str) -> str | None:
    """The catalogue kind of a content line of body ``key`` listed in ``furniture``, or None."""
    s = line.strip()
    return furniture.get((key[:12], s)) or furniture.get(("*", s))



_W = re.compile(r"\w+")


def line_fates(d: Dressed, out_text: str, dateline: str | None = None) -> list[bool | None]:
    """For each line of ``d``: True if it is in ``out_text`` whole (as a line),
    False if not, None for blank lines. A first paragraph that lost only its
    dateline (``Baku: ...``) counts as kept."""
    from collections import Counter

    left = Counter(ln.strip() for ln in out_text.split("\n") if ln.strip())
    fates: list[bool | None] = []
    for line, label in zip(d.lines, d.labels):
        s = line.strip()
        if not s:
            fates.append(None)
            continue
        if left[s] > 0:
            left[s] -= 1
            fates.append(True)
            continue
        tail = next((o for o in left if dateline and left[o] > 0 and s.endswith(o) and len(o) > len(s) // 2), None)
        if tail is not None and label == "content":
            left[tail] -= 1
            fates.append(True)
            continue
        fates.append(False)
    return fates


def grams(text: str) -> set[tuple[str, ...]]:
    toks = _W.findall(text)
    return {tuple(toks[i:i + 4]) for i in range(len(toks) - 3)}


def gram_recall(d: Dressed, out_text: str) -> float | None:
    """Share of the content's word 4-grams found in ``out_text`` (None: too short)."""
    want = grams("\n".join(ln for ln, lab in zip(d.lines, d.labels) if lab == "content"))
    if not want:
        return None
    return len(want & grams(out_text)) / len(want)
