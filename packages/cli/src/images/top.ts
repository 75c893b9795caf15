/** The most likely classes of a prediction, for printing. */

export interface Ranked {
  label: number;
  probability: number;
}

/**
 * The `n` most probable classes, most probable first. `label` (the model's answer, the first
 * maximum of the logits) wins a tie of probabilities, so the first entry is always the answer;
 * other ties go to the smaller digit.
 */
export function topClasses(probabilities: ArrayLike<number>, label: number, n: number): Ranked[] {
  return Array.from(probabilities, (probability, k) => ({ label: k, probability }))
    .sort((a, b) => b.probability - a.probability || Number(b.label === label) - Number(a.label === label) || a.label - b.label)
    .slice(0, n);
}
