"""A seeded, labeled simulator of a Twitter dump: coordinated campaigns hidden among organic crowds.

``simulate(params)`` returns posts, accounts and one ``Truth`` row per account. Coordinated kinds:
relay, paraphrase ring, co-repost ring, link push, hashtag push, slow ring, reply ring. Organic
look-alikes that must not be flagged: viral repost cascades, share-button crowds, live-event hashtag
crowds, famous quotes, over background chatter. Every size, timing, mutation rate, client mix and
account-age pattern is drawn per scenario, so no single pattern is there to overfit.

Determinism: each phase draws from its own ``random.Random(f"{seed}:{phase}")`` (string seeds are
hashed with SHA-512, not ``hash()``), and nothing iterates over a set.

The module is past the ~300 lines STYLE.md asks a second look for: it was asked for as one file.
The natural split is text banks / accounts / organic crowds / campaigns.
"""

from __future__ import annotations

import bisect
import csv
import heapq
import math
import random
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import TextIO

from detector.dumps import snowflake
from detector.ingest.fields import FieldError, clean_id
from detector.records import Account, Post

PLATFORM = "twitter"
COORDINATED_KINDS = ("relay", "paraphrase_ring", "corepost_ring", "link_push", "hashtag_push",
                     "slow_ring", "reply_ring")
CROWD_KINDS = ("famous_quote", "live_event", "share_button", "viral_cascade")  # label priority on ties
ORGANIC_KINDS = ("background", *CROWD_KINDS)
TRUTH_HEADER = ("platform", "account_id", "coordinated", "scenario", "campaign")

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass(frozen=True)
class SimulationParams:
    """What to simulate; ``scale`` multiplies both the number and the size of scenarios."""

    seed: int = 1
    accounts: int = 2000            # organic accounts (coordinated accounts are added on top)
    days: int = 7
    posts_per_account: float = 8.0  # mean organic background posts per account over the period
    scale: float = 1.0              # multiplies the number and size of scenarios
    start: datetime = datetime(2024, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Truth:
    """The label of one account."""

    platform: str
    account_id: str
    coordinated: bool
    scenario: str          # a COORDINATED_KINDS or ORGANIC_KINDS name
    campaign: str | None   # campaign id for coordinated accounts, None for organic


@dataclass(frozen=True)
class Simulation:
    """Posts sorted by time (snowflake ids consistent with ``created_at``), accounts, labels."""

    posts: list[Post]
    accounts: dict[str, Account]
    truth: list[Truth]
    params: SimulationParams


# --- text banks ------------------------------------------------------------------------------

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


# --- small random helpers --------------------------------------------------------------------

def _rng(params: SimulationParams, phase: str) -> random.Random:
    return random.Random(f"{params.seed}:{phase}")


def _pick(rng: random.Random, table: Sequence[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in table], [w for _, w in table])[0]


def _count(rng: random.Random, low: float, high: float, factor: float) -> int:
    """At least one; on average ``uniform(low, high) * factor``, rounded at random."""
    value = rng.uniform(low, high) * factor
    return max(1, int(value) + (rng.random() < value % 1))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _fill(rng: random.Random, template: str, bank: dict[str, tuple[str, ...]]) -> str:
    """Fill ``{slot}`` placeholders from ``bank``, recursively (a filler may hold slots)."""
    return _SLOT.sub(lambda m: _fill(rng, rng.choice(bank[m.group(1)]), bank), template)


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(_ALNUM, k=length))


def _tco(rng: random.Random) -> str:
    return "https://t.co/" + _token(rng, 10)


def _weighted_sample(rng: random.Random, items: Sequence[_Member], weights: Sequence[float],
                     k: int) -> list[_Member]:
    """``k`` distinct items, each drawn with probability proportional to its weight."""
    keys = ((rng.random() ** (1.0 / w), i) for i, w in enumerate(weights) if w > 0)
    return [items[i] for _, i in heapq.nlargest(k, keys)]


@lru_cache(maxsize=512)
def _hours(profile: str, offset: int) -> tuple[float, ...]:
    """Cumulative weights of the 24 UTC hours for a local-time rhythm ``offset`` hours from UTC."""
    local = _RHYTHMS[profile]
    return tuple(accumulate(local[(hour + offset) % 24] for hour in range(24)))


def _at(rng: random.Random, hours: tuple[float, ...], day: int) -> int:
    """A moment (ms from the start) on ``day`` at an hour drawn from ``hours``."""
    hour = bisect.bisect_right(hours, rng.random() * hours[-1])
    return day * DAY + min(hour, 23) * HOUR + rng.randrange(HOUR)


# --- accounts --------------------------------------------------------------------------------

@dataclass(slots=True)
class _Member:
    """An account while it is being simulated; becomes an ``Account`` and a ``Truth`` at the end."""

    account_id: str
    handle: str
    name: str
    created_at: datetime
    followers: int
    following: int
    lang: str
    hours: tuple[float, ...]
    clients: tuple[str, ...]
    client_weights: tuple[float, ...]
    activity: float
    repost_share: float = 0.3
    reply_share: float = 0.1
    link_share: float = 0.15
    tag_share: float = 0.15
    leaning: str = "background"
    campaign: str | None = None
    scenario: str = "background"
    crowds: Counter[str] = field(default_factory=Counter)
    posts: int = 0

    def client(self, rng: random.Random) -> str:
        return rng.choices(self.clients, self.client_weights)[0]


def _handle(rng: random.Random, lang: str, style: str) -> str:
    first = rng.choice(_FIRST[lang].split("|"))
    last = rng.choice(_LAST[lang].split("|"))
    word = rng.choice(_HANDLE_WORDS)
    if style == "default":  # what the sign-up form proposes: Name12345678
        return f"{first.capitalize()}{rng.randrange(10**7, 10**8)}"
    if style == "pattern":
        return f"{word}_{first}_{rng.randrange(10, 100)}"
    patterns = (f"{first}{last}", f"{first}_{last}", f"{first.capitalize()}{last.capitalize()}",
                f"{first}{last}{rng.randrange(70, 100)}", f"{word}{rng.choice(_HANDLE_WORDS)}",
                f"{word}_{first}", f"{first}{rng.randrange(1, 9999)}", f"_{first}{last[:3]}_",
                f"{first[0]}{last}", f"{first.capitalize()}_{rng.randrange(1, 100)}")
    return rng.choice(patterns)


def _display_name(rng: random.Random, handle: str) -> str:
    letters = "".join(c for c in handle if c.isalpha())
    roll = rng.random()
    if roll < 0.6:
        return letters.capitalize()[:20] or handle
    if roll < 0.8:
        return f"{letters.capitalize()[:14]} {rng.choice(_EMOJI)}"
    return handle


def _account_id(rng: random.Random, created: datetime) -> str:
    """Sequential-looking ids before 2014, snowflakes after, as on Twitter."""
    if created.year >= 2014:
        return snowflake(created, rng.getrandbits(22))
    years = (created - datetime(2007, 1, 1, tzinfo=UTC)).total_seconds() / (7 * 365.25 * 86400)
    return str(int(1_000_000 + max(0.0, years) * 2_300_000_000) + rng.randrange(1_000_000))


def _clients(rng: random.Random, automated: bool) -> tuple[tuple[str, ...], tuple[float, ...]]:
    main = rng.choice(_AUTOMATION) if automated else _pick(rng, _CLIENTS)
    if rng.random() < 0.3:
        return (main, _pick(rng, _CLIENTS)), (0.85, 0.15)
    return (main,), (1.0,)


# --- the world being built -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Content:
    text: str
    lang: str | None
    urls: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()


@dataclass(slots=True)
class _World:
    params: SimulationParams
    start: datetime
    end: int                                  # ms after start; posts at or after are dropped
    members: list[_Member] = field(default_factory=list)
    organic: list[_Member] = field(default_factory=list)
    popular: list[_Member] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    pool: list[Post] = field(default_factory=list)       # background originals, in time order
    handles: set[str] = field(default_factory=set)
    account_ids: set[str] = field(default_factory=set)
    post_ids: set[str] = field(default_factory=set)
    reposted: set[tuple[str, str]] = field(default_factory=set)
    campaigns: list[_Campaign] = field(default_factory=list)
    outlets: list[_Outlet] = field(default_factory=list)
    _crowd_weights: dict[tuple[str, str | None], list[float]] = field(default_factory=dict)

    @property
    def weeks(self) -> float:
        return self.params.days / 7

    @property
    def crowd_factor(self) -> float:
        return math.sqrt(self.params.scale * self.weeks)

    @property
    def ring_count_factor(self) -> float:
        return float(self.params.scale ** 0.7 * self.weeks ** 0.1)

    @property
    def ring_size_factor(self) -> float:
        return float(self.params.scale ** 0.25)

    @property
    def occasion_factor(self) -> float:
        return float(self.weeks ** 0.4)

    def crowd_weights(self, kind: str, lang: str | None) -> list[float]:
        """Cumulative weights of organic accounts for a ``kind`` crowd speaking ``lang``."""
        key = (kind, lang)
        if key not in self._crowd_weights:
            self._crowd_weights[key] = list(accumulate(
                math.sqrt(m.activity + 0.5) * (5.0 if m.leaning == kind else 1.0)
                * (1.0 if lang is None or m.lang == lang else 0.15) for m in self.organic))
        return self._crowd_weights[key]

    def unique_handle(self, rng: random.Random, base: str) -> str:
        handle = base[:15]
        while handle.lower() in self.handles:
            suffix = str(rng.randrange(10, 10_000))
            handle = base[:15 - len(suffix)] + suffix
        self.handles.add(handle.lower())
        return handle

    def unique_account_id(self, rng: random.Random, created: datetime) -> str:
        while (account_id := _account_id(rng, created)) in self.account_ids:
            pass
        self.account_ids.add(account_id)
        return account_id

    def add(self, member: _Member) -> _Member:
        self.members.append(member)
        if member.campaign is None:
            self.organic.append(member)
        return member

    def emit(self, rng: random.Random, member: _Member, at: int, content: _Content, *,
             client: str | None = None, repost_of: str | None = None, reply_to: str | None = None,
             quote_of: str | None = None) -> Post | None:
        """Publish a post ``at`` ms after the start; ``None`` when that is outside the period."""
        if not 0 <= at < self.end:
            return None
        moment = self.start + timedelta(milliseconds=at)
        while (post_id := snowflake(moment, rng.getrandbits(22))) in self.post_ids:
            pass
        self.post_ids.add(post_id)
        post = Post(PLATFORM, post_id, member.account_id, moment, content.text, member.handle,
                    repost_of, reply_to, quote_of, content.urls, content.hashtags, content.mentions,
                    content.lang, client or member.client(rng))
        self.posts.append(post)
        member.posts += 1
        return post


# --- composing texts -------------------------------------------------------------------------

def _compose(rng: random.Random, body: str, lang: str | None, *, tags: Sequence[str] = (),
             urls: Sequence[str] = (), mentions: Sequence[str] = ()) -> _Content:
    """A post text with its entities: tags at the start or end, mentions and t.co links appended."""
    tag_text = " ".join(f"#{t}" for t in tags)
    links = " ".join(_tco(rng) for _ in urls)
    pieces = [body[:200]]
    if mentions:
        pieces.append(("cc " if rng.random() < 0.5 else "") + " ".join(f"@{m}" for m in mentions))
    if tag_text and rng.random() < 0.15:
        pieces.insert(0, tag_text)
    elif tag_text:
        pieces.append(tag_text)
    if links:
        pieces.insert(len(pieces) - (1 if tag_text and rng.random() < 0.3 else 0), links)
    return _Content(" ".join(p for p in pieces if p), lang, tuple(urls), tuple(tags), tuple(mentions))


def _chatter(rng: random.Random, lang: str) -> str:
    if rng.random() < 0.03:
        return rng.choice(_GENERIC[lang]["t"])
    bank = _CHATTER[lang]
    text = _fill(rng, rng.choice(bank["t"]), bank)
    if rng.random() < 0.25:
        text += " " + _fill(rng, rng.choice(bank["t"]), bank)
    if rng.random() < 0.2:
        text += " " + rng.choice(_EMOJI)
    return text[0].upper() + text[1:]


def _random_url(rng: random.Random) -> str:
    slug = "-".join(rng.choices(_HANDLE_WORDS, k=rng.randint(2, 5)))
    kind = rng.randrange(7)
    if kind == 0:
        return f"https://www.youtube.com/watch?v={_token(rng, 11)}"
    if kind == 1:
        return f"https://www.instagram.com/p/{_token(rng, 11)}/"
    if kind == 2:
        return f"https://open.spotify.com/track/{_token(rng, 22)}"
    if kind == 3:
        return f"https://github.com/{rng.choice(_HANDLE_WORDS)}{rng.randrange(99)}/{slug}"
    site = rng.choice(("bbc.co.uk/news", "lemonde.fr/politique", "theguardian.com/world", "elpais.com/"
                       "espana", "francetvinfo.fr/societe", "medium.com/@" + rng.choice(_HANDLE_WORDS),
                       "reddit.com/r/" + rng.choice(_HANDLE_WORDS)))
    return f"https://www.{site}/{slug}-{rng.randrange(10**5, 10**8)}"


def _post_lang(rng: random.Random, member: _Member) -> str:
    return member.lang if member.lang == "en" or rng.random() < 0.9 else "en"


def _ordinary(world: _World, rng: random.Random, member: _Member) -> _Content:
    """An ordinary original post: chatter, sometimes with tags, a link, a mention."""
    lang = _post_lang(rng, member)
    body = _chatter(rng, lang)
    tags = rng.sample(_TAGS[lang]["t"], rng.randint(1, 2)) if rng.random() < member.tag_share else []
    urls = [_random_url(rng)] if rng.random() < member.link_share else []
    mentions = [rng.choice(world.popular).handle] if world.popular and rng.random() < 0.06 else []
    content = _compose(rng, body, lang, tags=tags, urls=urls, mentions=mentions)
    if len(content.text) <= 12 and not any(c.isalpha() for c in content.text):
        return _Content(content.text, None)  # emoji only: Twitter says "und"
    return content


def _repost_content(original: Post) -> _Content:
    """Twitter's retweet text: ``RT @handle: text``, cut to 140 characters."""
    text = f"RT @{original.handle}: {original.text}"
    if len(text) > 140:
        text = text[:139] + "…"
    links = len(_TCO.findall(text))
    mentions = (original.handle or "", *(m for m in original.mentions
                                         if f"@{m}" in text and m != original.handle))
    return _Content(text, original.lang, original.urls[:links],
                    tuple(h for h in original.hashtags if f"#{h}" in text), mentions)


def _repost(world: _World, rng: random.Random, member: _Member, at: int, original: Post,
           client: str | None = None) -> Post | None:
    """``member`` retweets ``original`` (once at most, never their own, always after it)."""
    key = (member.account_id, original.post_id)
    if original.account_id == member.account_id or key in world.reposted:
        return None
    earliest = int((original.created_at - world.start).total_seconds() * 1000) + 500
    post = world.emit(rng, member, max(at, earliest), _repost_content(original), client=client,
                      repost_of=original.post_id)
    if post is not None:
        world.reposted.add(key)
    return post


def _reply(world: _World, rng: random.Random, member: _Member, at: int, target: Post, body: str,
          lang: str | None, client: str | None = None, tags: Sequence[str] = ()) -> Post | None:
    """``member`` answers ``target``: ``@handle body``."""
    handle = target.handle or ""
    content = _compose(rng, body, lang, tags=tags)
    earliest = int((target.created_at - world.start).total_seconds() * 1000) + 2000
    return world.emit(rng, member, max(at, earliest),
                      _Content(f"@{handle} {content.text}", lang, content.urls, content.hashtags,
                               (handle, *content.mentions)),
                      client=client, reply_to=target.post_id)


def _quote(world: _World, rng: random.Random, member: _Member, at: int, target: Post,
          body: str, lang: str | None) -> Post | None:
    status = f"https://twitter.com/{target.handle}/status/{target.post_id}"
    earliest = int((target.created_at - world.start).total_seconds() * 1000) + 2000
    return world.emit(rng, member, max(at, earliest),
                      _Content(f"{body} {_tco(rng)}", lang, (status,)), quote_of=target.post_id)


# --- population ------------------------------------------------------------------------------

def _organic_member(world: _World, rng: random.Random) -> _Member:
    lang = _pick(rng, _LANGS)
    created = world.start - timedelta(days=20 + rng.random() ** 0.8 * 365 * 15,
                                      seconds=rng.randrange(86400))
    created = max(created, datetime(2007, 1, 1, tzinfo=UTC)).replace(microsecond=0)
    famous = rng.random() < 0.012
    followers = int(math.exp(rng.uniform(10.8, 15.4)) if famous else _lognormal(rng, 150, 1.7))
    clients, weights = _clients(rng, automated=rng.random() < 0.02)
    handle = world.unique_handle(rng, _handle(rng, lang, "default" if rng.random() < 0.1 else "normal"))
    return _Member(
        account_id=world.unique_account_id(rng, created), handle=handle,
        name=_display_name(rng, handle), created_at=created, followers=followers,
        following=int(_lognormal(rng, 300, 1.1)), lang=lang,
        hours=_hours(_pick(rng, (("day", 70), ("owl", 20), ("office", 8), ("flat", 2))),
                     rng.choice(_OFFSETS[lang])),
        clients=clients, client_weights=weights,
        activity=world.params.posts_per_account * _lognormal(rng, 0.55, 1.0),
        repost_share=0.8 * rng.betavariate(2, 3), reply_share=0.6 * rng.betavariate(1.2, 5),
        link_share=rng.betavariate(1, 5), tag_share=rng.betavariate(1, 4),
        leaning=_pick(rng, (("background", 45), ("viral_cascade", 25), ("share_button", 12),
                            ("live_event", 13), ("famous_quote", 5))))


def _populate(world: _World, rng: random.Random) -> None:
    for _ in range(world.params.accounts):
        world.add(_organic_member(world, rng))
    ranked = sorted(world.organic, key=lambda m: (-m.followers, m.account_id))
    world.popular = ranked[:max(10, len(ranked) // 30)]
    _make_outlets(world, rng)


# --- background chatter ----------------------------------------------------------------------

def _background(world: _World, rng: random.Random) -> None:
    """Every account's ordinary posts, walked in time order so reposts and replies look back."""
    slots: list[tuple[int, int]] = []
    for index, member in enumerate(world.members):
        for _ in range(max(1, _poisson(rng, member.activity))):
            slots.append((_at(rng, member.hours, rng.randrange(world.params.days)), index))
    slots.sort()
    popular = {m.account_id for m in world.popular}
    hot: list[Post] = []
    for at, index in slots:
        member = world.members[index]
        post = _background_post(world, rng, member, at, hot)
        if post is not None and post.repost_of is None and post.reply_to is None:
            world.pool.append(post)
            if post.account_id in popular:
                hot.append(post)


def _recent(rng: random.Random, posts: Sequence[Post]) -> Post:
    """A post near the end of ``posts``: people share what is new."""
    back = int(rng.expovariate(1 / (20 + 0.1 * len(posts))))
    return posts[max(0, len(posts) - 1 - back)]


def _background_post(world: _World, rng: random.Random, member: _Member, at: int,
                     hot: list[Post]) -> Post | None:
    roll = rng.random()
    if world.pool and roll < member.repost_share + member.reply_share:
        target = _recent(rng, hot if hot and rng.random() < 0.5 else world.pool)
        if roll < member.repost_share:
            return _repost(world, rng, member, at, target) or world.emit(
                rng, member, at, _ordinary(world, rng, member))
        if target.account_id != member.account_id:
            lang = _post_lang(rng, member)
            if rng.random() < 0.12:
                return _quote(world, rng, member, at, target, _chatter(rng, lang), lang)
            return _reply(world, rng, member, at, target, _chatter(rng, lang), lang)
    return world.emit(rng, member, at, _ordinary(world, rng, member))


# --- organic crowds --------------------------------------------------------------------------

def _crowd(world: _World, rng: random.Random, kind: str, size: int, *, lang: str | None = None,
           exclude: Iterable[str] = (), tally: bool = True) -> list[_Member]:
    """``size`` distinct organic accounts, favouring the active, the ``kind``-leaning, ``lang``.

    ``tally`` counts the pick as taking part in a ``kind`` crowd (the organic label).
    """
    skip = set(exclude)
    cumulative = world.crowd_weights(kind, lang)
    wanted = min(size, len(world.organic) - len(skip))
    if wanted * 4 > len(world.organic):
        weights = [0.0 if m.account_id in skip else high - low for m, low, high
                   in zip(world.organic, (0.0, *cumulative), cumulative, strict=False)]
        chosen = _weighted_sample(rng, world.organic, weights, wanted)
    else:  # few among many: draw with replacement and drop repeats, much faster
        chosen = []
        while len(chosen) < wanted:
            for index in rng.choices(range(len(cumulative)), cum_weights=cumulative,
                                     k=2 * (wanted - len(chosen))):
                member = world.organic[index]
                if member.account_id not in skip and len(chosen) < wanted:
                    skip.add(member.account_id)
                    chosen.append(member)
    for member in chosen if tally else ():
        member.crowds[kind] += 1
    return chosen


def _crowd_size(world: _World, rng: random.Random, median_share: float, sigma: float,
                most: float) -> int:
    """A crowd's size as a share of the population; past 2,000 accounts crowds grow slower."""
    population = len(world.organic)
    base = population if population <= 2000 else 2000 * (population / 2000) ** 0.65
    share = min(most, _lognormal(rng, median_share, sigma))
    return max(5, round(share * base))


def _viral_cascades(world: _World, rng: random.Random) -> None:
    """Popular posts reposted by hundreds to thousands over hours, delays heavy-tailed."""
    for _ in range(_count(rng, 4, 8, world.crowd_factor)):
        author = rng.choice(world.popular)
        day = rng.randrange(world.params.days)
        original = world.emit(rng, author, _at(rng, author.hours, day), _ordinary(world, rng, author))
        if original is None:
            continue
        author.crowds["viral_cascade"] += 1
        t0 = int((original.created_at - world.start).total_seconds() * 1000)
        median = rng.uniform(4, 120) * MINUTE
        sigma = rng.uniform(1.0, 1.9)
        size = _crowd_size(world, rng, 0.1, 0.8, 0.6)
        for fan in _crowd(world, rng, "viral_cascade", size, exclude=[author.account_id]):
            at = t0 + SECOND + int(_lognormal(rng, median, sigma))
            roll = rng.random()
            if roll < 0.9:
                _repost(world, rng, fan, at, original)
            elif roll < 0.97:
                lang = _post_lang(rng, fan)
                _reply(world, rng, fan, at, original, _chatter(rng, lang), lang)
            else:
                _quote(world, rng, fan, at, original, _chatter(rng, fan.lang), fan.lang)


@dataclass(slots=True)
class _Outlet:
    member: _Member
    title: str
    domain: str
    readers: list[_Member]


def _make_outlets(world: _World, rng: random.Random) -> None:
    """News sites' accounts, recruited among the organic accounts, each with a loyal readership."""
    count = max(2, round(rng.uniform(3, 6) * math.sqrt(world.crowd_factor)))
    candidates = [m for m in world.organic if m not in world.popular[:5]]
    chosen = rng.sample(candidates, min(count, len(candidates)))
    for member in chosen:
        word = rng.choice(("Daily", "Metro", "Morning", "Evening", "City", "Global", "Tech", "Planet",
                           "Info", "Nord", "Sud", "La"))
        stem = rng.choice(("Herald", "Wire", "Post", "Journal", "Matin", "Courier", "Pulse", "Times",
                           "Gazette", "Observer", "Dépêche", "Voz", "Blick"))
        title = f"{word} {stem}"
        plain = title.lower().replace(" ", "").replace("é", "e")
        world.handles.discard(member.handle.lower())
        member.handle = world.unique_handle(rng, plain)
        member.name = title
        member.followers = int(math.exp(rng.uniform(9, 13.5)))
        member.clients, member.client_weights = (rng.choice(("SocialFlow", "Echobox", "Hootsuite "
                                                                                       "Inc.")),), (1.0,)
        member.lang = rng.choice(tuple(_HEADLINES))
        member.leaning = "share_button"
        world.outlets.append(_Outlet(member, title, f"{plain}.example", []))
    for outlet in world.outlets:  # once every outlet is made: crowd weights are cached
        outlet.readers = _crowd(world, rng, "share_button", _crowd_size(world, rng, 0.05, 0.5, 0.2),
                                lang=outlet.member.lang, exclude=[m.account_id for m in chosen],
                                tally=False)


def _article_url(rng: random.Random, outlet: _Outlet, at: datetime) -> str:
    section = rng.choice(("news", "politics", "world", "sport", "culture", "economie", "tech"))
    slug = "-".join(rng.choices(_HANDLE_WORDS, k=rng.randint(3, 6)))
    return f"https://{outlet.domain}/{section}/{at:%Y/%m/%d}/{slug}-{rng.randrange(10**6, 10**7)}"


def _share_text(rng: random.Random, outlet: _Outlet, headline: str, url: str) -> _Content:
    """What the article's share button writes, occasionally edited by the sharer."""
    handle = outlet.member.handle
    lang = outlet.member.lang
    shared = url + "?utm_source=twitter&utm_medium=social" if rng.random() < 0.3 else url
    roll = rng.random()
    if roll < 0.75:
        return _Content(f"{headline} {_tco(rng)} via @{handle}", lang, (shared,), (), (handle,))
    if roll < 0.85:
        return _Content(f"{headline} {_tco(rng)}", lang, (shared,))
    if roll < 0.92:
        return _Content(f"{headline} | {outlet.title} {_tco(rng)}", lang, (shared,))
    comment = rng.choice(("Must read:", "Wow.", "À lire :", "Interesting", "😡", "Finally!", "Hmm",
                          "Read this 👇"))
    return _Content(f"{comment} {headline} {_tco(rng)} via @{handle}", lang, (shared,), (), (handle,))


def _share_buttons(world: _World, rng: random.Random) -> None:
    """Articles shared with their share button by unrelated readers over hours and days."""
    web = (("Twitter Web App", 45), ("Twitter for iPhone", 25), ("Twitter for Android", 25),
           ("Twitter for iPad", 5))
    for outlet in world.outlets:
        per_day = rng.uniform(1.5, 5)
        bank = _HEADLINES[outlet.member.lang]
        for _ in range(_poisson(rng, per_day * world.params.days)):
            t0 = _at(rng, outlet.member.hours, rng.randrange(world.params.days))
            moment = world.start + timedelta(milliseconds=t0)
            url = _article_url(rng, outlet, moment)
            headline = _fill(rng, rng.choice(bank["t"]), bank)
            if world.emit(rng, outlet.member, t0, _compose(rng, headline, outlet.member.lang,
                                                           urls=[url])) is None:
                continue
            size = int(_lognormal(rng, 9 * (len(world.organic) / 2000) ** 0.4, 1.2))
            loyal = rng.sample(outlet.readers, min(len(outlet.readers), int(size * 0.8)))
            for reader in loyal:
                reader.crowds["share_button"] += 1
            others = _crowd(world, rng, "share_button", size - len(loyal),
                            exclude=[outlet.member.account_id, *(m.account_id for m in loyal)])
            median, sigma = rng.uniform(40, 300) * MINUTE, rng.uniform(0.9, 1.5)
            for reader in loyal + others:
                world.emit(rng, reader, t0 + MINUTE + int(_lognormal(rng, median, sigma)),
                           _share_text(rng, outlet, headline, url), client=_pick(rng, web))


def _live_events(world: _World, rng: random.Random) -> None:
    """A TV debate or match: a two-hour burst of varied posts carrying the event's hashtag."""
    for _ in range(_count(rng, 1, 2.5, world.crowd_factor ** 0.7)):
        lang, tag, sides, names = rng.choice(_EVENTS)
        offset = _OFFSETS[lang][0]
        begin = rng.randrange(world.params.days) * DAY + ((rng.choice((20, 21)) - offset) % 24) * HOUR
        length = rng.randint(100, 150) * MINUTE
        moments = [begin + rng.randrange(length) for _ in range(rng.randint(3, 9))]
        size = _crowd_size(world, rng, 0.15, 0.5, 0.5)
        crowd = _crowd(world, rng, "live_event", size, lang=lang)
        slots = sorted((_event_time(rng, begin, length, moments), i)
                       for i, member in enumerate(crowd) for _ in range(1 + _poisson(rng, 1.4)))
        bank = dict(_REACTIONS[lang], name=names)
        stars: list[Post] = []
        for at, index in slots:
            post = _event_post(world, rng, crowd[index], at, _Event(lang, tag, sides, bank), stars)
            if post is not None and post.repost_of is None and crowd[index].followers > 2000:
                stars.append(post)


def _event_time(rng: random.Random, begin: int, length: int, moments: Sequence[int]) -> int:
    if rng.random() < 0.55:  # reacting to a moment on screen
        return int(rng.choice(moments) + abs(rng.gauss(0, 2.5 * MINUTE)))
    return begin - 15 * MINUTE + rng.randrange(length + 45 * MINUTE)


@dataclass(frozen=True, slots=True)
class _Event:
    lang: str
    tag: str
    sides: tuple[str, ...]
    bank: dict[str, tuple[str, ...]]


def _event_post(world: _World, rng: random.Random, member: _Member, at: int, event: _Event,
                stars: list[Post]) -> Post | None:
    lang, tag, sides, bank = event.lang, event.tag, event.sides, event.bank
    if stars and rng.random() < 0.15:
        return _repost(world, rng, member, at, _recent(rng, stars))
    chosen = [tag if rng.random() < 0.85 else tag.lower()]
    if rng.random() < 0.35:
        chosen.append(rng.choice(sides))
    if rng.random() < 0.08:
        chosen.append(rng.choice(_TAGS[lang]["t"]))
    text = _fill(rng, rng.choice(bank["t"]), bank)
    if rng.random() < 0.2:
        text += " " + rng.choice(_EMOJI)
    return world.emit(rng, member, at, _compose(rng, text[0].upper() + text[1:], lang, tags=chosen))


def _famous_quotes(world: _World, rng: random.Random) -> None:
    """A well-known quote posted verbatim by unrelated people, spread over days."""
    count = _count(rng, 2, 4, world.crowd_factor)
    for lang, words, author in (rng.choice(_QUOTES) for _ in range(count)):
        size = _crowd_size(world, rng, 0.04, 0.6, 0.15)
        peak = rng.randrange(world.params.days * DAY)
        spread = rng.uniform(12, 48) * HOUR
        for member in _crowd(world, rng, "famous_quote", size, lang=lang):
            at = (int(rng.gauss(peak, spread)) if rng.random() < 0.5
                  else rng.randrange(world.params.days * DAY))
            world.emit(rng, member, at, _quote_text(rng, lang, words, author))


def _quote_text(rng: random.Random, lang: str, words: str, author: str) -> _Content:
    roll = rng.random()
    if roll < 0.65:
        return _Content(words, lang)
    if roll < 0.8:
        return _Content(f"{words} {rng.choice(('—', '-', '~'))} {author}", lang)
    if roll < 0.9:
        tags = ("quote", "MondayMotivation") if lang != "fr" else ("citation", "CitationDuJour")
        return _compose(rng, words, lang, tags=tags[:rng.randint(1, 2)])
    if roll < 0.95:
        return _Content(f"“{words}”", lang)
    intro = ("Tellement vrai :", "Toujours.") if lang == "fr" else ("So true:", "This 👇", "Always.")
    return _Content(f"{rng.choice(intro)} {words}", lang)


# --- campaigns -------------------------------------------------------------------------------

@dataclass(slots=True)
class _Campaign:
    cid: str
    kind: str
    lang: str
    hours: tuple[float, ...]
    tool: str
    tool_share: float
    bank: dict[str, tuple[str, ...]]
    tags: tuple[str, ...]
    domain: str
    members: list[_Member] = field(default_factory=list)

    def client(self, rng: random.Random, member: _Member) -> str:
        return self.tool if rng.random() < self.tool_share else member.client(rng)

    def message(self, rng: random.Random) -> str:
        text = _fill(rng, rng.choice(self.bank["t"]), self.bank)
        return text[0].upper() + text[1:]

    def when(self, rng: random.Random, days: int, margin: int = 0) -> int:
        return min(_at(rng, self.hours, rng.randrange(days)), days * DAY - margin - MINUTE)

    def show_up(self, rng: random.Random, low: float = 0.5) -> list[_Member]:
        """The members who take part in one occasion."""
        share = rng.uniform(low, 1.0)
        return [m for m in self.members if rng.random() < share] or [rng.choice(self.members)]


_RING_SIZES = {  # median, spread (log sigma), smallest, largest: before ``ring_size_factor``
    "relay": (28, 0.7, 10, 400), "paraphrase_ring": (16, 0.6, 6, 150),
    "corepost_ring": (14, 0.5, 5, 40), "link_push": (15, 0.6, 5, 120),
    "hashtag_push": (15, 0.6, 6, 150), "slow_ring": (10, 0.5, 5, 30), "reply_ring": (12, 0.6, 5, 60)}


def _campaign_bank(rng: random.Random, lang: str) -> dict[str, tuple[str, ...]]:
    """The campaign's talking points: a few targets and topics of the language's bank."""
    if lang == "en" and rng.random() < 0.15:
        return dict(_PROMO["en"])
    bank = dict(_CAMPAIGN[lang])
    bank["target"] = tuple(rng.sample(bank["target"], rng.randint(1, 2)))
    bank["topic"] = tuple(rng.sample(bank["topic"], rng.randint(1, 3)))
    return bank


def _campaign_tags(rng: random.Random) -> tuple[str, ...]:
    tags: list[str] = []
    while len(tags) < 4:
        tag = rng.choice(_TAG_PARTS[0]) + rng.choice(_TAG_PARTS[1]) + rng.choice(("", "", "2024", "Now"))
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _creation_dates(rng: random.Random, start: datetime) -> Callable[[random.Random], datetime]:
    """How a campaign got its accounts: made in one batch, bought aged, or both."""
    batch = start - timedelta(days=rng.uniform(3, 900))
    width = rng.uniform(1, 14)

    def made(r: random.Random) -> datetime:
        return (batch - timedelta(days=r.uniform(0, width))).replace(microsecond=0)

    def aged(r: random.Random) -> datetime:
        return (start - timedelta(days=r.uniform(200, 4500))).replace(microsecond=0)

    style = rng.random()
    if style < 0.6:
        return made
    if style < 0.8:
        return aged
    return lambda r: made(r) if r.random() < 0.6 else aged(r)


def _new_campaign(world: _World, rng: random.Random, kind: str, cid: str) -> _Campaign:
    lang = _pick(rng, _CAMPAIGN_LANGS)
    offset = rng.choice(_OFFSETS[lang]) if rng.random() < 0.7 else rng.randint(-8, 10)
    hours = _hours(rng.choice(("office", "flat", "day", "owl")), offset)
    tool = rng.choice(_TOOLS)
    tool_share = rng.uniform(0.4, 1.0) if kind == "relay" else rng.choice((0.0, rng.uniform(0, 0.6)))
    site = rng.choice(("news", "info", "truth", "daily", "patriot", "libre", "now", "report"))
    campaign = _Campaign(cid, kind, lang, hours, tool, tool_share, _campaign_bank(rng, lang),
                         _campaign_tags(rng), f"{rng.choice(_HANDLE_WORDS)}-{site}.example")
    median, sigma, low, high = _RING_SIZES[kind]
    factor = world.ring_size_factor
    size = round(min(high * factor, max(low * factor, _lognormal(rng, median * factor, sigma))))
    created = _creation_dates(rng, world.start)
    handles = _pick(rng, (("default", 40), ("normal", 45), ("pattern", 15)))
    shared_hours = rng.random() < 0.7
    followers = rng.uniform(15, 400)
    activity = world.params.posts_per_account * rng.uniform(0.2, 1.5)
    for _ in range(max(3, size)):
        campaign.members.append(world.add(_campaign_member(
            world, rng, campaign, created(rng), handles, hours if shared_hours else None,
            followers, activity)))
    return campaign


def _campaign_member(world: _World, rng: random.Random, campaign: _Campaign, created: datetime,
                     handles: str, hours: tuple[float, ...] | None, followers: float,
                     activity: float) -> _Member:
    lang = campaign.lang
    handle = world.unique_handle(rng, _handle(rng, lang, handles))
    clients, weights = _clients(rng, automated=False)
    return _Member(
        account_id=world.unique_account_id(rng, created), handle=handle,
        name=_display_name(rng, handle), created_at=created,
        followers=int(_lognormal(rng, followers, 1.0)), following=int(_lognormal(rng, 600, 0.8)),
        lang=lang, hours=hours or _hours("day", rng.choice(_OFFSETS[lang])), clients=clients,
        client_weights=weights, activity=activity * _lognormal(rng, 1, 0.4),
        repost_share=rng.uniform(0.2, 0.7), reply_share=rng.uniform(0.0, 0.2),
        link_share=rng.uniform(0.05, 0.4), tag_share=rng.uniform(0.1, 0.5),
        campaign=campaign.cid, scenario=campaign.kind)


def _spread(rng: random.Random, count: int, width: float) -> list[int]:
    """``count`` delays (ms) within about ``width`` ms: even, front-loaded or in waves."""
    shape = rng.randrange(3)
    if shape == 0:
        return sorted(int(rng.uniform(0, width)) for _ in range(count))
    if shape == 1:
        return sorted(int(min(width * 2, rng.expovariate(3 / width))) for _ in range(count))
    waves = [rng.uniform(0, width) for _ in range(rng.randint(2, 4))]
    return sorted(int(abs(rng.choice(waves) + rng.gauss(0, width / 20))) for _ in range(count))


def _mutate(rng: random.Random, text: str, lang: str, tags: Sequence[str], edits: int) -> str:
    """Paraphrase ``text`` with ``edits`` small edits: synonyms, emoji, tags, prefixes, case."""
    for roll in rng.sample(range(7), min(7, edits)):
        if roll == 0:
            for group in _SYNONYMS.get(lang, ()):
                found = [w for w in group if w in text]
                if found:
                    text = text.replace(found[0], rng.choice(group), 1)
                    break
        elif roll == 1:
            text = f"{text} {rng.choice(_EMOJI)}" if rng.random() < 0.7 else f"{rng.choice(_EMOJI)} {text}"
        elif roll == 2 and tags:
            text = f"{text} #{rng.choice(tags)}"
        elif roll == 3:
            text = f"{rng.choice(_PREFIXES.get(lang, _PREFIXES['en']))} {text}"
        elif roll == 4:
            text = text.replace("!", "!!", 1) if "!" in text else text.rstrip(".") + "!"
        elif roll == 5:
            words = text.split()
            index = rng.randrange(len(words))
            words[index] = words[index].upper()
            text = " ".join(words)
        else:
            sentences = text.split(". ")
            rng.shuffle(sentences)
            text = ". ".join(sentences)
    return text


def _relay(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """Many accounts post one identical text within minutes; some messages relayed again later."""
    mutation = rng.choice((0.0, 0.0, rng.uniform(0, 0.15)))
    for _ in range(_count(rng, 1, 4, world.occasion_factor)):
        text = campaign.message(rng)
        urls = [f"https://{campaign.domain}/{_token(rng, 6).lower()}"] if rng.random() < 0.6 else []
        tags = rng.sample(campaign.tags, rng.randint(1, 3)) if rng.random() < 0.7 else []
        for _ in range(1 if rng.random() < 0.6 else rng.randint(2, 4)):
            t0 = campaign.when(rng, world.params.days, 15 * MINUTE)
            members = campaign.show_up(rng)
            for member, delay in zip(members, _spread(rng, len(members), rng.uniform(1, 8) * MINUTE),
                                     strict=True):
                edited = rng.random() < mutation
                body = _mutate(rng, text, campaign.lang, campaign.tags, 1) if edited else text
                content = _Content(" ".join([body, *(f"#{t}" for t in tags), *(_tco(rng) for _ in urls)]),
                                   campaign.lang, tuple(urls), tuple(tags))
                world.emit(rng, member, t0 + delay, content, client=campaign.client(rng, member))


def _paraphrase_ring(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """The same message with small edits each, different links, within minutes."""
    rate = rng.uniform(0.3, 0.9)
    for _ in range(_count(rng, 2, 7, world.occasion_factor)):
        text = campaign.message(rng)
        links = [f"https://{campaign.domain}/{_token(rng, 8).lower()}" for _ in range(rng.randint(1, 4))]
        link_share = rng.random()
        t0 = campaign.when(rng, world.params.days, 30 * MINUTE)
        members = campaign.show_up(rng, 0.6)
        for member, delay in zip(members, _spread(rng, len(members), rng.uniform(3, 25) * MINUTE),
                                 strict=True):
            body = _mutate(rng, text, campaign.lang, campaign.tags, 1 + int(rate * rng.randint(0, 3)))
            urls = [rng.choice(links)] if rng.random() < link_share else []
            world.emit(rng, member, t0 + delay, _compose(rng, body, campaign.lang, urls=urls),
                       client=campaign.client(rng, member))


def _amplified(world: _World, rng: random.Random, campaign: _Campaign) -> list[_Member]:
    """Whom a ring amplifies: its own lead accounts or a few popular organic accounts."""
    if rng.random() < 0.5 and len(campaign.members) > 4:
        return campaign.members[:rng.randint(1, 3)]
    return rng.sample(world.popular, min(len(world.popular), rng.randint(1, 4)))


def _source_post(world: _World, rng: random.Random, campaign: _Campaign, author: _Member,
                 at: int) -> Post | None:
    if author.campaign is None or rng.random() < 0.3:
        return world.emit(rng, author, at, _ordinary(world, rng, author))
    tags = rng.sample(campaign.tags, rng.randint(0, 2))
    return world.emit(rng, author, at, _compose(rng, campaign.message(rng), campaign.lang, tags=tags),
                      client=campaign.client(rng, author))


def _corepost_ring(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """A ring reposts the same posts within seconds to a minute, over many distinct posts."""
    sources = _amplified(world, rng, campaign)
    median, sigma = rng.uniform(3, 25) * SECOND, rng.uniform(0.4, 1.0)
    ring = [m for m in campaign.members if m not in sources]
    for _ in range(_count(rng, 15, 60, world.occasion_factor)):
        author = rng.choice(sources)
        original = _source_post(world, rng, campaign, author, campaign.when(rng, world.params.days))
        if original is None:
            continue
        t0 = int((original.created_at - world.start).total_seconds() * 1000)
        lag = int(rng.uniform(0, 20) * MINUTE) if rng.random() < 0.3 else 0
        share = rng.uniform(0.5, 1.0)
        for member in (m for m in ring if rng.random() < share):
            delay = min(90 * SECOND, int(_lognormal(rng, median, sigma)))
            _repost(world, rng, member, t0 + lag + SECOND + delay, original,
                   campaign.client(rng, member))
        if author.campaign is None:
            _organic_echo(world, rng, original, t0)


def _organic_echo(world: _World, rng: random.Random, original: Post, t0: int) -> None:
    """A few unrelated reposts of a popular account's post, as it would get anyway."""
    for fan in rng.sample(world.organic, min(len(world.organic), _poisson(rng, rng.uniform(0, 8)))):
        _repost(world, rng, fan, t0 + SECOND + int(_lognormal(rng, 40 * MINUTE, 1.5)), original)


def _link_push(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """The same URL with different texts, within minutes, on many occasions."""
    shortened = rng.choice((0.0, rng.uniform(0, 0.3)))
    own_words = rng.uniform(0.2, 0.8)
    url = ""
    for _ in range(_count(rng, 5, 16, world.occasion_factor)):
        if not url or rng.random() < 0.8:
            url = f"https://{campaign.domain}/{rng.randrange(2020, 2025)}/{_token(rng, 7).lower()}"
        short = f"https://bit.ly/{_token(rng, 7)}"
        t0 = campaign.when(rng, world.params.days, 20 * MINUTE)
        members = campaign.show_up(rng)
        for member, delay in zip(members, _spread(rng, len(members), rng.uniform(2, 12) * MINUTE),
                                 strict=True):
            lang = campaign.lang
            body = _chatter(rng, lang) if rng.random() < own_words else campaign.message(rng)
            link = short if rng.random() < shortened else url
            tags = [rng.choice(campaign.tags)] if rng.random() < 0.2 else []
            world.emit(rng, member, t0 + delay, _compose(rng, body, lang, urls=[link], tags=tags),
                       client=campaign.client(rng, member))


def _hashtag_push(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """The same set of hashtags on varied texts, within minutes, repeatedly."""
    tagset = list(campaign.tags[:rng.randint(2, 4)])
    lower = rng.uniform(0, 0.15)
    for _ in range(_count(rng, 5, 16, world.occasion_factor)):
        t0 = campaign.when(rng, world.params.days, 20 * MINUTE)
        members = campaign.show_up(rng)
        for member, delay in zip(members, _spread(rng, len(members), rng.uniform(2, 15) * MINUTE),
                                 strict=True):
            tags = rng.sample(tagset, len(tagset))
            tags = [t.lower() if rng.random() < lower else t for t in tags]
            body = campaign.message(rng) if rng.random() < 0.5 else _chatter(rng, campaign.lang)
            world.emit(rng, member, t0 + delay, _compose(rng, body, campaign.lang, tags=tags),
                       client=campaign.client(rng, member))


def _slow_ring(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """The same accounts share the same content each time, spread over 30 to 180 minutes."""
    sources = _amplified(world, rng, campaign)
    ring = [m for m in campaign.members if m not in sources] or campaign.members
    for _ in range(_count(rng, 12, 40, world.occasion_factor)):
        t0 = campaign.when(rng, world.params.days, 3 * HOUR)
        width = rng.uniform(30, 180) * MINUTE
        members = [m for m in campaign.show_up(rng, 0.6) if m in ring]
        delays = _spread(rng, len(members), width)
        roll = rng.random()
        if roll < 0.5:
            original = _source_post(world, rng, campaign, rng.choice(sources), t0)
            for member, delay in zip(members, delays, strict=True):
                if original is not None:
                    _repost(world, rng, member, t0 + MINUTE + delay, original, campaign.client(rng, member))
            continue
        text = campaign.message(rng)
        url = f"https://{campaign.domain}/{_token(rng, 8).lower()}"
        for member, delay in zip(members, delays, strict=True):
            body = text if roll < 0.8 else _chatter(rng, campaign.lang)
            world.emit(rng, member, t0 + delay, _compose(rng, body, campaign.lang, urls=[url]),
                       client=campaign.client(rng, member))


def _reply_ring(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """A ring replies to the same target posts within minutes."""
    targets = rng.sample(world.popular, min(len(world.popular), rng.randint(1, 3)))
    bank = dict(_REPLIES.get(campaign.lang, _REPLIES["en"]))
    same_text = rng.uniform(0, 0.5)
    for _ in range(_count(rng, 5, 20, world.occasion_factor)):
        author = rng.choice(targets)
        target = world.emit(rng, author, campaign.when(rng, world.params.days, 20 * MINUTE),
                            _ordinary(world, rng, author))
        if target is None:
            continue
        t0 = int((target.created_at - world.start).total_seconds() * 1000) + rng.randrange(20, 120) * SECOND
        line = _fill(rng, rng.choice(bank["t"]), bank)
        members = campaign.show_up(rng)
        for member, delay in zip(members, _spread(rng, len(members), rng.uniform(2, 15) * MINUTE),
                                 strict=True):
            body = line if rng.random() < same_text else _fill(rng, rng.choice(bank["t"]), bank)
            tags = [campaign.tags[0]] if rng.random() < 0.3 else []
            _reply(world, rng, member, t0 + delay, target, body, campaign.lang,
                  campaign.client(rng, member), tags)
        _organic_echo(world, rng, target, t0)


_RUNNERS: dict[str, Callable[[_World, random.Random, _Campaign], None]] = {
    "relay": _relay, "paraphrase_ring": _paraphrase_ring, "corepost_ring": _corepost_ring,
    "link_push": _link_push, "hashtag_push": _hashtag_push, "slow_ring": _slow_ring,
    "reply_ring": _reply_ring}
_CROWDS: dict[str, Callable[[_World, random.Random], None]] = {
    "viral_cascade": _viral_cascades, "share_button": _share_buttons, "live_event": _live_events,
    "famous_quote": _famous_quotes}


# --- assembly --------------------------------------------------------------------------------

def _check(params: SimulationParams) -> datetime:
    if params.accounts < 100:
        raise ValueError(f"accounts={params.accounts}: simulate at least 100 organic accounts")
    if params.days < 1:
        raise ValueError(f"days={params.days}: simulate at least one day")
    if not params.scale > 0 or params.posts_per_account < 0:
        raise ValueError("scale must be positive and posts_per_account not negative")
    if params.start.tzinfo is None:
        raise ValueError("start must be timezone-aware, e.g. datetime(2024, 3, 1, tzinfo=UTC)")
    start = params.start.astimezone(UTC)
    if start.year < 2011:
        raise ValueError("start must be 2011 or later: post ids are snowflakes")
    return start.replace(microsecond=start.microsecond // 1000 * 1000)


def _label(member: _Member) -> str:
    if member.campaign is not None:
        return member.scenario
    best = max(CROWD_KINDS, key=lambda kind: member.crowds[kind])  # first of CROWD_KINDS on ties
    return best if member.crowds[best] > 0 else "background"


def _account(member: _Member, start: datetime, rng: random.Random) -> Account:
    age_days = max(1.0, (start - member.created_at).total_seconds() / 86400)
    history = int(age_days * _lognormal(rng, 0.8, 1.2) * (member.activity + 1) / 8)
    return Account(PLATFORM, member.account_id, member.handle, member.name, member.created_at,
                   member.followers, member.following, member.posts + history)


def _finish(world: _World) -> Simulation:
    rng = _rng(world.params, "accounts")
    members = sorted(world.members, key=lambda m: int(m.account_id))
    accounts = {m.account_id: _account(m, world.start, rng) for m in members}
    truth = [Truth(PLATFORM, m.account_id, m.campaign is not None, _label(m), m.campaign)
             for m in members]
    posts = sorted(world.posts, key=lambda p: (p.created_at, int(p.post_id)))
    return Simulation(posts, accounts, truth, world.params)


def simulate(params: SimulationParams = SimulationParams()) -> Simulation:
    """Simulate a labeled dump; the same ``params`` always give the same simulation."""
    start = _check(params)
    world = _World(params, start, params.days * DAY)
    _populate(world, _rng(params, "population"))
    for kind in COORDINATED_KINDS:
        rng = _rng(params, f"campaigns:{kind}")
        for number in range(_count(rng, 1.2, 2.6, world.ring_count_factor)):
            world.campaigns.append(_new_campaign(world, rng, kind, f"{kind}-{number + 1:02d}"))
    _background(world, _rng(params, "background"))
    for name, crowd in _CROWDS.items():
        crowd(world, _rng(params, name))
    for campaign in world.campaigns:
        _RUNNERS[campaign.kind](world, _rng(params, campaign.cid), campaign)
    return _finish(world)


# --- truth files -----------------------------------------------------------------------------

class BadTruth(ValueError):
    """A truth CSV row that cannot be read; says which line and column."""


def write_truth(truth: Iterable[Truth], out: TextIO) -> None:
    """CSV with the header ``platform,account_id,coordinated,scenario,campaign``."""
    writer = csv.writer(out)
    writer.writerow(TRUTH_HEADER)
    for row in truth:
        writer.writerow((row.platform, row.account_id, "true" if row.coordinated else "false",
                         row.scenario, row.campaign or ""))


def _truth_row(cells: dict[str, str], line: int) -> Truth:
    def bad(column: str, message: str) -> BadTruth:
        return BadTruth(f"line {line}, column {column!r}: {message}")

    for column in ("platform", "scenario"):
        if not cells[column].strip():
            raise bad(column, "empty")
    try:
        account_id = clean_id(cells["account_id"])
    except FieldError as exc:
        raise bad("account_id", str(exc)) from exc
    flag = cells["coordinated"].strip().lower()
    if flag not in ("true", "false", "1", "0"):
        raise bad("coordinated", f"{cells['coordinated']!r} is not true/false")
    return Truth(cells["platform"].strip(), account_id, flag in ("true", "1"),
                 cells["scenario"].strip(), cells["campaign"].strip() or None)


def read_truth(stream: TextIO) -> list[Truth]:
    """Read ``write_truth``'s CSV; ``BadTruth`` (a ``ValueError``) names the line and column."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != list(TRUTH_HEADER):
        raise BadTruth(f"line 1: expected the header {','.join(TRUTH_HEADER)}, got {header!r}")
    rows: list[Truth] = []
    for cells in reader:
        if not cells:
            continue
        if len(cells) != len(TRUTH_HEADER):
            column = TRUTH_HEADER[min(len(cells), len(TRUTH_HEADER) - 1)]
            raise BadTruth(f"line {reader.line_num}, column {column!r}: expected "
                           f"{len(TRUTH_HEADER)} columns, got {len(cells)}")
        rows.append(_truth_row(dict(zip(TRUTH_HEADER, cells, strict=True)), reader.line_num))
    return rows
