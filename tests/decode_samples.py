"""News-style sentences in many languages, written for the decoding tests.

Each text is encoded in a legacy code page of its region and cut to a byte
length (:func:`cut`), so the tests see what a scraper saves from an old site.
"""

from __future__ import annotations

FRENCH = (
    "Le président a déclaré mardi à Genève que la trêve était fragile. "
    "Les négociations reprendront dès la semaine prochaine, selon un communiqué du ministère "
    "des Affaires étrangères. « Nous ne céderons pas », a affirmé la porte-parole, qui "
    "s’exprimait devant une dizaine de journalistes. Plusieurs organisations humanitaires "
    "réclament l’ouverture d’un couloir sûr pour évacuer les blessés. Le coût de la "
    "reconstruction est estimé à 2,5 milliards d’euros. Dans les villages proches de la "
    "frontière, les habitants ont passé la nuit dans des caves, faute d’abri. Les élèves "
    "n’ont pas repris les cours depuis le début du mois, et les écoles servent désormais de "
    "dépôts. Le maire a demandé à l’État une aide d’urgence pour réparer le réseau d’eau "
    "potable. Selon l’hôpital régional, quarante-deux personnes ont été soignées pour des "
    "brûlures ou des fractures. Un cessez-le-feu avait déjà été conclu en août, mais il n’a "
    "tenu que trois jours – une « trêve de papier », selon un diplomate."
)

GERMAN = (
    "Die Bürgermeisterin äußerte sich am Dienstag überraschend deutlich zur geplanten "
    "Straßenbahn. Für die Verlängerung der Linie müssten nach Schätzungen der Stadtwerke rund "
    "48 Millionen € ausgegeben werden. „Wir können uns diese Verzögerung nicht länger "
    "leisten“, sagte sie vor dem Gemeinderat. Anwohner befürchten Lärm und höhere Mieten, "
    "während Händler auf mehr Kundschaft hoffen. Der Verkehrsausschuss soll im Frühjahr über "
    "die endgültige Trasse entscheiden. Gegner der Pläne haben bereits mehr als 6000 "
    "Unterschriften gesammelt. Die Grünen begrüßten den Vorstoß, forderten aber zusätzliche "
    "Fahrradwege entlang der Hauptstraße. Im Süden der Stadt wird außerdem ein neuer "
    "Busbahnhof gebaut, dessen Eröffnung für 2027 vorgesehen ist. Die Kosten dafür trägt zum "
    "größten Teil das Land; über den Rest wird im Haushaltsausschuss gestritten."
)

NORWEGIAN = (
    "Kafeeierne i Gjøvik sier at våpenhvilen holdt gjennom helgen. Ordføreren møtte "
    "representanter for næringslivet på rådhuset tirsdag ettermiddag. – Vi må sørge for at "
    "småbedriftene får støtte før vinteren, sa hun til lokalavisen. Strømprisene har økt "
    "kraftig siden i fjor, og mange butikker vurderer å redusere åpningstidene. "
    "Fylkeskommunen har satt av 12 millioner kroner til en ny ordning for bedrifter i "
    "distriktene. Søknadsfristen er satt til første desember. Flere innbyggere har klaget på "
    "at bussene går for sjelden på kveldstid, særlig i helgene. Styret i busselskapet skal "
    "behandle saken på neste møte, og en avgjørelse ventes før jul."
)

POLISH = (
    "Rząd zapowiedział w środę, że ceny energii zostaną zamrożone do końca przyszłego roku. "
    "Minister finansów przyznał, że koszt tej decyzji przekroczy dwadzieścia miliardów "
    "złotych. Przedsiębiorcy z małych miejscowości skarżą się, że rachunki za prąd wzrosły w "
    "ciągu roku niemal dwukrotnie. „Nie możemy czekać na kolejne obietnice” – powiedział "
    "właściciel piekarni z Łodzi. Opozycja żąda szczegółowego raportu o wydatkach i "
    "zapowiada złożenie wniosku o wotum nieufności. Według sondażu opublikowanego w czwartek "
    "większość Polaków uważa, że pomoc przyszła za późno. Samorządy apelują o dodatkowe "
    "środki na ogrzewanie szkół i szpitali."
)

CZECH = (
    "Vláda ve středu schválila návrh rozpočtu, který počítá se schodkem 230 miliard korun. "
    "Ministr financí řekl, že úspory se dotknou především provozních výdajů úřadů. Odbory "
    "varují, že zmrazení platů učitelů a zdravotníků povede k dalším odchodům ze škol a "
    "nemocnic. Příští týden se k návrhu vyjádří Poslanecká sněmovna. Podle průzkumu "
    "veřejného mínění většina občanů považuje zdražování za největší problém země. Starostové "
    "menších obcí žádají více peněz na opravy silnic a mostů. Ekonomové očekávají, že "
    "inflace začne klesat až na jaře."
)

RUSSIAN = (
    "Президент заявил во вторник, что перемирие в регионе соблюдается, несмотря на отдельные "
    "нарушения. По данным министерства обороны, ночью были обстреляны два пограничных села. "
    "Местные жители рассказали журналистам, что провели ночь в подвалах. «Мы не знаем, что "
    "будет завтра», — сказала учительница из соседнего посёлка. Переговоры должны "
    "возобновиться на следующей неделе в Женеве. Гуманитарные организации просят открыть "
    "безопасный коридор для эвакуации раненых. Стоимость восстановления жилья эксперты "
    "оценивают в несколько миллиардов рублей. Школы в приграничных районах закрыты уже "
    "третью неделю."
)

UKRAINIAN = (
    "Уряд у середу ухвалив рішення про підвищення мінімальної пенсії з першого січня. "
    "Міністр соціальної політики пояснив, що на це буде спрямовано понад дванадцять "
    "мільярдів гривень. Профспілки вважають, що це збільшення є недостатнім через високу "
    "інфляцію. Мешканці прифронтових громад скаржаться на перебої з електропостачанням і "
    "водою. Місцева влада обіцяє відновити пошкоджену підстанцію до кінця тижня. Волонтери "
    "продовжують збирати кошти на генератори для шкіл і лікарень. Її наступне засідання "
    "уряд проведе в понеділок."
)

BULGARIAN = (
    "Правителството одобри в сряда проектобюджета за следващата година, който предвижда "
    "по-високи заплати за учителите. Финансовият министър заяви, че дефицитът ще остане под "
    "три процента от брутния вътрешен продукт. Синдикатите настояват за повишаване и на "
    "пенсиите още от началото на годината. Кметовете на малките общини искат повече средства "
    "за ремонт на пътищата и училищата. Според последното проучване мнозинството от "
    "българите смятат, че цените растат твърде бързо. Депутатите ще обсъдят законопроекта на "
    "първо четене следващата седмица."
)

JAPANESE = (
    "政府は火曜日、来年度の予算案を閣議決定した。防衛費と社会保障費が過去最大となり、"
    "総額は百十二兆円を超える見通しだ。財務大臣は記者会見で「財政の健全化は引き続き重要な"
    "課題だ」と述べた。一方、野党は物価高への対策が不十分だとして反発している。"
    "東京のコンビニエンスストアでは、値上げの影響でおにぎりの販売数が減ったという。"
    "地方の自治体からは、人口減少に対応するための交付金の増額を求める声が相次いだ。"
    "専門家は、長期金利の上昇が今後の財政運営に影響を与える可能性があると指摘している。"
    "国会での審議は来月から始まる予定だ。"
)

CHINESE = (
    "国务院总理周二在北京主持召开常务会议，研究部署进一步稳定就业的措施。会议指出，今年以来"
    "经济运行总体平稳，但外部环境依然复杂严峻。各地要加大对中小企业的支持力度，落实减税降费"
    "政策，帮助企业渡过难关。会议还决定，将在部分城市试点扩大职业技能培训补贴范围。专家表示，"
    "这些措施有助于缓解高校毕业生的就业压力。据统计，今年全国高校毕业生人数预计将达到一千一百"
    "多万人，创历史新高。"
)

KOREAN = (
    "정부는 화요일 내년도 예산안을 국무회의에서 의결했다고 밝혔다. 전체 예산 규모는 올해보다 "
    "약 3 퍼센트 늘어난 것으로 알려졌다. 기획재정부 장관은 기자회견에서 재정 건전성을 유지하는 "
    "것이 가장 중요한 과제라고 강조했다. 야당은 서민 경제를 위한 지원이 부족하다며 반발하고 "
    "있다. 지방 자치단체들은 인구 감소에 대응하기 위한 교부금 확대를 요구했다. 전문가들은 금리 "
    "상승이 앞으로 재정 운영에 부담이 될 수 있다고 지적했다. 국회 심의는 다음 달부터 시작될 "
    "예정이다."
)

# encoding -> the languages written in it (koi8-r has no Ukrainian і, є, ї)
BY_ENCODING: dict[str, dict[str, str]] = {
    "cp1252": {"fr": FRENCH, "de": GERMAN, "no": NORWEGIAN},
    "latin-1": {"fr": FRENCH, "de": GERMAN, "no": NORWEGIAN},
    "iso-8859-2": {"pl": POLISH, "cs": CZECH},
    "cp1251": {"ru": RUSSIAN, "uk": UKRAINIAN, "bg": BULGARIAN},
    "koi8-r": {"ru": RUSSIAN, "bg": BULGARIAN},
    "shift_jis": {"ja": JAPANESE},
    "gb18030": {"zh": CHINESE},
    "euc-kr": {"ko": KOREAN},
}

LENGTHS = (50, 200, 2000)

# What a writer without the typographic characters of a code page types instead.
_PLAIN = {"’": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "–": "-", "—": "-",
          "€": "EUR"}


def typeable(text: str, encoding: str) -> str:
    """``text`` with the characters ``encoding`` lacks replaced as a typist would."""
    out = []
    for ch in text:
        try:
            ch.encode(encoding)
        except UnicodeEncodeError:
            ch = _PLAIN[ch]  # a KeyError here means a sample needs a letter the code page lacks
        out.append(ch)
    return "".join(out)


def cut(text: str, encoding: str, size: int) -> tuple[str, bytes]:
    """The longest run of whole words (of characters for CJK) from the start of
    ``text`` (repeated as needed) whose encoding fits in ``size`` bytes."""
    text = typeable(text, encoding)
    while len(text.encode(encoding)) < size:
        text = text + " " + text
    spaced = text.count(" ") > len(text) // 20
    lo, hi = 0, len(text)
    while hi - lo > 1:  # the longest prefix that fits
        mid = (lo + hi) // 2
        if len(text[:mid].encode(encoding)) <= size:
            lo = mid
        else:
            hi = mid
    prefix = text[:lo]
    if spaced and lo < len(text) and text[lo] != " " and " " in prefix:
        prefix = prefix[:prefix.rindex(" ")]
    prefix = prefix.rstrip()
    return prefix, prefix.encode(encoding)


def aeb_chunks(aeb_dir, seed: int = 3) -> list[tuple[str, int, bytes]]:
    """Real web text (the AEB pages under ``aeb_dir``) saved in cp1252 and
    latin-1 and cut anywhere to 50, 200 and 2,000 bytes: ``(encoding, size,
    chunk)`` for the chunks that are not valid UTF-8 (the ones a guess decides)."""
    import json
    import random
    from pathlib import Path

    bench = Path(aeb_dir)
    texts = [v["articleBody"] for v in json.loads((bench / "ground-truth.json").read_text("utf-8")).values()]
    texts += [v["articleBody"] for v in json.loads((bench / "html-text.json").read_text("utf-8"))["output"].values()]
    rng = random.Random(seed)
    out = []
    for encoding in ("cp1252", "latin-1"):
        for text in texts:
            data = text.encode(encoding, "replace")
            for size in (50, 200, 2000):
                start = rng.randrange(max(1, len(data) - size))
                chunk = data[start:start + size]
                try:
                    chunk.decode("utf-8")
                except UnicodeDecodeError:
                    out.append((encoding, size, chunk))
    return out
