"""The word banks, tables and patterns the simulated texts, accounts and rhythms are drawn from.

Pure data: changing any of it changes every simulation (and its fingerprint).
"""

from __future__ import annotations

import re
import string


def _bank(**slots: str) -> dict[str, tuple[str, ...]]:
    return {name: tuple(words.split("|")) for name, words in slots.items()}


_CHATTER = {
    "en": _bank(
        t="{excl}, {noun} is {adj} {when}|Just {verb} {obj} {place}. {excl}.|{when} I {verb} {obj} and "
          "honestly it was {adj}|Anyone else think {noun} is {adj}?|Feeling {feel} {when}. {noun} was "
          "{adj}|Can't stop thinking about {noun}, {adj}|{noun} {when}: {adj}|Finally {verb} {obj}! So "
          "{feel}|Why is {noun} always {adj}|Hot take: {noun} is {adj}|{excl} I {verb} {obj} {when} and "
          "now I'm {feel}|Thread on {noun} and why it's {adj} 🧵|Grateful for {noun} {when}|Is it just "
          "me or is {noun} {adj} {when}?|{noun} was {adj} but {noun} was {adj}|Note to self: {noun} "
          "is {adj}, {verb} {obj} instead",
        excl="Wow|Honestly|Ugh|Lol|Omg|Well|Okay|Seriously|Yes|Damn|So|Tbh|Not gonna lie",
        noun="coffee|the weather|this song|my phone|the new season|the game last night|traffic|my cat|"
             "my dog|this city|the train|work|the meeting|dinner|the match|the new album|this book|the "
             "movie|the beach|my neighbours|the election|prices|rent|the news|the team|the coach|pizza|"
             "the concert|the gym|my boss|the weekend|school|the exam|the rain|the sunset|the view|this "
             "app|the update|the internet|the league|the final|breakfast|the bus|my garden|the market|"
             "the festival|the playoffs|my commute|the podcast|the trailer|tacos|the heating bill",
        adj="amazing|terrible|so good|overrated|underrated|wild|beautiful|ridiculous|insane|perfect|"
            "boring|hilarious|so weird|unreal|brilliant|awful|fine I guess|a mess|incredible|too "
            "expensive|way better than expected|disappointing|lovely|chaotic|peak|mid|cursed|wholesome",
        verb="watched|finished|tried|found|cooked|bought|lost|fixed|missed|loved|read|booked|visited|"
             "started|ordered|binged|returned|painted|sold|rewatched",
        obj="a new recipe|the whole series|my keys|a great podcast|tickets for the show|a vintage lamp|"
            "the last chapter|a long walk|the wrong train|a new job|an old friend|the best burger in town|"
            "a tiny bookshop|my first marathon|a cheap flight|a broken bike|three plants|a weird documentary",
        when="today|tonight|this morning|last night|again|this week|right now|all day|finally|yesterday",
        place="downtown|at the station|at home|in the park|at work|on the way back|near the river|at my "
              "mum's|in the office|at the airport|at the gym|on the bus",
        feel="happy|tired|grateful|excited|annoyed|hungry|bored|proud|nervous|done|sleepy|confused"),
    "fr": _bank(
        t="{excl}, {noun} est {adj} {when}|J'ai {verb} {obj} {place}. {excl}.|{when} j'ai {verb} {obj} "
          "et franchement c'était {adj}|Je suis le seul à trouver {noun} {adj} ?|{excl}... {noun} {when}, "
          "c'est {adj}|Trop {feel} {when}, {noun} était {adj}|Avis perso : {noun} c'est {adj}|Pourquoi "
          "{noun} est toujours {adj} ?|Enfin {verb} {obj} ! Trop {feel}|{noun} {when} : {adj}|Petit thread "
          "sur {noun} et pourquoi c'est {adj} 🧵|{excl} {noun} {when}, je suis {feel}|Quelqu'un a vu "
          "{noun} {when} ? {adj}|J'ai {verb} {obj} {when}, {noun} était {adj}",
        excl="Franchement|Bon|Pfff|Mdr|Oh là là|Bref|Sérieux|Allez|Punaise|Ah|Ouf|Wesh|Bah",
        noun="le café|la météo|cette chanson|mon téléphone|la nouvelle saison|le match d'hier soir|les "
             "bouchons|mon chat|mon chien|cette ville|le train|le boulot|la réunion|le dîner|le nouvel "
             "album|ce livre|le film|la plage|mes voisins|les élections|les prix|le loyer|l'actu|l'équipe|"
             "l'entraîneur|la pizza|le concert|la salle de sport|mon chef|le week-end|l'école|l'examen|la "
             "pluie|le coucher de soleil|la vue|cette appli|la mise à jour|le championnat|la finale|le "
             "petit-déj|le bus|mon jardin|le marché|le festival|la grève|le périph|la rentrée|le RER",
        adj="incroyable|nul|trop bien|surcoté|sous-coté|magnifique|ridicule|dingue|parfait|chiant|"
            "hilarant|bizarre|génial|horrible|pas mal|n'importe quoi|trop cher|décevant|sympa|chaotique|"
            "top|énorme|grave|ouf",
        verb="regardé|fini|testé|trouvé|cuisiné|acheté|perdu|réparé|raté|adoré|lu|réservé|visité|"
             "commencé|commandé|revu|vendu",
        obj="une nouvelle recette|toute la série|mes clés|un super podcast|des places pour le concert|"
            "une vieille lampe|le dernier chapitre|une longue balade|le mauvais train|un nouveau boulot|"
            "un vieil ami|le meilleur burger de la ville|une petite librairie|mon premier marathon|un vol "
            "pas cher|un vélo cassé|trois plantes",
        when="aujourd'hui|ce soir|ce matin|hier soir|encore|cette semaine|là maintenant|toute la journée|"
             "enfin|hier",
        place="en centre-ville|à la gare|à la maison|au parc|au boulot|sur le chemin du retour|au bord "
              "de la Seine|chez ma mère|au bureau|à l'aéroport",
        feel="content|fatigué|reconnaissant|impatient|énervé|affamé|blasé|fier|stressé|épuisé|perdu"),
    "es": _bank(
        t="{excl}, {noun} está {adj} {when}|Acabo de ver {noun} y es {adj}|¿Soy el único que piensa que "
          "{noun} es {adj}?|{when} {noun}, {adj}|Qué {adj} {noun} {when}|{excl}... {noun} otra vez",
        excl="Madre mía|Bueno|Jajaja|Uf|Vaya|En serio|Hombre",
        noun="el café|el tiempo|esta canción|mi móvil|el partido|el tráfico|mi gato|el tren|el trabajo|"
             "la serie|el concierto|el alquiler|la playa|el examen|la final",
        adj="increíble|horrible|genial|raro|precioso|aburrido|caro|brutal|fatal|perfecto",
        when="hoy|esta noche|esta mañana|anoche|otra vez|esta semana|ahora mismo"),
    "de": _bank(
        t="{excl}, {noun} ist {adj} {when}|Hab gerade {noun} gesehen, {adj}|Bin ich der Einzige, der "
          "{noun} {adj} findet?|{noun} {when}: {adj}|{excl}... {noun} schon wieder",
        excl="Boah|Ehrlich|Na ja|Krass|Also|Puh",
        noun="der Kaffee|das Wetter|dieses Lied|mein Handy|das Spiel|der Verkehr|meine Katze|die Bahn|"
             "die Arbeit|die Serie|das Konzert|die Miete|das Finale",
        adj="super|furchtbar|genial|seltsam|wunderschön|langweilig|teuer|krass|perfekt",
        when="heute|heute Abend|heute Morgen|gestern|schon wieder|diese Woche|gerade"),
}
_GENERIC = {
    "en": _bank(t="Good morning!|Good morning everyone ☀️|Happy Friday!|lol|Same|This.|Thank you!|"
                  "Goodnight 🌙|😂😂😂|So true|Yes!!|Congrats!|Happy Monday|❤️|Facts"),
    "fr": _bank(t="Bonjour à tous|Bonne nuit|Bon week-end !|mdr|Merci !|Trop vrai|Bonne journée ☀️|"
                  "Bravo !|😂😂😂|Bon lundi"),
    "es": _bank(t="Buenos días|Buenas noches|Jajaja|Gracias!|😂😂😂"),
    "de": _bank(t="Guten Morgen|Gute Nacht|Danke!|😂😂😂|Schönes Wochenende"),
}
_TAGS = {
    "en": _bank(t="MondayMotivation|TBT|NowPlaying|football|music|travel|food|photography|AI|tech|"
                  "gaming|books|fitness|London|NYC|weekend|crypto|art|movies|nba|F1|climate"),
    "fr": _bank(t="Paris|foot|musique|cinéma|politique|voyage|cuisine|photo|tech|lecture|sport|météo|"
                  "grève|OM|PSG|jeuxvidéo|Lyon|Ligue1"),
    "es": _bank(t="futbol|música|Madrid|viajes|cine|LaLiga"),
    "de": _bank(t="Fußball|Musik|Berlin|Reisen|Kino|Bundesliga"),
}
_CAMPAIGN = {
    "en": _bank(
        t="{target} {claim}. {call}|BREAKING: {target} {claim}! {call}|The truth about {topic} they "
          "don't want you to see. {call}|{target} {praise}. {call}|Why is nobody talking about {topic}? "
          "{target} {claim}. {call}|Remember this when you vote: {target} {claim}. {call}|{target} "
          "{praise}. Proud to stand with them! {call}",
        target="Senator Kline|Governor Ashby|the Marlow administration|Mayor Ortega|the Unity Party|"
               "Vextra Energy|the city council|the health board|the mainstream media|Minister Hale",
        topic="the fuel tax|the pension reform|the border deal|the water plant|the stadium project|the "
              "vote count|the new school rules|the housing plan|the vaccine mandate|the bridge contract|"
              "energy prices|farm subsidies",
        claim="is lying to you about {topic}|wants to raise your taxes with {topic}|is hiding the real "
              "numbers on {topic}|got caught taking money over {topic}|just voted against you on {topic}|"
              "will destroy jobs with {topic}|refuses to answer questions about {topic}",
        praise="is delivering for working families on {topic}|just secured a huge win on {topic}|is the "
               "only one telling the truth about {topic}|stood up for us on {topic}",
        call="Share before it's deleted!|Wake up people!|RT if you agree.|Call your representative "
             "today.|Sign the petition now.|Don't let them silence us.|Spread the word.|They can't stop "
             "all of us.|Make this go viral."),
    "fr": _bank(
        t="{target} {claim}. {call}|URGENT : {target} {claim} ! {call}|La vérité sur {topic} qu'on vous "
          "cache. {call}|{target} {praise}. {call}|Pourquoi personne ne parle de {topic} ? {target} "
          "{claim}. {call}|Souvenez-vous-en dans l'isoloir : {target} {claim}. {call}",
        target="le ministre Berthier|la maire Duval|le gouvernement|le préfet Lemaire|Bruxelles|la "
               "presse du système|la députée Morel|le conseil régional",
        topic="la réforme des retraites|la taxe carbone|les chiffres du chômage|le nucléaire|le prix de "
              "l'essence|la 5G|le projet d'autoroute|les subventions agricoles|la loi sécurité|le budget "
              "des hôpitaux",
        claim="vous ment sur {topic}|cache les vrais chiffres sur {topic}|veut encore augmenter vos "
              "impôts avec {topic}|a été pris la main dans le sac sur {topic}|vient de voter contre vous "
              "sur {topic}|refuse de répondre sur {topic}",
        praise="tient ses promesses sur {topic}|est le seul à dire la vérité sur {topic}|a obtenu une "
               "victoire historique sur {topic}",
        call="Partagez avant la censure !|Réveillez-vous !|RT si vous êtes d'accord.|Signez la pétition."
             "|Faites tourner !|Ne les laissez pas nous faire taire.|Diffusez massivement !"),
    "es": _bank(
        t="{target} {claim}. {call}|URGENTE: {target} {claim}. {call}|La verdad sobre {topic} que no "
          "quieren que veas. {call}",
        target="el ministro Rivas|la alcaldesa Soler|el gobierno|los medios",
        topic="la reforma de las pensiones|el precio de la luz|el nuevo impuesto|las cifras del paro",
        claim="te miente sobre {topic}|oculta los datos reales de {topic}|votó contra ti en {topic}",
        call="¡Compártelo antes de que lo borren!|¡Despierta!|RT si estás de acuerdo.|¡Difunde!"),
}
_PROMO = {
    "en": _bank(
        t="Huge news! {coin} is listed on {exchange} today 🚀 {buy}|{coin} to the moon 🚀🚀 Don't miss "
          "the presale. {buy}|Get {pct}% off {product} today only! {buy}|I made {pct}0 dollars in a week "
          "with {coin}. {buy}",
        coin="$VEXA|$MOONR|$GLDX|$PEPL|$ORBT", exchange="Binext|CoinPark|Kryptos",
        product="SlimTea|the NovaPhone X|FitBand Pro|LuxeWatch", pct="20|30|40|50|70",
        buy="Link below 👇|Claim yours now|Limited spots|Don't miss out|DM me"),
}
_REPLIES = {
    "en": _bank(t="You should be ashamed|Liar. Everyone knows the truth about {topic}|Resign!|Nobody "
                  "believes you anymore|Fake news as usual|Stop lying about {topic}|Another lie|Traitor|"
                  "Do your job|Pathetic|Thank you, we stand with you!|Great job, keep going 💪|Proud of "
                  "you|Delete this|Answer the question about {topic}",
                topic="|".join(_CAMPAIGN["en"]["topic"])),
    "fr": _bank(t="Menteur !|Démission !|Honte à vous|Personne ne vous croit|Arrêtez de mentir sur "
                  "{topic}|Encore un mensonge|Vous êtes la honte de ce pays|Merci, on est avec vous !|"
                  "Bravo, continuez 💪|Répondez sur {topic}",
                topic="|".join(_CAMPAIGN["fr"]["topic"])),
    "es": _bank(t="¡Mentiroso!|¡Dimisión!|Qué vergüenza|Nadie te cree|Gracias, estamos contigo"),
}
_REACTIONS = {
    "en": _bank(
        t="{name} just {did}. {excl}|Who's winning this? I'd say {name}|This is {adj} television|{excl} "
          "did {name} really just do that?|Can't believe I'm watching this|{name} looks {adj} tonight|"
          "Okay {name} won that round|Not {name} {did} again 🙄|{excl} {excl}|{adj}. Just {adj}.|My "
          "whole timeline is {name} right now|Drinking game: every time {name} {did}",
        name="", did="dodged the question|interrupted again|nailed it|lost it|made a huge mistake|"
                     "landed a great line|went off script|scored|missed a sitter",
        excl="Wow|Omg|Lmao|Yikes|Come on|Unreal|LOL", adj="painful|amazing|chaotic|embarrassing|"
                                                        "incredible|boring|electric|wild"),
    "fr": _bank(
        t="{name} vient de {did}. {excl}|Qui gagne là ? Je dirais {name}|{excl}, c'est {adj}|{name} "
          "a l'air {adj} ce soir|Bon, {name} a gagné ce round|Pas encore {name} qui {did2} 🙄|{excl} "
          "{excl}|Ma TL c'est que {name} ce soir|{adj}. Juste {adj}.",
        name="", did="esquiver la question|couper la parole|tout déchirer|perdre ses moyens|marquer|"
                     "rater l'immanquable",
        did2="esquive la question|coupe la parole|perd ses moyens|rate tout",
        excl="Wow|Mdr|Oh là là|Allez|Incroyable|Pfff", adj="gênant|incroyable|chaotique|nul|énorme|"
                                                           "électrique"),
    "es": _bank(t="{name} acaba de {did}. {excl}|¿Quién gana? Yo digo {name}|{excl}, qué {adj}",
                name="", did="marcar|fallar|esquivar la pregunta|perder los nervios",
                excl="Madre mía|Jajaja|Vamos|Increíble", adj="partido|desastre|locura"),
}
_EVENTS = (  # language, hashtag, side tags, names
    ("en", "Debate2024", ("Kline", "Ashby"), ("Kline", "Ashby", "the moderator")),
    ("en", "Eurovision", ("Eurovision2024", "ESC"), ("Sweden", "Italy", "the UK entry")),
    ("en", "FinalNight", ("Rovers", "United"), ("Rovers", "United", "the ref")),
    ("fr", "LeDébat", ("Berthier", "Morel"), ("Berthier", "Morel", "le présentateur")),
    ("fr", "OLOM", ("TeamOL", "TeamOM"), ("l'OL", "l'OM", "l'arbitre")),
    ("es", "ElClasico", ("HalaMadrid", "ForçaBarça"), ("el Madrid", "el Barça", "el árbitro")),
)
_QUOTES = (
    ("en", "The only thing we have to fear is fear itself.", "Franklin D. Roosevelt"),
    ("en", "Be the change you wish to see in the world.", "Gandhi"),
    ("en", "In the middle of difficulty lies opportunity.", "Albert Einstein"),
    ("en", "It always seems impossible until it's done.", "Nelson Mandela"),
    ("en", "Injustice anywhere is a threat to justice everywhere.", "Martin Luther King Jr."),
    ("en", "Not all those who wander are lost.", "J.R.R. Tolkien"),
    ("fr", "On ne voit bien qu'avec le cœur. L'essentiel est invisible pour les yeux.",
     "Antoine de Saint-Exupéry"),
    ("fr", "Il faut cultiver notre jardin.", "Voltaire"),
    ("fr", "Je pense, donc je suis.", "Descartes"),
    ("es", "Caminante, no hay camino, se hace camino al andar.", "Antonio Machado"),
    ("de", "Was mich nicht umbringt, macht mich stärker.", "Friedrich Nietzsche"),
)
_HEADLINES = {
    "en": _bank(
        t="{n} things to know about {topic}|{place} braces for {weather} this weekend|Study finds "
          "{finding}|{org} announces {n}00 new jobs in {place}|Why {topic} matters more than ever|Inside "
          "the {adj} rise of {thing}|Police investigate {incident} in {place}|{team} beat {team} {score} "
          "in {adj} final|What {topic} means for your wallet|Opinion: {topic} is {adj}|Review: {thing} "
          "is {adj}|{place} council approves plan on {topic}|Live: {weather} hits {place}",
        n="3|5|7|10|12|15|20", place="Leeds|Bristol|Denver|Austin|Cardiff|Ohio|Glasgow|Portland|Oakland|"
                                     "Dublin|Perth|Boston",
        weather="heavy snow|a heatwave|storms|floods|strong winds", org="Vextra Energy|Nimbus Labs|the "
        "Royal Bank|Orbis Air|GreenCart",
        finding="coffee may protect the heart|teens sleep less than ever|city trees cut heat by 5 "
                "degrees|remote work boosts productivity|most people misjudge their screen time",
        topic="the new budget|interest rates|the housing crisis|the rail strike|the fuel tax|AI in "
              "schools|the heatwave|the pension reform",
        thing="padel|electric scooters|sourdough|vinyl records|micro-apartments|AI chatbots|night trains",
        incident="a string of burglaries|a suspicious fire|a cyber attack|a hit-and-run",
        team="Rovers|United|City|the Hawks|the Lions|Athletic", score="2-1|3-0|1-0|4-2|2-2",
        adj="surprising|remarkable|messy|quiet|unlikely|dramatic"),
    "fr": _bank(
        t="{n} choses à savoir sur {topic}|{place} : alerte {weather} ce week-end|Une étude révèle que "
          "{finding}|{org} annonce {n}00 emplois à {place}|Pourquoi {topic} inquiète les Français|"
          "Enquête : {topic}, le grand malaise|{place} : {incident}, une enquête ouverte|Réforme : ce qui "
          "change pour {who} au 1er {month}|{team} s'impose {score} face à {team}|Tribune : {topic}, une "
          "erreur {adj}",
        n="3|5|7|10|12|15", place="Lyon|Marseille|Nantes|Lille|Bordeaux|Rennes|Toulouse|Strasbourg|Nice|"
                                  "Grenoble",
        weather="orages|canicule|neige|inondations|vents violents", org="Vextra Énergie|la SNCF|Orbis "
                                                                       "Air|GreenCart",
        finding="les Français dorment moins|le télétravail améliore la productivité|les arbres "
                "rafraîchissent les villes|les jeunes lisent plus qu'avant",
        topic="le budget|les taux d'intérêt|la crise du logement|la grève SNCF|la taxe carbone|l'IA à "
              "l'école|la réforme des retraites",
        who="les retraités|les locataires|les étudiants|les automobilistes|les fonctionnaires",
        month="janvier|mars|juillet|septembre", incident="un incendie suspect|une série de cambriolages|"
                                                          "une cyberattaque",
        team="l'OL|le RC Lens|le Stade rennais|le FC Nantes", score="2-1|3-0|1-0|2-2",
        adj="historique|inévitable|absurde|coûteuse"),
    "es": _bank(t="{n} claves sobre {topic}|{place}: alerta por {weather}|Un estudio revela que "
                  "{finding}|{place} aprueba el plan de {topic}",
                n="3|5|7|10", place="Sevilla|Valencia|Bilbao|Málaga|Zaragoza", weather="tormentas|calor|"
                "nieve|inundaciones", finding="dormimos menos que nunca|el teletrabajo mejora la "
                "productividad", topic="el presupuesto|la vivienda|la huelga de trenes|los tipos de "
                                       "interés"),
    "de": _bank(t="{n} Dinge, die man über {topic} wissen muss|{place}: Warnung vor {weather}|Studie: "
                  "{finding}|{place} beschließt Plan zu {topic}",
                n="3|5|7|10", place="Köln|Hamburg|Leipzig|Dresden|Bremen", weather="Unwetter|Hitze|"
                "Schnee|Hochwasser", finding="wir schlafen weniger denn je|Homeoffice steigert die "
                "Produktivität", topic="den Haushalt|die Mieten|den Bahnstreik|die Zinsen"),
}
_SYNONYMS = {
    "en": (("lying to you", "deceiving you", "misleading you"), ("truth", "facts", "reality"),
           ("hiding", "covering up", "concealing"), ("Share", "Spread", "Repost"),
           ("people", "everyone", "folks"), ("huge", "massive", "big"), ("Wake up", "Open your eyes"),
           ("today", "right now", "now"), ("just", "really just"), ("the real numbers", "the data")),
    "fr": (("vous ment", "vous trompe", "vous manipule"), ("vérité", "réalité"),
           ("cache", "dissimule", "planque"), ("Partagez", "Diffusez", "Faites tourner"),
           ("Réveillez-vous", "Ouvrez les yeux"), ("URGENT", "ALERTE", "IMPORTANT")),
    "es": (("te miente", "te engaña"), ("verdad", "realidad"), ("Compártelo", "Difúndelo")),
}
_EMOJI = tuple("😂 🔥 👏 🙏 😡 💯 👀 ❤️ ✅ 😢 🤔 😍 🙄 💪 📢 👉 ⚠️ 🚨 🇫🇷 🇺🇸".split())
_PREFIXES = {"en": ("BREAKING:", "⚠️", "Must watch 👉", "READ THIS:", "🚨🚨", "Important:"),
             "fr": ("⚠️", "À LIRE :", "🚨🚨", "Important :", "Regardez 👉"),
             "es": ("⚠️", "URGENTE:", "🚨🚨")}
_TAG_PARTS = (("Stop", "No", "Boycott", "Vote", "Save", "Justice", "Defend", "Ban", "Truth", "Free",
               "Resist", "WakeUp"),
              ("FuelTax", "Kline", "Ashby", "PensionReform", "OurFarmers", "Retraites", "Berthier",
               "Duval", "TaxeCarbone", "5G", "OurBorders", "Vextra", "TheVote", "Nucleaire", "Rivas",
               "Marlow", "Hale", "Ortega", "OurWater", "Morel", "Lemaire"))
_TOOLS = ("Twitpop", "TweetDeck", "Hootsuite Inc.", "Buffer", "twittbot.net", "Phone2Action",
          "Cheap Bots, Done Quick!", "ActionKit Tweets", "SocialOomph", "Twitter for Android")
_CLIENTS = (("Twitter for iPhone", 38), ("Twitter for Android", 35), ("Twitter Web App", 20),
            ("Twitter for iPad", 4), ("TweetDeck", 3))
_AUTOMATION = ("IFTTT", "Buffer", "Hootsuite Inc.", "dlvr.it", "WordPress.com")
_LANGS = (("en", 58), ("fr", 27), ("es", 9), ("de", 6))
_CAMPAIGN_LANGS = (("en", 55), ("fr", 33), ("es", 12))
_OFFSETS = {"en": (-8, -7, -6, -5, -5, -5, 0, 0, 0, 1, 10), "fr": (1, 1, 1, 1, 1, 0, -5),
            "es": (1, 1, 1, -3, -5, -6), "de": (1, 1, 1, 1, 2)}
_FIRST = {"en": "james|emma|olivia|liam|noah|ava|mia|lucas|ethan|chloe|jack|grace|ryan|sophie|megan|"
                "tyler|kayla|josh|amber|kevin|lisa|mark|sarah|tom|kate|dan|amy|ben|zoe|sam",
          "fr": "camille|lea|manon|hugo|louis|chloe|theo|lucie|julien|mathieu|pauline|nicolas|antoine|"
                "claire|thomas|marie|juliette|maxime|sophie|romain|elodie|quentin|laura|baptiste|ines",
          "es": "carlos|lucia|javier|maria|sofia|diego|pablo|elena|alba|jorge|marta|sergio",
          "de": "lukas|lena|jonas|hannah|felix|anna|paul|laura|leon|marie|jan|sarah"}
_LAST = {"en": "smith|jones|brown|taylor|miller|wilson|davis|clark|lewis|walker|hall|young|king|wright|"
               "scott|green|baker|adams|hill|ward",
         "fr": "martin|bernard|dubois|thomas|robert|richard|petit|durand|leroy|moreau|simon|laurent|"
               "lefebvre|michel|garcia|david|bertrand|roux|vincent|fournier",
         "es": "garcia|lopez|martinez|sanchez|perez|gomez|ruiz|diaz|moreno|alonso",
         "de": "muller|schmidt|schneider|fischer|weber|meyer|wagner|becker|hoffmann"}
_HANDLE_WORDS = ("sun moon pixel coffee wolf tiger star blue red dream urban happy lazy wild night ocean "
                 "forest retro cosmic tiny big real just the mr miss dr official daily crazy patriot "
                 "free proud true").split()
_RHYTHMS = {
    "day": (2.5, 1.5, .9, .6, .5, .7, 1.4, 2.8, 4.2, 4.8, 5, 5.4, 6, 5.6, 5, 5, 5.4, 5.9, 6.3, 6.9, 7.4,
            7.2, 6, 4.2),
    "owl": (6, 5, 4, 2.5, 1.2, .6, .4, .5, .9, 1.5, 2.5, 3.4, 4, 4.2, 4.4, 4.6, 5, 5.4, 5.8, 6.2, 6.6,
            7, 7.2, 7),
    "office": (.2,) * 8 + (5.0,) * 10 + (.6,) * 6,
    "flat": (1.0,) * 24,
}
_ALNUM = string.ascii_letters + string.digits
_SLOT = re.compile(r"\{(\w+)\}")
_TCO = re.compile(r"https://t\.co/\w{10}")
