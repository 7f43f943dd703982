/**
 * The playground's toy language: a fixed vocabulary with hand-built embeddings, and hand-built
 * query/key/value weights for four heads that each look for something different. Nothing here is
 * trained: every number is chosen so a reader can check it by hand.
 */

/** The embedding's dimensions, in column order. */
export const DIMS = ['thing', 'action', 'quality', 'little', 'alive', 'position', 'position²', 'one'] as const;
const [THING, ACTION, QUALITY, LITTLE, ALIVE, POS, POS2, ONE] = [0, 1, 2, 3, 4, 5, 6, 7];
/** Width of one head's query, key and value (d_k). */
export const HEAD_DIM = 4;
/** The longest sentence the playground takes (positions 0 … MAX_WORDS − 1). */
export const MAX_WORDS = 10;
/** How many heads the playground has. */
export const MAX_HEADS = 4;

type Kind = 'thing' | 'action' | 'quality' | 'little';
const WORDS: Record<Kind, string[]> = {
  thing: [
    'cat',
    'dog',
    'bird',
    'fox',
    'girl',
    'boy',
    'teacher',
    'horse',
    'ball',
    'tree',
    'park',
    'house',
    'book',
    'river',
    'cake',
    'hill',
    'garden',
    'car',
  ],
  action: ['ran', 'sat', 'saw', 'ate', 'chased', 'jumped', 'read', 'found', 'likes', 'sleeps', 'sings'],
  quality: ['big', 'small', 'red', 'happy', 'quick', 'lazy', 'brown', 'old', 'quickly', 'slowly'],
  little: ['the', 'a', 'on', 'in', 'over', 'and', 'to', 'under', 'with'],
};
const ALIVE_WORDS = new Set(['cat', 'dog', 'bird', 'fox', 'girl', 'boy', 'teacher', 'horse']);
const KIND_OF = new Map<string, Kind>(
  (Object.entries(WORDS) as [Kind, string[]][]).flatMap(([kind, ws]) => ws.map((w) => [w, kind] as const)),
);

/** Every word the playground knows, grouped by kind. */
export const VOCABULARY: Readonly<Record<Kind, readonly string[]>> = WORDS;

export const DEFAULT_SENTENCE = 'the quick fox chased a small bird';

/** Splits text into known words (lower case); names the unknown ones and what was cut. */
export function tokenize(text: string): { words: string[]; unknown: string[]; dropped: number } {
  const raw = text
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w.length > 0);
  const known = raw.filter((w) => KIND_OF.has(w));
  const unknown = [...new Set(raw.filter((w) => !KIND_OF.has(w)))];
  return { words: known.slice(0, MAX_WORDS), unknown, dropped: Math.max(0, known.length - MAX_WORDS) };
}

/** The kind of a known word. */
function kindOf(word: string): Kind {
  const k = KIND_OF.get(word);
  if (!k) throw new RangeError(`kindOf: "${word}" is not in the vocabulary`);
  return k;
}

/** One row per word: its kind (one-hot), alive, its position p, p² and a constant 1. */
export function embed(words: readonly string[]): number[][] {
  return words.map((w, p) => {
    const row = new Array<number>(DIMS.length).fill(0);
    row[{ thing: THING, action: ACTION, quality: QUALITY, little: LITTLE }[kindOf(w)]] = 1;
    if (ALIVE_WORDS.has(w)) row[ALIVE] = 1;
    row[POS] = p;
    row[POS2] = p * p;
    row[ONE] = 1;
    return row;
  });
}

/** What each head looks for, in the reader's words. */
export const HEADS = [
  { name: 'previous word', looksFor: 'each word looks at the word just before it' },
  { name: 'start of sentence', looksFor: 'each word looks back towards the first words' },
  { name: 'same kind', looksFor: 'each word looks at words of its own kind (things at things, actions at actions)' },
  { name: 'thing ↔ action', looksFor: 'actions and qualities look for things; things look for actions' },
] as const;

const zeros = (): number[][] => Array.from({ length: DIMS.length }, () => new Array<number>(HEAD_DIM).fill(0));

/** Keys that say where a word is: k = [p, p², 1, 0] (heads 1 and 2 read these). */
function positionKeys(): number[][] {
  const w = zeros();
  w[POS]![0] = 1;
  w[POS2]![1] = 1;
  w[ONE]![2] = 1;
  return w;
}
/** Keys (and values) that say what kind a word is: [thing, action, quality, little] (heads 3 and 4). */
function kindKeys(): number[][] {
  const w = zeros();
  for (const d of [THING, ACTION, QUALITY, LITTLE]) w[d]![d] = 1;
  return w;
}
/** Values that pass on what a thing is: [alive, thing, action, quality]. */
function meaningValues(): number[][] {
  const w = zeros();
  w[ALIVE]![0] = 1;
  w[THING]![1] = 1;
  w[ACTION]![2] = 1;
  w[QUALITY]![3] = 1;
  return w;
}

/** Per-head projection weights, each `[DIMS.length, HEAD_DIM]` (x · W). */
export interface HeadWeights {
  wQ: number[][];
  wK: number[][];
  wV: number[][];
}

/**
 * Head h's weights (0-based). Heads 0 and 1 read position keys, heads 2 and 3 kind keys, so
 * sharing keys in pairs (two key/value heads) keeps every pattern and one shared key head does not.
 */
export function headWeights(h: number): HeadWeights {
  const wQ = zeros();
  if (h === 0) {
    // q·k = −5 (j − (p − 1))²: the score is highest at the previous position.
    const c = 5;
    wQ[POS]![0] = 2 * c;
    wQ[ONE]![0] = -2 * c;
    wQ[ONE]![1] = -c;
    wQ[POS2]![2] = -c;
    wQ[POS]![2] = 2 * c;
    wQ[ONE]![2] = -c;
    return { wQ, wK: positionKeys(), wV: kindKeys() };
  }
  if (h === 1) {
    // q·k = −4 j: earlier words score higher.
    wQ[ONE]![0] = -4;
    return { wQ, wK: positionKeys(), wV: kindKeys() };
  }
  if (h === 2) {
    // q·k = 6 when both words are of the same kind, else 0.
    for (const d of [THING, ACTION, QUALITY, LITTLE]) wQ[d]![d] = 6;
    return { wQ, wK: kindKeys(), wV: meaningValues() };
  }
  if (h === 3) {
    // Actions and qualities ask for "thing", things ask for "action".
    wQ[ACTION]![0] = 6;
    wQ[QUALITY]![0] = 6;
    wQ[THING]![1] = 6;
    return { wQ, wK: kindKeys(), wV: meaningValues() };
  }
  throw new RangeError(`headWeights: head must be 0 … ${MAX_HEADS - 1}; got ${h}`);
}
