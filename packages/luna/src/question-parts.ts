/**
 * The parts of a compound question. "Where does my brother work and where is it?" asks two
 * things, each answered by its own note: judged as one question, the note that answers the
 * first part covers most of it and the second part is never answered. A question is cut
 * before "and" (in several languages) when a question word or, in English, an auxiliary
 * follows it ("... and is it open on Sundays?"), and between two questions ("...? ...?").
 * "Who is allergic to cats and penicillin?" stays whole, and so does "What does she teach
 * and where?", whose last part asks nothing without the first.
 */

/** Words that join two questions. */
const JOINING = new Set(['and', 'und', 'et', 'y', 'e', 'og', 'och', 'ja', 'и']);

/** Words that open a question (lower case, without the Spanish `¿`). */
const ASKING = new Set(
  [
    'who whom whose what when where why how which',
    // German, French, Spanish, Italian, Portuguese
    'wer wen wem wessen was wann wo woher wohin warum wieso weshalb wie welche welcher welches',
    'qui que quoi quand où pourquoi comment quel quelle quels quelles combien',
    'quién quien quiénes qué cuándo dónde cómo cuál cuáles cuánto cuánta',
    'chi cosa quando dove perché come quale quali quanto quanta',
    'quem onde qual quais quanto',
    // Dutch, Swedish, Norwegian and Danish, Finnish, Polish, Russian
    'wie wat wanneer waar waarom hoe welke',
    'vem vad när var varför hur vilken vilket vilka',
    'hvem hva hvad når hvor hvorfor hvordan hvilken hvilket hvilke',
    'kuka mikä missä milloin miksi miten',
    'kto co kiedy gdzie dlaczego jak który która które',
    'кто что когда где куда почему как какой какая какое какие',
  ]
    .join(' ')
    .split(' '),
);

/** English auxiliaries that open a yes-or-no question when a subject follows ("and is it ..."). */
const AUXILIARY = new Set(
  'is are was were do does did can could will would has have should'.split(' '),
);
/** Subjects after an auxiliary: it asks ("and is it open?"), not goes on ("and is collected"). */
const SUBJECTS = new Set(
  'i you he she it we they there the a an my your his her its our their this that'.split(' '),
);

/** Words of a piece of question (letters and digits, lower case, `¿¡` dropped). */
const wordsOf = (text: string) => text.toLowerCase().match(/[\p{L}\p{M}\p{N}'’-]+/gu) ?? [];

/** The question cut at each "and" that starts a new question. */
function cutAtJoins(question: string): string[] {
  const parts: string[] = [];
  let start = 0;
  const re = /[,;]?\s+(\p{L}+)\s+¿?(\p{L}+)(?=(?:\s+(\p{L}+))?)/gu;
  for (let m = re.exec(question); m; m = re.exec(question)) {
    const [joining, next] = [(m[1] as string).toLowerCase(), (m[2] as string).toLowerCase()];
    const then = m[3] ?? '';
    const asks =
      ASKING.has(next) ||
      (joining === 'and' &&
        AUXILIARY.has(next) &&
        (SUBJECTS.has(then.toLowerCase()) || /^\p{Lu}/u.test(then)));
    // "... and where?": the rest asks the same thing again about another side of it.
    const rest = wordsOf(question.slice(m.index + m[0].length - (m[2] as string).length));
    const elliptic = rest.every((w) => ASKING.has(w) || JOINING.has(w));
    if (!JOINING.has(joining) || !asks || elliptic) {
      // Look again from the next word: it may be the "and".
      re.lastIndex = m.index + 1;
      continue;
    }
    const before = question.slice(start, m.index);
    // A part of one word ("How and when ...") asks nothing of its own.
    if (wordsOf(before).length >= 2) {
      parts.push(before);
      start = m.index + m[0].length - (m[2] as string).length;
    }
    re.lastIndex = m.index + m[0].length - (m[2] as string).length;
  }
  parts.push(question.slice(start));
  return parts;
}

/** The parts of `question`, in order, each as written; one part when it asks one thing. */
export function questionParts(question: string): string[] {
  // Two questions in a row: each ends at its question mark.
  const asked = question.match(/[^?？]+[?？]?/gu) ?? [question];
  const parts = asked
    .flatMap(cutAtJoins)
    .map((p) => p.trim())
    .filter((p) => wordsOf(p).length > 0);
  // A question without a word ("?", a control character) is still one question to answer.
  return parts.length > 0 ? parts : [question];
}
