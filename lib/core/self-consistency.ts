// Self-consistency (paper section 3.2, "counting answer frequencies"): majority vote over k
// reasoning paths (Wang et al. 2022) with ScPO's vote share and margin (Prasad et al. 2024).

export interface Vote {
  /** The modal answer; ties go to the answer seen first (see below). */
  answer: string;
  /** V(top) / k. */
  share: number;
  /** (V(top) - V(lowest answer present)) / k: ScPO's weight; 0 when all k paths agree (no losing answer). */
  margin: number;
  /** True when another answer has as many votes as `answer`. */
  tied: boolean;
}

// answer = argmax_a sum_i 1(a_i = a); share = V_max / k; margin = (V_max - V_min) / k
export function selfConsistencyVote(answers: readonly string[]): Vote {
  const k = answers.length;
  if (k === 0) throw new Error('selfConsistencyVote: no answers (k = 0)');
  // A Map keeps first-seen order, which makes the tie rule deterministic: among the answers with the
  // most votes, the one whose first vote came earliest wins. Paths are sampled independently, so
  // this is as fair as a coin flip, and unlike sorting it does not favour e.g. 'A' over 'B'.
  const votes = new Map<string, number>();
  answers.forEach((a, i) => {
    if (typeof a !== 'string') throw new Error(`selfConsistencyVote: answers[${i}] is not a string (${String(a)})`);
    votes.set(a, (votes.get(a) ?? 0) + 1);
  });
  let answer = answers[0]!;
  let top = 0;
  let lowest = Infinity;
  for (const [a, v] of votes) {
    if (v > top) [answer, top] = [a, v];
    lowest = Math.min(lowest, v);
  }
  const tied = [...votes.values()].filter((v) => v === top).length > 1;
  return { answer, share: top / k, margin: (top - lowest) / k, tied };
}
