//! The helper's ethics charter, in French (the text a helper accepts) and English (the same
//! text, for reading). A change of wording is a new `CURRENT_CHARTER_VERSION`: every helper is
//! asked to accept it again at their next sign-in.

use crate::web::Lang;

pub struct CharterTexts {
    pub title: &'static str,
    pub version_label: &'static str,
    pub intro: &'static str,
    pub pending_intro: &'static str,
    /// (heading, paragraph)
    pub sections: [(&'static str, &'static str); 5],
    pub closing: &'static str,
    pub accept: &'static str,
    pub accepted_on: &'static str,
    pub back_to_space: &'static str,
    pub other_language: &'static str,
    pub other_language_code: &'static str,
}

static FR: CharterTexts = CharterTexts {
    title: "Charte de l'aidant",
    version_label: "Version",
    intro: "Des personnes vous confient leurs démarches en ligne et, avec elles, une part de leur vie privée. Cette charte dit ce à quoi vous vous engagez en agissant pour elles. Lisez-la en entier : vous l'acceptez une fois pour chaque version.",
    pending_intro: "Avant de continuer, lisez la charte de l'aidant et acceptez-la. Vous reprendrez ensuite là où vous alliez.",
    sections: [
        (
            "1. Garder le secret",
            "Ce que l'usager vous confie reste entre vous et lui : sa situation, ses revenus, sa santé, ses papiers. Vous n'en parlez à personne en dehors de ce qu'exige la démarche, ni pendant, ni après. Vous ne gardez aucune copie de ses documents au-delà de ce que la démarche demande, et vous fermez votre session avant de quitter le poste.",
        ),
        (
            "2. Agir seulement dans le cadre du mandat",
            "Vous n'agissez que pour les démarches que l'usager a choisies dans son mandat, et tant que ce mandat est en cours. Pour toute autre démarche, il faut un nouveau mandat, conclu avec lui. Vous vous connectez toujours avec votre propre compte, jamais avec celui d'un collègue, et vous ne prêtez jamais le vôtre.",
        ),
        (
            "3. Ne jamais garder les identifiants de l'usager",
            "Vous ne demandez, ne notez et ne conservez jamais les mots de passe ou les codes de l'usager : ni sur papier, ni dans un fichier, ni dans le navigateur. Le mandat sert précisément à agir sans eux. Si l'usager vous les donne, vous l'invitez à les garder pour lui.",
        ),
        (
            "4. Respecter les choix de l'usager",
            "L'usager décide. Vous expliquez, vous proposez, mais vous ne faites rien qu'il n'ait compris et accepté, et vous n'agissez jamais dans votre propre intérêt ni dans celui de votre structure. Il peut mettre fin au mandat à tout moment : vous le lui rappelez, et vous l'aidez à le faire s'il le souhaite.",
        ),
        (
            "5. Signaler les problèmes",
            "Si vous constatez une erreur, un abus, une pression exercée sur l'usager ou un incident de sécurité (poste resté connecté, code perdu, carte de codes volée), vous le signalez sans attendre au référent de votre structure. Signaler n'est jamais une faute ; se taire peut en être une.",
        ),
    ],
    closing: "En acceptant, vous vous engagez à respecter cette charte pour chaque usager que vous accompagnez. Votre acceptation est enregistrée avec sa date et la version de la charte.",
    accept: "J'accepte la charte",
    accepted_on: "Vous avez accepté cette version de la charte le",
    back_to_space: "Retour à mon espace",
    other_language: "English",
    other_language_code: "en",
};

static EN: CharterTexts = CharterTexts {
    title: "The helper's charter",
    version_label: "Version",
    intro: "People entrust you with their online formalities and, with them, part of their private life. This charter says what you commit to when you act for them. Read it in full: you accept it once for each version.",
    pending_intro: "Before going on, read the helper's charter and accept it. You will then carry on where you were going.",
    sections: [
        (
            "1. Keep it confidential",
            "What the usager confides in you stays between you: their situation, income, health and papers. You tell no one beyond what the formality requires, neither during nor after. You keep no copy of their documents beyond what the formality needs, and you close your session before leaving the computer.",
        ),
        (
            "2. Act only within the mandate",
            "You act only for the démarches the usager chose in their mandate, and only while it is in force. Any other démarche needs a new mandate, made with them. You always sign in with your own account, never a colleague's, and you never lend yours.",
        ),
        (
            "3. Never keep the usager's credentials",
            "You never ask for, write down or keep the usager's passwords or codes: not on paper, not in a file, not in the browser. The mandate is there precisely so that you can act without them. If the usager gives them to you, you invite them to keep them to themselves.",
        ),
        (
            "4. Respect the usager's choices",
            "The usager decides. You explain and suggest, but you do nothing they have not understood and agreed to, and you never act in your own interest or your organisation's. They may end the mandate at any time: you remind them of it, and help them do it if they wish.",
        ),
        (
            "5. Report problems",
            "If you notice a mistake, an abuse, pressure put on the usager or a security incident (a computer left signed in, a lost code, a stolen code card), you report it without delay to your organisation's manager. Reporting is never a fault; keeping quiet can be.",
        ),
    ],
    closing: "By accepting, you commit to respect this charter for every usager you help. Your acceptance is recorded with its date and the charter's version.",
    accept: "I accept the charter",
    accepted_on: "You accepted this version of the charter on",
    back_to_space: "Back to my space",
    other_language: "Français",
    other_language_code: "fr",
};

impl CharterTexts {
    pub fn of(lang: Lang) -> &'static CharterTexts {
        match lang {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}
