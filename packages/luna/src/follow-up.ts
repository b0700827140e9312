/**
 * Follow-up questions in a conversation: "When is her birthday?" after "Who is allergic to
 * cats?" is about whoever the last answer was about. Memory is searched for what the
 * question says plus who it refers to, taken from the previous turn.
 */

/** Pronouns that refer back to someone or something named before. */
const REFERRING = /\b(she|he|her|hers|him|his|they|them|their|theirs|it|its)\b/i;

/** Names in a text: capitalised words that do not start a sentence. */
function names(text: string): string[] {
  const out: string[] = [];
  const re = /(^|[.!?:;]\s+|\s)(\p{Lu}[\p{L}'’-]*)/gu;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const starts = m.index === 0 || /[.!?:;]/.test(m[1] ?? '');
    if (!starts) out.push((m[2] as string).replace(/['’]s$/u, ''));
  }
  return out;
}

/** The subjects an answer gave its quotes (`[Grandma Rose]`, `[Maya's]`), citations left out. */
function quotedSubjects(answer: string): string[] {
  const out: string[] = [];
  for (const m of answer.matchAll(/\[([^\]]*\p{L}[^\]]*)\]/gu)) {
    const subject = (m[1] as string).replace(/['’]s$/u, '').trim();
    if (subject !== '' && subject.toLowerCase() !== 'offline') out.push(subject);
  }
  return out;
}

/**
 * The question to search memory with: `question` itself, or, when it refers back with a
 * pronoun and names no one, `question` followed by who the previous turn was about (the
 * subjects of its quotes, else the names in its question and answer).
 */
export function followUpQuery(
  question: string,
  previous: { question: string; answer: string } | undefined,
): string {
  if (!previous || !REFERRING.test(question) || names(question).length > 0) return question;
  const subjects = quotedSubjects(previous.answer);
  const referents = subjects.length > 0 ? subjects : names(previous.question);
  const unique = [...new Set(referents)].slice(0, 3);
  return unique.length > 0 ? `${question} (${unique.join(', ')})` : question;
}
