// A read whose client has left stops: before it starts (this error), or by
// Postgres cancelling its statement (src/db/client.ts, cancellable).

/** What a read whose cancellation came before it started fails with. */
export class CancelledBeforeStart extends Error {
  constructor() {
    super('the client went away before its read started');
  }
}
