// UI strings in English and Spanish. Questionnaire text comes from the
// server's questionnaires (Spanish from their FHIR translation extensions).

const en = {
  title: "Good-faith exam",
  loading: "Loading…",
  loadFailed: "The exam could not load. Please try again later.",
  inviteFailed: "This link has expired or is no longer valid. Please ask the clinic for a new one.",
  retry: "Try again",
  stepOf: "Step {n} of {total}",
  next: "Continue",
  back: "Back",
  edit: "Edit",
  language: "Language",
  errorsHeading: "Please fix the highlighted fields.",
  required: "This field is required.",
  networkError: "We could not reach the server. Check your connection and try again.",
  // treatments
  treatmentsTitle: "Which treatments are you interested in?",
  treatmentsHint: "Choose one or more.",
  chooseTreatment: "Choose at least one treatment.",
  // identity
  identityTitle: "About you",
  identityHint: "Use your legal name as it appears on your ID: it is printed on the medical order.",
  state: "State where you are now",
  chooseState: "Choose a state",
  firstName: "Legal first name",
  lastName: "Legal last name",
  confirmName: "Type your full legal name again (first and last)",
  nameMismatch: "This does not match the first and last name above.",
  dob: "Date of birth",
  confirmDob: "Confirm your date of birth",
  dobMismatch: "The two dates of birth do not match.",
  email: "Email (for your result)",
  phone: "Mobile phone (optional)",
  identityLocked: "Your details are saved with this exam. To change them, start over.",
  startOver: "Start over",
  identityInvite: "Your clinic entered these details. If something is wrong, please contact the clinic.",
  // questions
  questionsTitle: "Your health history",
  questionsHint: "Your answers go only to the reviewing medical provider.",
  yes: "Yes",
  no: "No",
  photoHint: "JPEG, PNG or HEIC, up to 10 MB each.",
  photoType: "Photos must be JPEG, PNG or HEIC images.",
  photoSize: "Each photo must be 10 MB or smaller.",
  photoUploading: "Uploading…",
  photoUploaded: "{n} photo(s) uploaded",
  photoFailed: "The photo could not be uploaded. Please try again.",
  photoRequired: "Photos are required for an online review in your state.",
  photoRequiredHint: "Required: your state's rules need photos for an online review.",
  photoAsyncHint: "Required for an online review in your state (not needed if you choose a live video visit).",
  photosExtra: "Photos of yourself for the reviewing provider, in good light.",
  // consent
  consentTitle: "Consent and privacy",
  consentTelehealthText:
    "A licensed medical provider will review your health history (and photos) remotely, without an in-person visit. Telehealth has limits: the provider may ask for more information or a visit, and may decline to order a treatment. You can withdraw this consent at any time before the review.",
  consentTelehealth: "I consent to a telehealth good-faith exam.",
  privacyText:
    "Your health information is used only for this exam, is shared only with the reviewing provider and with {clinic} for your care, and is protected as required by HIPAA. It is never sold or used for advertising.",
  consentPrivacy: "I have read the privacy notice.",
  consentNeeded: "This consent is needed to continue.",
  // modality
  modalityTitle: "How would you like to be seen?",
  async: "Online review (no appointment)",
  asyncWait: "A provider reviews your answers; expected wait: {wait}.",
  waitOpen: "usually within 2 hours",
  waitClosed: "by the end of the next business day",
  video: "Live video visit now",
  videoClosed: "Video visits are available during clinic hours only.",
  videoNotAllowed: "Not available for your state and treatments.",
  // review
  reviewTitle: "Review and submit",
  reviewHint: "Check your answers before you submit. You cannot change them afterwards.",
  treatments: "Treatments",
  you: "You",
  answers: "Health history",
  photos: "Photos",
  modality: "Visit type",
  submit: "Submit for review",
  submitting: "Submitting…",
  none: "None",
  // status
  statusTitle: "Your exam",
  thanks: "Thank you, {name}.",
  status_draft: "Not submitted yet.",
  status_submitted: "Submitted. Finding a provider licensed in your state…",
  status_queued: "Submitted. You are in line for a provider's review.",
  status_claimed: "A provider is reviewing your exam now.",
  status_in_consult: "Your video visit is in progress.",
  status_cancelled: "This exam was cancelled.",
  status_expired: "No provider could review this exam in time. The clinic will contact you.",
  status_not_applicable: "The exam could not be completed. The clinic will contact you.",
  outcome_approved: "Approved. The provider cleared you for treatment; the clinic has your order.",
  outcome_deferred: "Deferred. The provider needs more before approving.",
  outcome_denied: "Not approved. The provider did not clear this treatment for you.",
  reason: "The provider's reason:",
  validUntil: "Order valid until {date}.",
  updating: "This page updates by itself.",
  newExam: "Start a new exam",
} as const;

export type Key = keyof typeof en;

const es: Record<Key, string> = {
  title: "Examen de buena fe",
  loading: "Cargando…",
  loadFailed: "No se pudo cargar el examen. Inténtelo más tarde.",
  inviteFailed: "Este enlace venció o ya no es válido. Pida uno nuevo a la clínica.",
  retry: "Intentar de nuevo",
  stepOf: "Paso {n} de {total}",
  next: "Continuar",
  back: "Atrás",
  edit: "Editar",
  language: "Idioma",
  errorsHeading: "Corrija los campos marcados.",
  required: "Este campo es obligatorio.",
  networkError: "No pudimos conectar con el servidor. Revise su conexión e inténtelo de nuevo.",
  treatmentsTitle: "¿Qué tratamientos le interesan?",
  treatmentsHint: "Elija uno o más.",
  chooseTreatment: "Elija al menos un tratamiento.",
  identityTitle: "Sus datos",
  identityHint: "Use su nombre legal tal como aparece en su identificación: se imprime en la orden médica.",
  state: "Estado donde se encuentra ahora",
  chooseState: "Elija un estado",
  firstName: "Nombre legal",
  lastName: "Apellido legal",
  confirmName: "Escriba de nuevo su nombre legal completo (nombre y apellido)",
  nameMismatch: "No coincide con el nombre y el apellido de arriba.",
  dob: "Fecha de nacimiento",
  confirmDob: "Confirme su fecha de nacimiento",
  dobMismatch: "Las dos fechas de nacimiento no coinciden.",
  email: "Correo electrónico (para su resultado)",
  phone: "Teléfono móvil (opcional)",
  identityLocked: "Sus datos están guardados con este examen. Para cambiarlos, empiece de nuevo.",
  startOver: "Empezar de nuevo",
  identityInvite: "Su clínica escribió estos datos. Si algo está mal, comuníquese con la clínica.",
  questionsTitle: "Su historial médico",
  questionsHint: "Sus respuestas solo las ve el profesional médico que revisa su caso.",
  yes: "Sí",
  no: "No",
  photoHint: "JPEG, PNG o HEIC, hasta 10 MB cada una.",
  photoType: "Las fotos deben ser imágenes JPEG, PNG o HEIC.",
  photoSize: "Cada foto debe pesar 10 MB o menos.",
  photoUploading: "Subiendo…",
  photoUploaded: "{n} foto(s) subida(s)",
  photoFailed: "No se pudo subir la foto. Inténtelo de nuevo.",
  photoRequired: "En su estado se necesitan fotos para una revisión en línea.",
  photoRequiredHint: "Obligatorio: las normas de su estado piden fotos para una revisión en línea.",
  photoAsyncHint: "Obligatorio para una revisión en línea en su estado (no hace falta si elige una videollamada en vivo).",
  photosExtra: "Fotos suyas, con buena luz, para el proveedor médico que revisa su caso.",
  consentTitle: "Consentimiento y privacidad",
  consentTelehealthText:
    "Un profesional médico con licencia revisará su historial (y sus fotos) a distancia, sin visita en persona. La telesalud tiene límites: el profesional puede pedir más información o una visita, y puede no ordenar un tratamiento. Puede retirar este consentimiento en cualquier momento antes de la revisión.",
  consentTelehealth: "Doy mi consentimiento para un examen de buena fe por telesalud.",
  privacyText:
    "Su información de salud se usa solo para este examen, se comparte solo con el profesional que lo revisa y con {clinic} para su atención, y se protege según exige HIPAA. Nunca se vende ni se usa para publicidad.",
  consentPrivacy: "He leído el aviso de privacidad.",
  consentNeeded: "Este consentimiento es necesario para continuar.",
  modalityTitle: "¿Cómo quiere que le atiendan?",
  async: "Revisión en línea (sin cita)",
  asyncWait: "Un profesional revisa sus respuestas; espera estimada: {wait}.",
  waitOpen: "normalmente menos de 2 horas",
  waitClosed: "antes del final del siguiente día hábil",
  video: "Videoconsulta ahora",
  videoClosed: "Las videoconsultas solo están disponibles en el horario de la clínica.",
  videoNotAllowed: "No disponible para su estado y tratamientos.",
  reviewTitle: "Revisar y enviar",
  reviewHint: "Revise sus respuestas antes de enviar. No podrá cambiarlas después.",
  treatments: "Tratamientos",
  you: "Usted",
  answers: "Historial médico",
  photos: "Fotos",
  modality: "Tipo de consulta",
  submit: "Enviar para revisión",
  submitting: "Enviando…",
  none: "Ninguno",
  statusTitle: "Su examen",
  thanks: "Gracias, {name}.",
  status_draft: "Todavía no se ha enviado.",
  status_submitted: "Enviado. Buscando un profesional con licencia en su estado…",
  status_queued: "Enviado. Está en espera de la revisión de un profesional.",
  status_claimed: "Un profesional está revisando su examen ahora.",
  status_in_consult: "Su videoconsulta está en curso.",
  status_cancelled: "Este examen fue cancelado.",
  status_expired: "Ningún profesional pudo revisar este examen a tiempo. La clínica se pondrá en contacto.",
  status_not_applicable: "No se pudo completar el examen. La clínica se pondrá en contacto.",
  outcome_approved: "Aprobado. El profesional le autorizó el tratamiento; la clínica tiene su orden.",
  outcome_deferred: "Aplazado. El profesional necesita más información antes de aprobar.",
  outcome_denied: "No aprobado. El profesional no autorizó este tratamiento para usted.",
  reason: "Motivo del profesional:",
  validUntil: "Orden válida hasta el {date}.",
  updating: "Esta página se actualiza sola.",
  newExam: "Empezar un examen nuevo",
};

const treatmentNamesEs: Record<string, string> = {
  neurotoxin: "Neurotoxina (bótox)",
  dermal_filler: "Rellenos dérmicos",
  laser_energy: "Láser y energía",
  iv_therapy: "Terapia intravenosa",
  glp1: "GLP-1 (pérdida de peso)",
  peptide: "Péptidos",
  testosterone: "Testosterona",
};

export type Lang = "en" | "es";
const tables: Record<Lang, Record<Key, string>> = { en, es };

export function pickLang(asked: string | null, offered: string[]): Lang {
  const want = (asked || navigator.language || "en").slice(0, 2).toLowerCase();
  return want === "es" && offered.indexOf("es") >= 0 ? "es" : "en";
}

export function translator(lang: Lang) {
  const table = tables[lang];
  return function t(key: Key, vars?: Record<string, string | number>): string {
    let s: string = table[key] || en[key];
    if (vars) for (const k in vars) s = s.split("{" + k + "}").join(String(vars[k]));
    return s;
  };
}

export function treatmentName(lang: Lang, id: string, fallback: string): string {
  return (lang === "es" && treatmentNamesEs[id]) || fallback;
}
