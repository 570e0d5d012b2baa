// After mixed's measured run (writes stopped): a sample of the compute
// questions it asked, each asked as a client would (a kept answer may come)
// and then with Cache-Control: no-cache (computed afresh). A kept answer that
// differs from a fresh one is stale: the writes should have replaced it.
// These requests are outside the run's figures.
import stableStringify from 'safe-stable-stringify';
import { createRandom } from '../seed/random.js';

export interface StaleComputeFigures {
  /** Distinct compute questions the run had answered 200. */
  asked: number;
  /** Questions compared (both answers 200). */
  checked: number;
  /** Of those, answers that differed: stale compute answers. */
  mismatches: number;
  /** Questions not compared: one of the two answers was not a 200. */
  unchecked: number;
  /** Up to three of the mismatching questions. */
  examples: string[];
}

/** Up to `n` of the questions, the same ones for the same seed and set. */
export function sampleQuestions(asked: Iterable<string>, n: number, seed: number): string[] {
  const pool = [...new Set(asked)].sort();
  const random = createRandom(seed);
  // A partial Fisher-Yates shuffle: the first n places.
  for (let i = 0; i < Math.min(n, pool.length); i++) {
    const j = i + Math.floor(random.next() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j] as string, pool[i] as string];
  }
  return pool.slice(0, n);
}

/** Whether two answer bodies are the same JSON (key order aside); text equality when one is not JSON. */
export function sameAnswer(a: string, b: string): boolean {
  try {
    return stableStringify(JSON.parse(a)) === stableStringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

async function answer(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: await res.text() };
}

/** Asks each question twice, the normal way first (so a fresh computation cannot replace the kept answer before it is read). */
export async function checkComputeAnswers(
  baseUrl: string,
  token: string,
  asked: ReadonlySet<string>,
  options: { sample: number; seed: number; concurrency: number },
): Promise<StaleComputeFigures> {
  const questions = sampleQuestions(asked, options.sample, options.seed);
  const figures: StaleComputeFigures = { asked: asked.size, checked: 0, mismatches: 0, unchecked: 0, examples: [] };
  const headers = { accept: 'application/json', authorization: `Bearer ${token}` };
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < questions.length; i = next++) {
      const path = questions[i] as string;
      const kept = await answer(baseUrl + path, headers);
      const fresh = await answer(baseUrl + path, { ...headers, 'cache-control': 'no-cache' });
      if (kept.status !== 200 || fresh.status !== 200) {
        figures.unchecked += 1;
      } else if (sameAnswer(kept.body, fresh.body)) {
        figures.checked += 1;
      } else {
        figures.checked += 1;
        figures.mismatches += 1;
        if (figures.examples.length < 3) figures.examples.push(path);
      }
    }
  };
  // As many at once as the compute gate runs (its default): the check stays short without queueing.
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return figures;
}
