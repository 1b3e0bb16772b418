// Critic vs human agreement on the held-out human preference test set (appendix C; Table 1 and
// Table A2's pairwise / pointwise accuracy). criticGate then compares it with the 0.75 threshold.

/** A pairwise judgement of videos A and B; 'tie' means indistinguishable (appendix A.2). */
export type PairwiseLabel = 'A' | 'B' | 'tie';
/** A pointwise grade, e.g. 'good' | 'normal' | 'bad' or an integer score; null = not labelled. */
export type PointwiseLabel = string | number;

export interface Agreement {
  /** agreed / counted; NaN when nothing is counted, which criticGate rejects. */
  agreement: number;
  agreed: number;
  counted: number;
  /** Items left out: human ties (pairwise) or unlabelled items (pointwise). */
  excluded: number;
}

function checkLengths(fn: string, critic: readonly unknown[], human: readonly unknown[]): void {
  if (critic.length !== human.length) throw new Error(`${fn}: critic has ${critic.length} labels but human has ${human.length}`);
}

// agreement = #(critic = human) / #(human != tie): human ties are excluded, a critic tie on a human-decided pair counts as a miss
export function pairwiseAgreement(critic: readonly PairwiseLabel[], human: readonly PairwiseLabel[]): Agreement {
  const fn = 'pairwiseAgreement';
  checkLengths(fn, critic, human);
  const valid = new Set<unknown>(['A', 'B', 'tie']);
  let agreed = 0;
  let counted = 0;
  critic.forEach((c, i) => {
    const h = human[i];
    if (!valid.has(c)) throw new Error(`${fn}: critic[${i}] is ${JSON.stringify(c)}, expected 'A', 'B' or 'tie'`);
    if (!valid.has(h)) throw new Error(`${fn}: human[${i}] is ${JSON.stringify(h)}, expected 'A', 'B' or 'tie'`);
    // A human tie gives no preference to agree with (the test set's rankings become pairs only where
    // they differ). A critic tie there is no correct answer either: counting it 0, not 0.5, keeps
    // the gate conservative, as TRL's strict reward accuracy does.
    if (h === 'tie') return;
    counted++;
    if (c === h) agreed++;
  });
  return { agreement: counted ? agreed / counted : Number.NaN, agreed, counted, excluded: critic.length - counted };
}

// agreement = #(critic grade = human grade) / #(labelled by the human): Table A2's pointwise accuracy
export function pointwiseAgreement(critic: readonly PointwiseLabel[], human: readonly (PointwiseLabel | null)[]): Agreement {
  const fn = 'pointwiseAgreement';
  checkLengths(fn, critic, human);
  let agreed = 0;
  let counted = 0;
  critic.forEach((c, i) => {
    const h = human[i];
    for (const [name, v] of [['critic', c], ['human', h]] as const) {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`${fn}: ${name} contains ${v} at index ${i}`);
    }
    if (h === null || h === undefined) return;
    if (c === null || c === undefined) throw new Error(`${fn}: critic[${i}] is missing`);
    counted++;
    // Exact match: grades are categories, so there is no partial credit and no tie to break.
    if (c === h) agreed++;
  });
  return { agreement: counted ? agreed / counted : Number.NaN, agreed, counted, excluded: critic.length - counted };
}
