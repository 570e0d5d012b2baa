// The AsyncLocalStorage variant measured by bench/runtime/als-cli.ts: loaded
// with `node --import` before dist/server.js, it runs every HTTP request
// inside AsyncLocalStorage.run(), as a server that carried its request's
// database session in an AsyncLocalStorage (instead of passing it, as
// src/db/client.ts does) would. On Node 20 that turns on promise hooks for the
// whole process; Node 24 and later keep the context without them.
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';

const requestContext = new AsyncLocalStorage();
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function emitInContext(event, ...args) {
  if (event !== 'request') return emit.call(this, event, ...args);
  return requestContext.run({ session: undefined }, () => emit.call(this, event, ...args));
};
