import { createReadStream } from 'node:fs';
import streamArray from 'stream-json/streamers/stream-array.js';
import { parseFile } from 'stream-json/file/parser.js';
import { gen } from 'stream-chain/core';
const path = process.argv[2]!;
async function A() {
  let n = 0;
  const s = createReadStream(path, { highWaterMark: 1 << 16 }).pipe(streamArray.withParserAsStream({ streamValues: false } as never));
  for await (const _ of s) n++;
  return n;
}
async function B() {
  let n = 0;
  const run = gen(parseFile({ streamValues: false } as never), streamArray());
  for await (const _ of run(path) as AsyncIterable<unknown>) n++;
  return n;
}
for (let i = 0; i < 3; i++) for (const [name, f] of [['A', A], ['B', B]] as const) {
  const t0 = process.cpuUsage(); const w = Date.now();
  const n = await f();
  const c = process.cpuUsage(t0);
  console.log(name, n, 'wall', Date.now() - w, 'cpu', Math.round((c.user + c.system) / 1000));
}
