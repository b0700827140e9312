/**
 * Words a note writes for what a question asks in other words: "When is Emma's birthday?"
 * is answered by "Emma turns six on 14 March", "Who is Karin married to?" by "Karin lives
 * with her husband Ole", "Who is Lisa's mother?" by "Karin's daughter Lisa". Each group
 * is one relation of everyday life (a birthday, a marriage, parents and children...),
 * in the languages the question splitter knows. A word of a group stands for another of
 * the same group for part of its weight (see `relevance.ts`), so a note that says what was
 * asked in its own words ("Her birthday is on 2 November") still comes first.
 *
 * `same` words say the same thing as each other (born, birthday, turns, Geburtstag); `hints`
 * only point at it (a year of birth at an age) and count for less, one way: asked about
 * an age, a birthday hints at it; asked about a birthday, "old" does not ("Emma's old
 * bike").
 */
import { stem } from './text.js';

interface RelatedGroup {
  same: string;
  hints?: string;
}

// Words that are also common words of another language the groups hold ("kind", "far",
// "gift", "nicht", "handy", "wed") are left out: they would stand for a relation in every
// note that happens to use them. Every entry is one word as `words` cuts a text (no
// hyphens, which it cuts at).
const GROUPS: readonly RelatedGroup[] = [
  {
    // A birthday.
    same:
      'birthday birthdays born birth birthdate bday geburtstag geboren anniversaire né née ' +
      'cumpleaños nació nacida nacido compleanno nato nata verjaardag jarig aniversário ' +
      'nasceu bursdag fødselsdag født födelsedag född syntymäpäivä syntyi urodziny urodził ' +
      'urodziła turns turning turned fyller fyllde täyttää kończy',
    hints: 'cumple compie',
  },
  {
    // How old someone is: told by a birthday to come or a year of birth.
    same:
      'age aged old âge edad età leeftijd idade ålder ikä wiek turns turning turned fyller ' +
      'fyllde täyttää kończy',
    hints:
      'cumple compie born birthday geboren né née nació nato nata født född syntyi urodził ' +
      'urodziła',
  },
  {
    // A marriage or a partner.
    same:
      'married marry marriage spouse husband wife partner wedding verheiratet ehemann ' +
      'ehefrau ehepartner hochzeit marié mariée mari épouse époux mariage casado casada ' +
      'marido esposa esposo boda sposato sposata marito moglie matrimonio getrouwd ' +
      'echtgenoot echtgenote bruiloft casou ektemann ektefelle kone bryllup hustru maka ' +
      'bröllop naimisissa aviomies vaimo puoliso żonaty mężatka mąż żona ślub',
  },
  {
    // Parents and their children: one is asked for, the other written.
    same:
      'mother mom mum mama father dad papa parent parents daughter son child children kid ' +
      'kids mutter vater eltern tochter sohn mère père fille fils enfant enfants madre ' +
      'padre padres hija hijo hijos genitori figlia figlio figli moeder vader ouders dochter ' +
      'zoon mãe pai filha filho filhos mor foreldre datter sønn dotter föräldrar äiti isä ' +
      'tytär poika lapsi matka ojciec córka syn dziecko',
  },
  {
    // A sibling's children, told by whose children they are.
    same:
      'niece nephew nichte neffe nièce neveu sobrina sobrino nipote neef sobrinha sobrinho ' +
      'niese nevø systerdotter brorson veljenpoika siskontytär siostrzenica bratanek',
    hints:
      'daughter son tochter sohn fille fils hija hijo figlia figlio dochter zoon filha filho ' +
      'datter sønn dotter tytär poika córka syn',
  },
  {
    // Grandparents and grandchildren.
    same:
      'grandmother grandma granny nana grandfather grandpa grandparents grandchild ' +
      'grandchildren granddaughter grandson oma opa großmutter großvater enkel enkelin ' +
      'mamie papi abuela abuelo nieta nieto ' +
      'nonna nonno nipote grootmoeder grootvader kleinkind avó avô neta neto bestemor ' +
      'bestefar mormor morfar farmor farfar barnebarn barnbarn isoäiti isoisä mummo ukki ' +
      'lapsenlapsi babcia dziadek wnuczka wnuk',
  },
  {
    // Where someone lives.
    same:
      'address live lives living lived adresse wohnt wohnen habite domicile dirección vive ' +
      'indirizzo abita woont adres morada mora bor bodde osoite asuu mieszka',
    hints: 'home',
  },
  {
    // Where someone works.
    same:
      'work works working job employer employed arbeit arbeitet beruf travail travaille ' +
      'emploi trabajo trabaja empleo lavoro lavora werk werkt baan trabalho trabalha jobb ' +
      'jobber arbeider arbetar työ työskentelee praca pracuje',
    hints: 'office',
  },
  {
    // A doctor.
    same:
      'doctor dr gp physician arzt ärztin médecin docteur médico doctora dottore lege ' +
      'läkare lääkäri lekarz',
  },
  {
    // A telephone.
    same: 'phone telephone mobile tel tlf telefon téléphone teléfono telefono móvil',
  },
];

/** How a word of a group stands for an asked word of the same group. */
export type Relation = 'same' | 'hint';

/** For each stem: the stems of its groups, each with how it relates. */
const RELATED = new Map<string, Map<string, Relation>>();

const stems = (list: string | undefined) =>
  (list ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => stem(w.toLowerCase()));

for (const group of GROUPS) {
  const same = stems(group.same);
  const hints = stems(group.hints);
  for (const asked of same) {
    const related = RELATED.get(asked) ?? new Map<string, Relation>();
    for (const s of same) if (s !== asked) related.set(s, 'same');
    for (const h of hints) if (!related.has(h) && h !== asked) related.set(h, 'hint');
    RELATED.set(asked, related);
  }
}

/** The stems that may stand for `asked` (a stem), with how; undefined when none. */
export function relatedStems(asked: string): ReadonlyMap<string, Relation> | undefined {
  return RELATED.get(asked);
}
