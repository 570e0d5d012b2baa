// How many cases the property and model-based tests try. Each suite states a
// count sized for CI; FC_NUM_RUNS overrides every one of them, to search
// deeper by hand (FC_NUM_RUNS=200 npm run test:integration) or to go quicker.

/** The suite's own count, unless FC_NUM_RUNS (a positive integer) says otherwise. */
export function numRuns(suiteDefault: number): number {
  const asked = Number(process.env.FC_NUM_RUNS);
  return Number.isInteger(asked) && asked > 0 ? asked : suiteDefault;
}
