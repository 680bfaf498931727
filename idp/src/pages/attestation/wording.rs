//! The mandate text in French (the one that counts) and its translations for usagers who do not
//! read French. A change of the French wording is a new template version
//! (`mandate_store::attestation::TEMPLATE_VERSION`): the version is part of the attestation's
//! hash. Translations may be improved without a new version: they have no legal value.
//!
//! Values (names, dates, places) are put into sentences through `{placeholders}`, so that each
//! language keeps its own word order.

use mandate_store::{Demarche, DurationKind};

/// The languages the mandate text is offered in, as the `langue` query parameter names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Fr,
    En,
    Es,
    Pt,
    Ar,
}

impl Language {
    /// The translations offered beside the French text, in the order the page lists them.
    pub const TRANSLATIONS: [Language; 4] = [Language::En, Language::Es, Language::Pt, Language::Ar];

    /// The language named by `langue` (a BCP 47 primary tag), if the text exists in it.
    pub fn from_tag(tag: &str) -> Option<Language> {
        match tag.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Language::Fr),
            "en" => Some(Language::En),
            "es" => Some(Language::Es),
            "pt" => Some(Language::Pt),
            "ar" => Some(Language::Ar),
            _ => None,
        }
    }

    pub fn tag(self) -> &'static str {
        self.wording().tag
    }

    pub fn wording(self) -> &'static MandateWording {
        match self {
            Language::Fr => &FR,
            Language::En => &EN,
            Language::Es => &ES,
            Language::Pt => &PT,
            Language::Ar => &AR,
        }
    }
}

/// Everything the mandate text says, in one language.
pub struct MandateWording {
    /// BCP 47 tag, for `lang`.
    pub tag: &'static str,
    /// `ltr` or `rtl`, for `dir`.
    pub dir: &'static str,
    /// The language's name in itself (for the links between translations).
    pub name: &'static str,
    /// Heading of a translation, and the notice that it has no legal value (unused in French).
    pub translation_heading: &'static str,
    pub no_legal_value: &'static str,
    pub title: &'static str,
    pub version_label: &'static str,
    pub reference_label: &'static str,
    pub parties_heading: &'static str,
    pub usager_heading: &'static str,
    pub family_name: &'static str,
    pub usage_name: &'static str,
    pub given_names: &'static str,
    pub birthdate: &'static str,
    pub birthplace: &'static str,
    pub birthcountry: &'static str,
    pub organisation_heading: &'static str,
    pub organisation_name: &'static str,
    pub siret: &'static str,
    pub address: &'static str,
    pub represented_by: &'static str,
    /// `{aidant}`, `{profession}`.
    pub helper: &'static str,
    pub object_heading: &'static str,
    pub object_text: &'static str,
    pub duration_heading: &'static str,
    /// `{duree}`, `{debut}`, `{fin}`.
    pub duration_text: &'static str,
    /// By duration kind: short, month, semester, long, custom.
    pub durations: [&'static str; 5],
    pub end_heading: &'static str,
    pub end_text: &'static str,
    pub commitments_heading: &'static str,
    pub commitments_text: &'static str,
    pub declaration_heading: &'static str,
    pub declaration_text: &'static str,
    pub data_heading: &'static str,
    pub data_text: &'static str,
    /// `{lieu}`, `{date}`.
    pub done_at: &'static str,
    /// A whole date: `{jour}`, `{mois}`, `{annee}`.
    pub date_full: &'static str,
    /// A date whose day is unknown: `{mois}`, `{annee}`.
    pub date_month: &'static str,
    /// How the first day of a month is written, when it is not `1` (French: `1er`).
    pub first_day: Option<&'static str>,
    pub months: [&'static str; 12],
    /// By démarche, in the order of `Demarche::ALL`: (title, what it covers).
    pub demarches: [(&'static str, &'static str); 10],
}

impl MandateWording {
    pub fn duration(&self, kind: DurationKind) -> &'static str {
        let index = match kind {
            DurationKind::Short => 0,
            DurationKind::Month => 1,
            DurationKind::Semester => 2,
            DurationKind::Long => 3,
            DurationKind::Custom => 4,
        };
        self.durations[index]
    }

    /// The démarche's title and what it covers.
    pub fn demarche(&self, demarche: Demarche) -> (&'static str, &'static str) {
        let index = Demarche::ALL.iter().position(|d| *d == demarche).unwrap_or_default();
        self.demarches[index]
    }
}

/// Replaces each `{name}` in `template` by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
}

pub static FR: MandateWording = MandateWording {
    tag: "fr",
    dir: "ltr",
    name: "Français",
    translation_heading: "",
    no_legal_value: "",
    title: "Mandat",
    version_label: "Version du modèle de mandat",
    reference_label: "Numéro du mandat",
    parties_heading: "Les parties",
    usager_heading: "La personne accompagnée (le mandant)",
    family_name: "Nom de naissance",
    usage_name: "Nom d'usage",
    given_names: "Prénoms",
    birthdate: "Date de naissance",
    birthplace: "Commune de naissance (code INSEE)",
    birthcountry: "Pays de naissance",
    organisation_heading: "La structure (le mandataire)",
    organisation_name: "Nom de la structure",
    siret: "SIRET",
    address: "Adresse",
    represented_by: "Représentée par",
    helper: "{aidant}, {profession}, aidant habilité de la structure",
    object_heading: "1. Objet du mandat",
    object_text: "Par le présent mandat (articles 1984 et suivants du Code civil), la personne accompagnée autorise \
        la structure, par l'intermédiaire de ses aidants habilités, à réaliser en son nom les démarches \
        administratives en ligne suivantes :",
    duration_heading: "2. Durée",
    duration_text: "Le mandat est donné pour {duree}. Il prend effet le {debut} et prend fin le {fin}.",
    durations: [
        "une durée d'un jour",
        "une durée d'un mois (31 jours)",
        "une durée de six mois (182 jours)",
        "une durée d'un an (365 jours)",
        "une durée fixée à l'avance",
    ],
    end_heading: "3. Fin du mandat",
    end_text: "La personne accompagnée peut mettre fin au mandat à tout moment, pour une démarche ou pour toutes, \
        en le demandant à la structure. La structure lui remet alors une attestation de révocation. Le mandat \
        prend fin de lui-même à la date prévue.",
    commitments_heading: "4. Engagements de la structure et de ses aidants",
    commitments_text: "Les aidants agissent seulement pour les démarches et pendant la durée prévues, dans l'intérêt \
        de la personne accompagnée. Ils ne conservent aucun de ses mots de passe et gardent secrètes les \
        informations qu'ils apprennent. Chaque connexion faite en son nom est enregistrée dans un journal.",
    declaration_heading: "5. Déclaration de la personne accompagnée",
    declaration_text: "La personne accompagnée déclare ne faire l'objet d'aucune mesure de protection juridique \
        (tutelle, curatelle, habilitation familiale ou mandat de protection future mis en œuvre).",
    data_heading: "6. Données personnelles",
    data_text: "La structure utilise l'identité de la personne accompagnée, vérifiée par FranceConnect, uniquement \
        pour ce mandat et les démarches qu'il couvre. Selon le règlement général sur la protection des données \
        (RGPD), la personne accompagnée peut consulter ses données, les faire corriger ou effacer, et s'opposer à \
        leur utilisation, en s'adressant à la structure.",
    done_at: "Fait à {lieu}, le {date}, en deux exemplaires : un pour la personne accompagnée, un pour la structure.",
    date_full: "{jour} {mois} {annee}",
    date_month: "{mois} {annee}",
    first_day: Some("1er"),
    months: crate::web::dates::MONTHS_FR,
    demarches: [
        (
            "Papiers - Citoyenneté",
            "Carte d'identité, passeport, inscription sur les listes électorales, recensement citoyen.",
        ),
        ("Famille - Scolarité", "Allocations familiales, naissance, mariage, PACS, scolarité, cantine et bourses."),
        ("Social - Santé", "Assurance maladie, complémentaire santé, handicap, RSA, prime d'activité."),
        ("Travail - Formation", "Recherche d'emploi, allocations chômage, formation, retraite."),
        ("Logement", "Aides au logement, demande de logement social, énergie et eau."),
        ("Transports - Mobilité", "Permis de conduire, carte grise, amendes, vignette Crit'Air."),
        ("Argent - Impôts - Consommation", "Impôts, timbres fiscaux, banque, surendettement, litiges de consommation."),
        ("Justice", "Extrait de casier judiciaire, aide juridictionnelle, recours en justice en ligne."),
        ("Étranger", "Titre de séjour, naturalisation, demande d'asile, démarches en Europe."),
        (
            "Loisirs - Sports - Culture",
            "Activités sportives et culturelles, inscriptions, déclaration de voyage à l'étranger (Ariane).",
        ),
    ],
};

pub static EN: MandateWording = MandateWording {
    tag: "en",
    dir: "ltr",
    name: "English",
    translation_heading: "Translation of the mandate (English)",
    no_legal_value: "This translation is provided for information only and has no legal value. Only the French \
        text is legally binding.",
    title: "Mandate",
    version_label: "Mandate template version",
    reference_label: "Mandate number",
    parties_heading: "The parties",
    usager_heading: "The person helped (the principal)",
    family_name: "Birth name",
    usage_name: "Name in use",
    given_names: "Given names",
    birthdate: "Date of birth",
    birthplace: "Municipality of birth (INSEE code)",
    birthcountry: "Country of birth",
    organisation_heading: "The organisation (the agent)",
    organisation_name: "Name of the organisation",
    siret: "SIRET number",
    address: "Address",
    represented_by: "Represented by",
    helper: "{aidant}, {profession}, accredited helper of the organisation",
    object_heading: "1. Purpose of the mandate",
    object_text: "By this mandate (articles 1984 and following of the French Civil Code), the person helped \
        authorises the organisation, through its accredited helpers, to carry out the following online \
        administrative formalities in their name:",
    duration_heading: "2. Duration",
    duration_text: "The mandate is given for {duree}. It takes effect on {debut} and ends on {fin}.",
    durations: ["one day", "one month (31 days)", "six months (182 days)", "one year (365 days)", "a fixed period"],
    end_heading: "3. End of the mandate",
    end_text: "The person helped may end the mandate at any time, for one formality or for all of them, by asking \
        the organisation. The organisation then gives them a revocation certificate. The mandate ends by itself \
        on the planned date.",
    commitments_heading: "4. Commitments of the organisation and its helpers",
    commitments_text: "The helpers act only for the formalities and during the period set out above, in the \
        interest of the person helped. They keep none of their passwords and keep confidential the information \
        they learn. Every login made in their name is recorded in a log.",
    declaration_heading: "5. Statement by the person helped",
    declaration_text: "The person helped declares that they are not under any legal protection measure \
        (guardianship, curatorship, family authorisation, or a future protection mandate that has taken effect).",
    data_heading: "6. Personal data",
    data_text: "The organisation uses the identity of the person helped, verified through FranceConnect, only for \
        this mandate and the formalities it covers. Under the General Data Protection Regulation (GDPR), the \
        person helped may see their data, have it corrected or deleted, and object to its use, by contacting the \
        organisation.",
    done_at: "Made in {lieu} on {date}, in two copies: one for the person helped, one for the organisation.",
    date_full: "{jour} {mois} {annee}",
    date_month: "{mois} {annee}",
    first_day: None,
    months: crate::web::dates::MONTHS_EN,
    demarches: [
        ("Identity papers - Citizenship", "Identity card, passport, registering to vote, citizenship census."),
        (
            "Family - Schooling",
            "Family benefits, birth, marriage, civil partnership (PACS), schooling, school meals and grants.",
        ),
        (
            "Social benefits - Health",
            "Health insurance, top-up health cover, disability, RSA income support, activity bonus.",
        ),
        ("Work - Training", "Job seeking, unemployment benefits, training, retirement."),
        ("Housing", "Housing benefits, social housing applications, energy and water."),
        ("Transport - Mobility", "Driving licence, vehicle registration, fines, Crit'Air sticker."),
        ("Money - Taxes - Consumer affairs", "Taxes, tax stamps, banking, over-indebtedness, consumer disputes."),
        ("Justice", "Criminal record extract, legal aid, online court appeals."),
        ("Foreigners", "Residence permit, naturalisation, asylum application, formalities in Europe."),
        (
            "Leisure - Sports - Culture",
            "Sports and cultural activities, registrations, registering a trip abroad (Ariane).",
        ),
    ],
};

pub static ES: MandateWording = MandateWording {
    tag: "es",
    dir: "ltr",
    name: "Español",
    translation_heading: "Traducción del mandato (español)",
    no_legal_value: "Esta traducción se ofrece solo a título informativo y no tiene valor jurídico. Solo el texto \
        en francés tiene valor legal.",
    title: "Mandato",
    version_label: "Versión del modelo de mandato",
    reference_label: "Número del mandato",
    parties_heading: "Las partes",
    usager_heading: "La persona acompañada (el mandante)",
    family_name: "Apellido de nacimiento",
    usage_name: "Apellido de uso",
    given_names: "Nombres",
    birthdate: "Fecha de nacimiento",
    birthplace: "Municipio de nacimiento (código INSEE)",
    birthcountry: "País de nacimiento",
    organisation_heading: "La entidad (el mandatario)",
    organisation_name: "Nombre de la entidad",
    siret: "Número SIRET",
    address: "Dirección",
    represented_by: "Representada por",
    helper: "{aidant}, {profession}, asistente habilitado de la entidad",
    object_heading: "1. Objeto del mandato",
    object_text: "Mediante el presente mandato (artículos 1984 y siguientes del Código Civil francés), la persona \
        acompañada autoriza a la entidad, a través de sus asistentes habilitados, a realizar en su nombre los \
        siguientes trámites administrativos en línea:",
    duration_heading: "2. Duración",
    duration_text: "El mandato se otorga por {duree}. Entra en vigor el {debut} y termina el {fin}.",
    durations: ["un día", "un mes (31 días)", "seis meses (182 días)", "un año (365 días)", "un período fijo"],
    end_heading: "3. Fin del mandato",
    end_text: "La persona acompañada puede poner fin al mandato en cualquier momento, para un trámite o para todos, \
        solicitándolo a la entidad. La entidad le entrega entonces un certificado de revocación. El mandato \
        termina por sí solo en la fecha prevista.",
    commitments_heading: "4. Compromisos de la entidad y de sus asistentes",
    commitments_text: "Los asistentes actúan únicamente para los trámites y durante el período previstos, en \
        interés de la persona acompañada. No guardan ninguna de sus contraseñas y mantienen en secreto la \
        información que conocen. Cada conexión realizada en su nombre queda anotada en un registro.",
    declaration_heading: "5. Declaración de la persona acompañada",
    declaration_text: "La persona acompañada declara no estar sujeta a ninguna medida de protección jurídica \
        (tutela, curatela, habilitación familiar o mandato de protección futura en vigor).",
    data_heading: "6. Datos personales",
    data_text: "La entidad utiliza la identidad de la persona acompañada, verificada mediante FranceConnect, \
        únicamente para este mandato y los trámites que cubre. Conforme al Reglamento General de Protección de \
        Datos (RGPD), la persona acompañada puede consultar sus datos, pedir que se corrijan o se borren y \
        oponerse a su uso, dirigiéndose a la entidad.",
    done_at: "Hecho en {lieu}, el {date}, en dos ejemplares: uno para la persona acompañada y otro para la entidad.",
    date_full: "{jour} de {mois} de {annee}",
    date_month: "{mois} de {annee}",
    first_day: None,
    months: [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    demarches: [
        (
            "Documentos de identidad - Ciudadanía",
            "Documento de identidad, pasaporte, inscripción en el censo electoral, censo ciudadano.",
        ),
        (
            "Familia - Escolaridad",
            "Prestaciones familiares, nacimiento, matrimonio, pareja de hecho (PACS), escolaridad, comedor \
             escolar y becas.",
        ),
        (
            "Social - Salud",
            "Seguro de enfermedad, seguro médico complementario, discapacidad, RSA (renta mínima), prima de \
             actividad.",
        ),
        ("Trabajo - Formación", "Búsqueda de empleo, prestaciones por desempleo, formación, jubilación."),
        ("Vivienda", "Ayudas a la vivienda, solicitud de vivienda social, energía y agua."),
        ("Transporte - Movilidad", "Permiso de conducir, permiso de circulación, multas, distintivo Crit'Air."),
        (
            "Dinero - Impuestos - Consumo",
            "Impuestos, timbres fiscales, banco, sobreendeudamiento, reclamaciones de consumo.",
        ),
        (
            "Justicia",
            "Certificado de antecedentes penales, asistencia jurídica gratuita, recursos judiciales en línea.",
        ),
        ("Extranjería", "Permiso de residencia, naturalización, solicitud de asilo, trámites en Europa."),
        (
            "Ocio - Deporte - Cultura",
            "Actividades deportivas y culturales, inscripciones, registro de viajes al extranjero (Ariane).",
        ),
    ],
};

pub static PT: MandateWording = MandateWording {
    tag: "pt",
    dir: "ltr",
    name: "Português",
    translation_heading: "Tradução do mandato (português)",
    no_legal_value: "Esta tradução é fornecida apenas a título informativo e não tem valor jurídico. Só o texto \
        em francês tem valor legal.",
    title: "Mandato",
    version_label: "Versão do modelo de mandato",
    reference_label: "Número do mandato",
    parties_heading: "As partes",
    usager_heading: "A pessoa acompanhada (o mandante)",
    family_name: "Apelido de nascimento",
    usage_name: "Apelido de uso",
    given_names: "Nomes próprios",
    birthdate: "Data de nascimento",
    birthplace: "Município de nascimento (código INSEE)",
    birthcountry: "País de nascimento",
    organisation_heading: "A entidade (o mandatário)",
    organisation_name: "Nome da entidade",
    siret: "Número SIRET",
    address: "Morada",
    represented_by: "Representada por",
    helper: "{aidant}, {profession}, assistente habilitado da entidade",
    object_heading: "1. Objeto do mandato",
    object_text: "Pelo presente mandato (artigos 1984.º e seguintes do Código Civil francês), a pessoa acompanhada \
        autoriza a entidade, através dos seus assistentes habilitados, a realizar em seu nome os seguintes \
        procedimentos administrativos em linha:",
    duration_heading: "2. Duração",
    duration_text: "O mandato é conferido por {duree}. Produz efeitos a {debut} e termina a {fin}.",
    durations: ["um dia", "um mês (31 dias)", "seis meses (182 dias)", "um ano (365 dias)", "um período fixo"],
    end_heading: "3. Fim do mandato",
    end_text: "A pessoa acompanhada pode pôr fim ao mandato a qualquer momento, para um procedimento ou para todos, \
        pedindo-o à entidade. A entidade entrega-lhe então um certificado de revogação. O mandato termina \
        automaticamente na data prevista.",
    commitments_heading: "4. Compromissos da entidade e dos seus assistentes",
    commitments_text: "Os assistentes agem apenas para os procedimentos e durante o período previstos, no interesse \
        da pessoa acompanhada. Não guardam nenhuma das suas palavras-passe e mantêm em segredo as informações de \
        que tomam conhecimento. Cada ligação feita em seu nome fica inscrita num registo.",
    declaration_heading: "5. Declaração da pessoa acompanhada",
    declaration_text: "A pessoa acompanhada declara não estar sujeita a nenhuma medida de proteção jurídica \
        (tutela, curatela, habilitação familiar ou mandato de proteção futura em vigor).",
    data_heading: "6. Dados pessoais",
    data_text: "A entidade utiliza a identidade da pessoa acompanhada, verificada através do FranceConnect, apenas \
        para este mandato e para os procedimentos que abrange. Nos termos do Regulamento Geral sobre a Proteção de \
        Dados (RGPD), a pessoa acompanhada pode consultar os seus dados, pedir que sejam corrigidos ou apagados e \
        opor-se à sua utilização, dirigindo-se à entidade.",
    done_at: "Feito em {lieu}, a {date}, em dois exemplares: um para a pessoa acompanhada e outro para a entidade.",
    date_full: "{jour} de {mois} de {annee}",
    date_month: "{mois} de {annee}",
    first_day: None,
    months: [
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ],
    demarches: [
        (
            "Documentos de identificação - Cidadania",
            "Cartão de identidade, passaporte, recenseamento eleitoral, recenseamento cívico.",
        ),
        (
            "Família - Escolaridade",
            "Prestações familiares, nascimento, casamento, união de facto (PACS), escolaridade, cantina e bolsas.",
        ),
        (
            "Social - Saúde",
            "Seguro de doença, seguro de saúde complementar, deficiência, RSA (rendimento mínimo), prémio de \
             atividade.",
        ),
        ("Trabalho - Formação", "Procura de emprego, subsídio de desemprego, formação, reforma."),
        ("Habitação", "Apoios à habitação, pedido de habitação social, energia e água."),
        ("Transportes - Mobilidade", "Carta de condução, documento do veículo, multas, dístico Crit'Air."),
        ("Dinheiro - Impostos - Consumo", "Impostos, selos fiscais, banco, sobre-endividamento, litígios de consumo."),
        ("Justiça", "Certificado do registo criminal, apoio judiciário, recursos judiciais em linha."),
        ("Estrangeiros", "Autorização de residência, naturalização, pedido de asilo, procedimentos na Europa."),
        (
            "Lazer - Desporto - Cultura",
            "Atividades desportivas e culturais, inscrições, registo de viagens ao estrangeiro (Ariane).",
        ),
    ],
};

pub static AR: MandateWording = MandateWording {
    tag: "ar",
    dir: "rtl",
    name: "العربية",
    translation_heading: "ترجمة الوكالة (العربية)",
    no_legal_value: "هذه الترجمة مقدَّمة للعلم فقط وليست لها أي قيمة قانونية. النص الفرنسي وحده هو المعتمد قانونيًا.",
    title: "وكالة",
    version_label: "إصدار نموذج الوكالة",
    reference_label: "رقم الوكالة",
    parties_heading: "الأطراف",
    usager_heading: "الشخص المرافَق (الموكِّل)",
    family_name: "اللقب عند الولادة",
    usage_name: "اللقب المستعمل",
    given_names: "الأسماء الشخصية",
    birthdate: "تاريخ الولادة",
    birthplace: "بلدية الولادة (رمز INSEE)",
    birthcountry: "بلد الولادة",
    organisation_heading: "الهيئة (الوكيل)",
    organisation_name: "اسم الهيئة",
    siret: "رقم SIRET",
    address: "العنوان",
    represented_by: "يمثّلها",
    helper: "{aidant}، {profession}، مساعد معتمد لدى الهيئة",
    object_heading: "1. موضوع الوكالة",
    object_text: "بموجب هذه الوكالة (المواد 1984 وما يليها من القانون المدني الفرنسي)، يأذن الشخص المرافَق \
        للهيئة، عن طريق مساعديها المعتمدين، بأن تقوم باسمه بالإجراءات الإدارية التالية عبر الإنترنت:",
    duration_heading: "2. المدة",
    duration_text: "تُمنح الوكالة لمدة {duree}. تسري ابتداءً من {debut} وتنتهي في {fin}.",
    durations: ["يوم واحد", "شهر واحد (31 يومًا)", "ستة أشهر (182 يومًا)", "سنة واحدة (365 يومًا)", "فترة محددة"],
    end_heading: "3. انتهاء الوكالة",
    end_text: "يجوز للشخص المرافَق إنهاء الوكالة في أي وقت، لإجراء واحد أو لجميع الإجراءات، بطلب ذلك من الهيئة. \
        وتسلّمه الهيئة عندئذٍ شهادة إلغاء. وتنتهي الوكالة تلقائيًا في التاريخ المحدد.",
    commitments_heading: "4. التزامات الهيئة ومساعديها",
    commitments_text: "لا يتصرف المساعدون إلا في الإجراءات وخلال المدة المحددة، وبما يخدم مصلحة الشخص المرافَق. \
        ولا يحتفظون بأي من كلمات المرور الخاصة به، ويحافظون على سرية المعلومات التي يطّلعون عليها. ويُسجَّل كل \
        دخول يتم باسمه في سجل.",
    declaration_heading: "5. تصريح الشخص المرافَق",
    declaration_text: "يصرّح الشخص المرافَق بأنه لا يخضع لأي تدبير من تدابير الحماية القانونية (الوصاية أو القوامة \
        أو التفويض العائلي أو وكالة الحماية المستقبلية السارية).",
    data_heading: "6. البيانات الشخصية",
    data_text: "لا تستخدم الهيئة هوية الشخص المرافَق، التي جرى التحقق منها عبر FranceConnect، إلا لهذه الوكالة \
        وللإجراءات التي تشملها. ووفقًا للائحة العامة لحماية البيانات (RGPD)، يحق للشخص المرافَق الاطلاع على \
        بياناته وطلب تصحيحها أو حذفها والاعتراض على استخدامها، وذلك بالتوجه إلى الهيئة.",
    done_at: "حُرِّر في {lieu}، بتاريخ {date}، في نسختين: نسخة للشخص المرافَق ونسخة للهيئة.",
    date_full: "{jour} {mois} {annee}",
    date_month: "{mois} {annee}",
    first_day: None,
    months: [
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "مايو",
        "يونيو",
        "يوليو",
        "أغسطس",
        "سبتمبر",
        "أكتوبر",
        "نوفمبر",
        "ديسمبر",
    ],
    demarches: [
        ("الوثائق الرسمية - المواطنة", "بطاقة الهوية، جواز السفر، التسجيل في القوائم الانتخابية، الإحصاء المدني."),
        (
            "الأسرة - الدراسة",
            "المنح العائلية، الولادة، الزواج، الشراكة المدنية (PACS)، الدراسة، المطعم المدرسي والمنح الدراسية.",
        ),
        (
            "الشؤون الاجتماعية - الصحة",
            "التأمين الصحي، التغطية الصحية التكميلية، الإعاقة، دخل التضامن النشط (RSA)، منحة النشاط.",
        ),
        ("العمل - التدريب", "البحث عن عمل، تعويضات البطالة، التدريب المهني، التقاعد."),
        ("السكن", "مساعدات السكن، طلب سكن اجتماعي، الطاقة والماء."),
        ("النقل - التنقل", "رخصة القيادة، شهادة تسجيل المركبة، المخالفات، ملصق Crit'Air."),
        ("المال - الضرائب - الاستهلاك", "الضرائب، الطوابع الجبائية، البنك، المديونية المفرطة، نزاعات الاستهلاك."),
        ("العدالة", "مستخرج السجل العدلي، المساعدة القضائية، الطعون القضائية عبر الإنترنت."),
        ("الأجانب", "بطاقة الإقامة، التجنيس، طلب اللجوء، الإجراءات في أوروبا."),
        ("الترفيه - الرياضة - الثقافة", "الأنشطة الرياضية والثقافية، التسجيلات، تسجيل السفر إلى الخارج (Ariane)."),
    ],
};

/// The country named by an INSEE code, in `language`; the code itself for a country not listed.
pub fn country_name(code: &str, language: Language) -> String {
    let index = match language {
        Language::Fr => 0,
        Language::En => 1,
        Language::Es => 2,
        Language::Pt => 3,
        Language::Ar => 4,
    };
    match crate::web::places::COUNTRIES.iter().find(|(c, _)| *c == code) {
        Some((_, names)) => format!("{} ({code})", names[index]),
        None => code.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_of_every_language_is_the_french_ones() {
        for language in [Language::Fr, Language::En, Language::Es, Language::Pt, Language::Ar] {
            let w = language.wording();
            for (text, names) in [
                (w.helper, &["aidant", "profession"][..]),
                (w.duration_text, &["duree", "debut", "fin"][..]),
                (w.done_at, &["lieu", "date"][..]),
                (w.date_full, &["jour", "mois", "annee"][..]),
                (w.date_month, &["mois", "annee"][..]),
            ] {
                for name in names {
                    assert!(text.contains(&format!("{{{name}}}")), "{} lacks {{{name}}}: {text}", w.tag);
                }
                let filled = fill(text, &names.iter().map(|n| (*n, "x")).collect::<Vec<_>>());
                assert!(!filled.contains('{'), "{}: unknown placeholder in {text}", w.tag);
            }
        }
    }

    #[test]
    fn french_titles_are_the_ones_every_page_shows() {
        for demarche in Demarche::ALL {
            assert_eq!(FR.demarche(demarche).0, demarche.label_fr());
            assert_eq!(EN.demarche(demarche).0, demarche.label_en());
        }
    }

    #[test]
    fn translations_say_they_have_no_legal_value_and_arabic_reads_right_to_left() {
        for language in Language::TRANSLATIONS {
            assert!(!language.wording().no_legal_value.is_empty());
            assert_eq!(Language::from_tag(language.tag()), Some(language));
        }
        assert_eq!(AR.dir, "rtl");
        assert_eq!(Language::from_tag("de"), None);
    }

    #[test]
    fn countries_are_named_with_their_code() {
        assert_eq!(country_name("99139", Language::Fr), "Portugal (99139)");
        assert_eq!(country_name("99352", Language::Es), "Argelia (99352)");
        assert_eq!(country_name("99999", Language::Fr), "99999");
    }
}
