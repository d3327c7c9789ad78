"""The words mail clients put where earlier mail begins, in the languages they ship.

Data only: bot/mail/reply_headers.py builds its tests from these. The verbs are plain
words separated by "|"; the labels, names and phrases are regex alternations, matched
case-insensitively. Add a language's words here; the structure around them (a date, an
address, a colon, position) is reply_headers' business.
"""

# The words are in Cyrillic, Greek, Turkish and other scripts whose letters ruff takes for
# look-alikes of Latin ones.
# ruff: noqa: RUF001

# Verbs of writing in reply headers ("Ann wrote:", "a écrit", "schrieb", "napisał(a)"),
# looked up as words: one or two words each.
WRITING_VERBS = (
    "wrote|writes|a écrit|écrit|escribió|escribio|escribiu|ha escrit|va escriure|ha scritto|"
    "scrisse|escreveu|schrieb|geschrieben|schreef|geschreven|napisał|napisała|napisana|"
    "napisal|napisala|pisze|skrev|kirjoitti|kirjutas|rakstīja|rašė|skrifaði|napsal|napsala|"
    "napísal|napísala|írta|написал|написала|написав|написао|написа|пише|пишет|"
    "yazdı|έγραψε|a scris|napisao|menulis|đã viết|كتب|כתב|נכתב|idatzi|sumulat|verzond|"
    "nadesłał|nadesłała|напісаў|напісала|geskryf|ysgrifennodd|aliandika|نوشت|لکھا|লিখেছেন|"
    "ने लिखा|"
    "quoting|zitat von|citando|citant|cytuję|excerpts from"
)
# Scripts written without spaces: looked for anywhere in the text.
UNSPACED_WRITING_VERBS = (
    "写道",
    "寫道",
    "작성",
    "쓴 글",
    "のメッセージ",
    "のメール",
    "書きました",
    "เขียน",
)
# The label of the sender's line in a header block ("From:", "De :", "Von:", "发件人").
FROM_LABELS = (
    r"from|de|de la|von|van|da|fra|från|frá|od|от|від|lähettäjä|feladó|kimden|afzender|"
    r"expéditeur|remitente|odesílatel|odosielateľ|από|từ|dari|מאת|من|发件人|寄件者|寄件人|"
    r"差出人|보낸 사람|發件人"
)
# When and what: the labels that make "From:" a header block rather than a note the
# customer typed ("From: Grandma / To: Lily / Message: ..." on a gift card).
SENT_OR_SUBJECT_LABELS = (
    r"sent|date|subject|envoyé|envoyé le|objet|gesendet|datum|betreff|verzonden|onderwerp|"
    r"inviato|data|oggetto|enviado|enviado el|enviada|enviada em|asunto|fecha|assunto|"
    r"wysłano|wysłane|temat|sendt|emne|dato|skickat|ämne|odesláno|odoslané|předmět|predmet|"
    r"elküldve|tárgy|dátum|trimis|subiect|lähetetty|aihe|päivämäärä|отправлено|надіслано|"
    r"тема|дата|gönderildi|gönderilme tarihi|konu|tarih|στάλθηκε|θέμα|ημερομηνία|đã gửi|"
    r"chủ đề|ngày|dikirim|perihal|subjek|tanggal|נשלח|נושא|תאריך|تم الإرسال|الموضوع|التاريخ|"
    r"发送时间|日期|时间|主题|寄件日期|主旨|發送時間|主題|送信日時|件名|보낸 날짜|제목|날짜|"
    r"message du"
)
# The other labels of a header block: recipients and the rest.
OTHER_LABELS = (
    r"to|cc|à|a|an|kopie|aan|para|do|dw|til|till|kopia|komu|címzett|către|vastaanottaja|"
    r"кому|копия|копія|kime|bilgi|προς|đến|kepada|אל|إلى|收件人|抄送|收件者|副本|宛先|받는 사람|"
    r"참조|copie à|organization|organisation|organización|kopi|vedhæftet|importance|priority|"
    r"reply-to|bcc"
)
# The names of the rule over a quoted original ("-----Original Message-----").
ORIGINAL_MESSAGE_NAMES = (
    r"original message|reply message|forwarded message|original|antwort nachricht|"
    r"original-nachricht|původní e-mail|원본 메일|"
    r"ursprüngliche nachricht|weitergeleitete nachricht|message d'origine|message transféré|"
    r"mensaje original|mensaje reenviado|messaggio originale|messaggio inoltrato|"
    r"oorspronkelijk bericht|doorgestuurd bericht|ursprungligt meddelande|"
    r"opprinnelig melding|oprindelig meddelelse|originalnachricht|alkuperäinen viesti|"
    r"wiadomość oryginalna|"
    r"původní zpráva|исходное сообщение|пересылаемое сообщение|mensagem original|"
    r"mensagem encaminhada|mail original|message original|ursprüngliche mail|"
    r"originalna poruka|oryginalna wiadomość|pôvodná správa|eredeti üzenet|mesaj original|"
    r"orijinal mesaj|αρχικό μήνυμα|оригинальное сообщение|вихідне повідомлення|"
    r"ההודעה המקורית|الرسالة الأصلية|tin nhắn gốc|pesan asli|原始邮件|原始郵件|原始信件|"
    r"原邮件|原郵件|元のメッセージ|원본 메시지|원래 메시지|originalmeddelande|oprindelig besked|"
    r"原始訊息|thư gốc|הודעה מקורית|ข้อความต้นฉบับ|ข้อความดั้งเดิม|оригінальне повідомлення|"
    r"початкове повідомлення|izvorna poruka|оригинално съобщение|оригинална порука|"
    r"missatge original|özgün ileti|pradinis pranešimas|sākotnējais ziņojums|algsõnum|"
    r"izvirno sporočilo|origineel bericht"
)
# Helpdesks' "reply above this line", in the languages helpdesks write it.
ABOVE_THIS_LINE = (
    r"above this line|(?:reply|write|type|respond|answer)\w*+\s++(?:\w++\s++)?above\b|"
    r"über dieser zeile|oberhalb dieser zeile|au-dessus de cette ligne|"
    r"encima de esta l[ií]nea|sopra questa (?:riga|linea)|boven deze (?:regel|lijn)|"
    r"acima desta linha|ovanför (?:denna|den här) rad|over denne linj|"
    r"tämän rivin yläpuolel|(?:nad|powyżej) t(?:ą|ej) lini|nad tímto řádkem|"
    r"(?:над|выше) этой строк|bu satırın üst|この行より上|此行以上|在此行上方|이 줄 위에"
)
