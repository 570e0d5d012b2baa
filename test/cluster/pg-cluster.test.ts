/**
 * Smoke test of the throw-away cluster harness (test/helpers/pg-cluster.ts):
 * a primary and one streaming replica, replay pause/resume, read-only
 * replica, primary restart and replica stop/start. Fails (never skips) when
 * the machine cannot run the servers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterPrerequisites,
  compareLsn,
  createPgCluster,
  isProcessAlive,
  pollUntil,
  type PgCluster,
  type PgReplica,
  type PgServer,
} from '../helpers/pg-cluster.js';

let cluster: PgCluster | undefined;
let primary: PgServer;
let replica: PgReplica;

async function primaryLsn(): Promise<string> {
  const [row] = await primary.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  return row!.lsn;
}

async function replayLsn(): Promise<string> {
  const [row] = await replica.query<{ lsn: string }>('select pg_last_wal_replay_lsn()::text as lsn');
  return row!.lsn;
}

async function idsOn(server: PgServer): Promise<number[]> {
  const rows = await server.query<{ id: number }>('select id from smoke order by id');
  return rows.map((row) => row.id);
}

/** Inserts a row on the primary and returns the primary's WAL position right after it. */
async function insert(id: number): Promise<string> {
  await primary.query('insert into smoke (id, note) values ($1, $2)', [id, `row ${id}`]);
  return primaryLsn();
}

function postmasterPid(server: PgServer): number {
  return Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

// Checked when the file loads, so a machine that cannot run the servers fails
// the whole file with the reason (rather than reporting its tests as skipped).
const prerequisites = clusterPrerequisites();
if (!prerequisites.ok) {
  throw new Error(`these tests need throw-away PostgreSQL servers, which this machine cannot run: ${prerequisites.reason}`);
}

describe('throw-away PostgreSQL cluster', () => {
  beforeAll(async () => {
    cluster = await createPgCluster({ replicas: 1 });
    primary = cluster.primary;
    replica = cluster.replicas[0]!;
  });

  afterAll(async () => {
    if (!cluster) return;
    await cluster.destroy(); // idempotent: the last test already destroyed it
    expect(existsSync(cluster.dir)).toBe(false);
  });

  it('makes a primary and a streaming replica on ports and sockets of their own', async () => {
    expect(cluster!.replicas).toHaveLength(1);
    expect(primary.port).not.toBe(5432);
    expect(replica.port).not.toBe(5432);
    expect(replica.port).not.toBe(primary.port);
    expect(primary.url()).toBe(`postgres://postgres@127.0.0.1:${primary.port}/postgres`);
    expect(primary.isRunning()).toBe(true);
    expect(replica.isRunning()).toBe(true);

    const [settings] = await primary.query<{ sockets: string; listen: string; wal_level: string; fsync: string }>(
      `select current_setting('unix_socket_directories') as sockets, current_setting('listen_addresses') as listen,
              current_setting('wal_level') as wal_level, current_setting('fsync') as fsync`,
    );
    expect(settings).toEqual({ sockets: cluster!.dir, listen: '127.0.0.1', wal_level: 'replica', fsync: 'off' });

    const [standby] = await replica.query<{ in_recovery: boolean; feedback: string }>(
      `select pg_is_in_recovery() as in_recovery, current_setting('hot_standby_feedback') as feedback`,
    );
    expect(standby).toEqual({ in_recovery: true, feedback: 'on' });
    const senders = await primary.query<{ application_name: string; state: string }>(
      'select application_name, state from pg_stat_replication',
    );
    expect(senders).toEqual([{ application_name: 'replica1', state: 'streaming' }]);
  });

  it('replays a write on the primary', async () => {
    await primary.query('create table smoke (id int primary key, note text not null)');
    const lsn = await insert(1);
    await replica.waitForReplay(lsn);
    expect(await idsOn(replica)).toEqual([1]);
  });

  it('holds back rows while replay is paused, and catches up once resumed', async () => {
    await replica.pauseReplay();
    const lsn = await insert(2);

    // The replica has *received* the WAL with row 2 but not replayed it.
    await pollUntil('the replica to receive the WAL of row 2', async () => {
      const [row] = await replica.query<{ lsn: string | null }>('select pg_last_wal_receive_lsn()::text as lsn');
      return row?.lsn != null && compareLsn(row.lsn, lsn) >= 0;
    });
    expect(await idsOn(replica)).toEqual([1]);
    expect(compareLsn(await replayLsn(), lsn)).toBeLessThan(0);
    expect(compareLsn(await replayLsn(), await primaryLsn())).toBeLessThan(0);
    const [state] = await replica.query<{ state: string }>('select pg_get_wal_replay_pause_state() as state');
    expect(state!.state).toBe('paused');
    await expect(replica.waitForReplay(lsn, 200)).rejects.toThrow(/timed out after 200 ms waiting for replica1 to replay/);

    await replica.resumeReplay();
    await replica.waitForReplay(lsn);
    expect(await idsOn(replica)).toEqual([1, 2]);
  });

  it('refuses writes on the replica', async () => {
    await expect(replica.query('insert into smoke (id, note) values (99, $1)', ['nope'])).rejects.toMatchObject({
      code: '25006', // read_only_sql_transaction
      message: expect.stringMatching(/read-only transaction/),
    });
  });

  it('keeps replicating after the primary restarts', async () => {
    const [before] = await primary.query<{ started: string }>('select pg_postmaster_start_time()::text as started');
    await primary.restart('fast');
    expect(primary.isRunning()).toBe(true);
    const [after] = await primary.query<{ started: string }>('select pg_postmaster_start_time()::text as started');
    expect(after!.started).not.toBe(before!.started);

    const lsn = await insert(3);
    await replica.waitForReplay(lsn);
    expect(await idsOn(replica)).toEqual([1, 2, 3]);
    await pollUntil('the replica to stream from the restarted primary', async () => {
      const rows = await primary.query(`select 1 from pg_stat_replication where application_name = 'replica1' and state = 'streaming'`);
      return rows.length === 1;
    });
  });

  it('catches up after the replica is stopped and started again', async () => {
    await replica.stop('fast');
    expect(replica.isRunning()).toBe(false);
    await expect(replica.query('select 1')).rejects.toThrow(/ECONNREFUSED/);

    const whileDown = await insert(4);
    await replica.start();
    expect(replica.isRunning()).toBe(true);
    await replica.waitForReplay(whileDown);
    expect(await idsOn(replica)).toEqual([1, 2, 3, 4]);

    const afterStart = await insert(5);
    await replica.waitForReplay(afterStart);
    expect(await idsOn(replica)).toEqual([1, 2, 3, 4, 5]);
  });

  it('reports a failed pg_ctl with the tail of the server log', async () => {
    await replica.stop('immediate');
    const failure = await replica.stop('fast').then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure!.message).toMatch(/replica1 \(port \d+\): pg_ctl stop/);
    expect(failure!.message).toMatch(/last 30 lines of .*replica1\.log/);
    await replica.start();
    await replica.waitForReplay(await insert(6));
  });

  it('destroy() stops every server and removes the folder', async () => {
    const { dir } = cluster!;
    expect(existsSync(dir)).toBe(true);
    const pids = [postmasterPid(primary), postmasterPid(replica)];
    expect(pids.map(isProcessAlive)).toEqual([true, true]);
    await cluster!.destroy();
    expect(existsSync(dir)).toBe(false);
    expect(pids.map(isProcessAlive)).toEqual([false, false]);
    expect(primary.isRunning()).toBe(false);
    expect(replica.isRunning()).toBe(false);
    await expect(primary.query('select 1')).rejects.toThrow(/ECONNREFUSED/);
    await expect(replica.query('select 1')).rejects.toThrow(/ECONNREFUSED/);
    await cluster!.destroy(); // a second call is a no-op
  });
});
