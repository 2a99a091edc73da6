// Greedy CTC decoding of the PP-OCR recogniser's output: per time step the
// most likely class; repeats collapse and the blank (class 0) separates them.
// The classes are blank, the dictionary's lines in order, then a space.

export interface Recognised {
  readonly text: string;
  /** Mean probability of the emitted characters; 0 when nothing was read. */
  readonly confidence: number;
}

/** Decodes one sequence: `probs` holds `steps` rows of `classes` probabilities. */
export function ctcGreedyDecode(probs: Float32Array, offset: number, steps: number, classes: number, alphabet: readonly string[]): Recognised {
  let text = '';
  let sum = 0;
  let emitted = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const row = offset + t * classes;
    let best = 0;
    let bestP = -Infinity;
    for (let c = 0; c < classes; c++) {
      const p = probs[row + c] ?? 0;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += alphabet[best] ?? '';
      sum += bestP;
      emitted++;
    }
    previous = best;
  }
  return { text, confidence: emitted === 0 ? 0 : sum / emitted };
}

/** The recogniser's classes from its dictionary file: blank, one class per line, space. */
export function ctcAlphabet(dictionary: string): string[] {
  const lines = dictionary.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}
