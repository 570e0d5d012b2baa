// The mechanism alone, without HTTP or a database: ns per awaited promise,
// plain or inside AsyncLocalStorage.run() (argv[2]: `current` or `als`), the
// best of many short trials (the least disturbed by other work on the
// machine). Run once per Node binary and variant, in a process of its own:
// on Node 20 the promise hooks, once on, stay on. Prints one line of JSON.
import { AsyncLocalStorage } from 'node:async_hooks';

const variant = process.argv[2];
const AWAITS = 200_000;
const TRIALS = 25;
const storage = new AsyncLocalStorage();
const inContext = variant === 'als' ? (fn) => storage.run({ session: undefined }, fn) : (fn) => fn();

async function step(x) {
  await null;
  return x + 1;
}
async function chain(n) {
  let x = 0;
  for (let i = 0; i < n; i++) x = await step(x);
  return x;
}

const times = [];
for (let trial = 0; trial < TRIALS; trial++) {
  const start = process.hrtime.bigint();
  await inContext(() => chain(AWAITS));
  times.push(Number(process.hrtime.bigint() - start) / AWAITS);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ node: process.version, variant, nsPerAwait: Math.round(times[0] * 10) / 10 }));
