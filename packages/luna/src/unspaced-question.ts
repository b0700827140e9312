/**
 * The parts of a question in Chinese, Japanese, Korean, Thai, Lao, Khmer or Myanmar that
 * carry its content.
 *
 * Those scripts put no spaces between words, so a question's terms are its pairs of
 * characters, as CARMA's BM25 indexes them (`unspacedTerms`). Pairs made with the question's
 * grammar (是什么 "what is", どこですか "where is", 어디입니까 "where is", and particles such as
 * 的, の, 의) are in no note that answers it, and each would count against that note as a
 * content word it lacks: 中国的首都是什么 found 北京是中国的首都 at relevance 0.22. So the
 * grammar is cut out before the pairs are made:
 *
 * - Chinese (a run of Han only): question words and the commonest particles.
 * - Japanese (a run with kana): hiragana, which writes particles, endings, copulas and
 *   question words (の, は, です, どこ); kanji and katakana carry the content. 何 and 誰.
 * - Korean (Hangul words, spaced): a word that is a question word is dropped; one particle
 *   or polite ending is taken off the end of the others (한국의 -> 한국, 수도는 -> 수도) when
 *   two syllables or more remain.
 * - Thai, Lao, Khmer and Myanmar: cut into words by the runtime's dictionaries
 *   (`Intl.Segmenter`, ICU's), their grammar words dropped: Thai's stopwords (stopwords-iso:
 *   ของ, คือ, อะไร), so เมืองหลวงของประเทศไทยคืออะไร keeps เมือง, หลวง, ประเทศไทย; for the
 *   three others, which stopwords-iso lacks, their question words, copulas and particles
 *   (`GRAMMAR`). Uncut, ນະຄອນຫຼວງຂອງໄທແມ່ນຫຍັງ ("what is the capital of Thailand") found
 *   ວຽງຈັນແມ່ນນະຄອນຫຼວງຂອງລາວ ("Vientiane is the capital of Laos") an answer: the pairs of
 *   ຂອງ ("of") and ແມ່ນ ("is") matched it.
 *
 * A lone character left between cuts is dropped too (a pair is the smallest term), unless
 * nothing else is left.
 */
import { hasUnspaced } from '@aios/utils';
import { stopwordsOf } from './question-language.js';

/** Chinese question words and particles, longest first (simplified and traditional). */
const ZH_CUTS = [
  '为什么',
  '為什麼',
  '怎么样',
  '怎麼樣',
  '是不是',
  '有没有',
  '有沒有',
  '什么',
  '什麼',
  '哪里',
  '哪裡',
  '哪儿',
  '哪兒',
  '哪个',
  '哪個',
  '哪些',
  '怎么',
  '怎麼',
  '怎样',
  '怎樣',
  '如何',
  '多少',
  '几个',
  '幾個',
  '何时',
  '何時',
  '是否',
  '哪',
  '谁',
  '誰',
  '几',
  '幾',
  '的',
  '了',
  '吗',
  '嗎',
  '呢',
  '吧',
  '啊',
  '么',
  '麼',
  '是',
  '在',
  '有',
  '和',
  '与',
  '與',
  '及',
  '或',
  '也',
  '还',
  '還',
  '这',
  '這',
  '那',
];
const ZH_CUT = new RegExp(ZH_CUTS.join('|'), 'gu');

/** Japanese: hiragana (grammar) and the kanji question words. */
const JA_CUT = /[\u3041-\u309f]+|何|誰/gu;
const KANA = /[\u3041-\u30ff\u31f0-\u31ff\uff66-\uff9f]/u;

const HANGUL_WORD = /^[\uac00-\ud7af]+$/u;
/** Korean question words: a word starting with one asks, it does not inform. */
const KO_ASKING = [
  '어디',
  '무엇',
  '무슨',
  '뭐',
  '뭔',
  '누구',
  '누가',
  '언제',
  '어떻게',
  '어떤',
  '어느',
  '왜',
  '몇',
  '얼마',
];
/** Korean particles and polite endings, longest first. */
const KO_ENDINGS = [
  '입니까',
  '입니다',
  '인가요',
  '이에요',
  '에서는',
  '예요',
  '이야',
  '에서',
  '으로',
  '에게',
  '한테',
  '께서',
  '까지',
  '부터',
  '처럼',
  '보다',
  '이랑',
  '하고',
  '은',
  '는',
  '이',
  '가',
  '을',
  '를',
  '의',
  '에',
  '도',
  '로',
  '와',
  '과',
  '만',
  '요',
];

function koreanWord(word: string): string | undefined {
  if (KO_ASKING.some((asking) => word.startsWith(asking))) return undefined;
  for (const ending of KO_ENDINGS) {
    if (word.endsWith(ending) && [...word].length - [...ending].length >= 2) {
      return word.slice(0, -ending.length);
    }
  }
  return word;
}

/**
 * Question words, copulas, particles and the commonest prepositions of Lao, Khmer and
 * Myanmar, as their dictionaries cut them (ຢູ່ໃສ "where" is one word, ဘယ်သူ "who" two).
 */
const GRAMMAR: Record<string, readonly string[]> = {
  lo: [
    'ແມ່ນ',
    'ຫຍັງ',
    'ແມ່ນຫຍັງ',
    'ຂອງ',
    'ຢູ່',
    'ໃສ',
    'ຢູ່ໃສ',
    'ໃຜ',
    'ເມື່ອໃດ',
    'ໃດ',
    'ເປັນ',
    'ເປັນຫຍັງ',
    'ແນວໃດ',
    'ຈັກ',
    'ເທົ່າໃດ',
    'ແລະ',
    'ຫຼື',
    'ບໍ',
    'ບໍ່',
    'ນີ້',
    'ນັ້ນ',
    'ໃນ',
    'ທີ່',
    'ກັບ',
    'ຈາກ',
    'ໄດ້',
    'ມີ',
  ],
  km: [
    'គឺ',
    'គឺជា',
    'ជា',
    'អ្វី',
    'តើ',
    'របស់',
    'នៃ',
    'នៅ',
    'ណា',
    'ឯណា',
    'នៅឯណា',
    'អ្នកណា',
    'នរណា',
    'ពេលណា',
    'ប៉ុន្មាន',
    'ហេតុអ្វី',
    'យ៉ាងម៉េច',
    'យ៉ាងដូចម្តេច',
    'ដែល',
    'និង',
    'ឬ',
    'ទេ',
    'ក្នុង',
    'ទៅ',
    'ពី',
    'បាន',
    'មាន',
    'នេះ',
    'នោះ',
  ],
  my: [
    'က',
    'ဘာ',
    'လဲ',
    'သလဲ',
    'ပါသလဲ',
    'လား',
    'သည်',
    'ဖြစ်',
    'ဖြစ်သည်',
    'ဘယ်',
    'ဘယ်မှာ',
    'ဘယ်သူ',
    'သူ',
    'ဘယ်လို',
    'ဘာကြောင့်',
    'ဘယ်လောက်',
    'ဘယ်နှစ်',
    'ရဲ့',
    'မှာ',
    'ကို',
    'နဲ့',
    'နှင့်',
    'ပါ',
    'တွင်',
    'မှ',
    'ဟာ',
    'တယ်',
    'ရှိ',
  ],
};

/** Scripts cut into words by a dictionary, and the language whose words they are. */
const SEGMENTED: ReadonlyArray<readonly [RegExp, string]> = [
  [/[\u0e00-\u0e7f]/u, 'th'],
  [/[\u0e80-\u0eff]/u, 'lo'],
  [/[\u1780-\u17ff]/u, 'km'],
  [/[\u1000-\u109f]/u, 'my'],
];

const segmenters = new Map<string, { segmenter: Intl.Segmenter; grammar: ReadonlySet<string> }>();

/** The words of a run in `language` but its grammar words. */
function dictionaryWords(run: string, language: string): string[] {
  let cut = segmenters.get(language);
  if (!cut) {
    cut = {
      segmenter: new Intl.Segmenter(language, { granularity: 'word' }),
      grammar: new Set([...(stopwordsOf(language) ?? []), ...(GRAMMAR[language] ?? [])]),
    };
    segmenters.set(language, cut);
  }
  const out: string[] = [];
  for (const { segment, isWordLike } of cut.segmenter.segment(run)) {
    if (isWordLike && !cut.grammar.has(segment)) out.push(segment);
  }
  return out;
}

/** A part of a question that carries content. */
export interface QuestionPiece {
  text: string;
  /**
   * A word a dictionary cut (Thai, Lao, Khmer, Myanmar): its pairs of characters stand for
   * one word together (`QuestionTerm.part`), so that a long word (ນະຄອນຫຼວງ "capital",
   * eight pairs) does not outweigh a short one (ໄທ "Thailand", one pair) the question turns
   * on, and a word is not half found through pairs of vowel signs other words share.
   */
  word: boolean;
}

/** The pieces of one run that carry content (see the module's comment). */
function pieces(run: string): QuestionPiece[] {
  const each = (texts: string[], word: boolean) => texts.map((text) => ({ text, word }));
  if (!hasUnspaced(run)) return each([run], false);
  const segmented = SEGMENTED.find(([script]) => script.test(run));
  if (segmented) return each(dictionaryWords(run, segmented[1]), true);
  if (HANGUL_WORD.test(run)) {
    const kept = koreanWord(run);
    return kept === undefined ? [] : each([kept], false);
  }
  const cut = KANA.test(run) ? run.replace(JA_CUT, ' ') : run.replace(ZH_CUT, ' ');
  return each(
    cut.split(' ').filter((piece) => piece !== ''),
    false,
  );
}

/**
 * The runs of letters and digits of a question (`runs`, as the question's words were
 * matched) with the grammar of runs in unspaced scripts cut out; runs in other scripts
 * stay as they are.
 */
export function questionRuns(runs: readonly string[]): QuestionPiece[] {
  const out: QuestionPiece[] = [];
  const lone: QuestionPiece[] = [];
  for (const run of runs) {
    for (const piece of pieces(run)) {
      // A lone character the cuts left (not a run of one).
      if (piece.text !== run && [...piece.text].length === 1) lone.push(piece);
      else out.push(piece);
    }
  }
  return out.length > 0 ? out : lone;
}
