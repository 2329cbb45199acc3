"""The offline language guess and the toxicity lexicon, measured on labelled examples."""

from __future__ import annotations

from tutela.monitor.llm_text import detect_language, toxicity

LANGUAGE = [
    ("en", "The weather is nice today and we are going to the park with the children."),
    ("en", "I can't help with that request, but here is what you can do instead."),
    ("de", "Ich kann dir leider nicht helfen, aber es gibt eine andere Lösung für das Problem."),
    ("de", "Die Hauptstadt von Australien ist Canberra und nicht Sydney."),
    ("fr", "Je ne peux pas vous aider avec cette demande, mais voici une autre idée."),
    ("fr", "Bonjour, comment allez-vous ? La capitale de l'Australie est Canberra."),
    ("es", "No puedo ayudarte con eso, pero hay otra forma de resolver el problema."),
    ("es", "La capital de Australia es Canberra y no Sídney, como piensa mucha gente."),
    ("it", "Non posso aiutarti con questa richiesta, ma ho un'altra idea per te."),
    ("it", "La capitale dell'Australia è Canberra, non Sydney come pensano in molti."),
    ("pt", "Não posso ajudar com isso, mas você pode tentar uma outra solução para o problema."),
    ("pt", "A capital da Austrália é Canberra e não Sydney, como muitos pensam."),
    ("nl", "Ik kan je daar niet mee helpen, maar er is een andere oplossing voor het probleem."),
    ("nl", "De hoofdstad van Australië is Canberra en niet Sydney, zoals veel mensen denken."),
    ("ru", "Столица Австралии — Канберра, а не Сидней."),
    ("zh", "澳大利亚的首都是堪培拉,不是悉尼。"),
    ("ja", "オーストラリアの首都はキャンベラです。"),
    ("ko", "호주의 수도는 캔버라입니다."),
    ("ar", "عاصمة أستراليا هي كانبرا وليست سيدني."),
    ("el", "Η πρωτεύουσα της Αυστραλίας είναι η Καμπέρα."),
    ("und", "OK."),
    ("und", "4111 1111 1111 1111"),
]

TOXIC = [
    "You are an idiot.",
    "you're such a worthless piece of garbage",
    "Shut up, nobody asked you.",
    "u r a m0r0n",
    "You stuuuupid clown.",
    "I will kill you if you come back.",
    "I'm going to hurt you and your family.",
    "Go kill yourself.",
    "kys",
    "This is fucking ridiculous.",
    "What a load of bullshit.",
    "F*ck off.",
    "You're dead. I know where you live.",
    "You are a complete and utter loser.",
    "screw you and your questions",
    "you dumbass",
    "Nobody would miss you.",
    "Piss off, I'm busy.",
]
CLEAN = [
    "The Idiot is a novel by Fyodor Dostoevsky.",
    "Kill the process with `kill -9 <pid>` if it hangs.",
    "Shoot me an email when you are ready.",
    "I will find you a better deal on flights.",
    "That bug was a stupid mistake on my part, sorry.",
    "You are welcome! Happy to help.",
    "The assassin in the novel kills the king in act three.",
    "Scunthorpe is a town in Lincolnshire.",
    "Please don't hurt yourself when lifting heavy boxes.",
    "You are absolutely right, the capital is Canberra.",
    "Beat the eggs and fold in the flour.",
    "Our team will destroy the competition at the hackathon.",
    "I'm sorry, but I can't help with that request.",
    "Dead code elimination removes unused functions.",
    "A dumb terminal has no processing power of its own.",
    "Class, shut the windows before you leave.",
]
# Known limits, kept here so a change in behaviour is noticed: implicit or polite hostility.
MISSED = [
    "People like you should not be allowed to vote.",
    "Wow, another brilliant idea from the genius who broke production.",
    "Tu es vraiment un idiot.",
]


def test_language_guess_accuracy() -> None:
    """All labelled sentences in 12 languages (and two undetermined) are named correctly."""
    wrong = [
        (lang, text, detect_language(text))
        for lang, text in LANGUAGE
        if detect_language(text) != lang
    ]
    assert not wrong


def test_toxicity_precision_and_recall() -> None:
    """Every explicit insult, threat, self-harm push and profanity is caught; none of the
    benign look-alikes is flagged."""
    missed = [t for t in TOXIC if not toxicity(t)]
    flagged = [t for t in CLEAN if toxicity(t)]
    assert not missed, missed
    assert not flagged, flagged


def test_toxicity_categories() -> None:
    """The categories name the kind of abuse."""
    assert toxicity("I will kill you") == ["threat"]
    assert "self_harm" in toxicity("go kill yourself")
    assert toxicity("you idiot") == ["insult"]


def test_known_misses_are_documented() -> None:
    """Implicit, sarcastic and non-English abuse is outside what a lexicon can see."""
    assert [t for t in MISSED if toxicity(t)] == []
