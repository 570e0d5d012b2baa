// Behind a transaction pooler shop-api sends no startup parameters (client.ts):
// the sessions' time limits, jit = off, random_page_cost and an ISO DateStyle come from the database role
// instead, set once with ALTER ROLE. Checked at start, so that a role
// without them is said out loud rather than found out by a statement that
// runs for ever.
import { sql } from 'drizzle-orm';
import { DEFAULT_TIMEOUTS, IDLE_IN_TRANSACTION_MS, queryRows, type Db } from './client.js';

/** The settings every API session runs with, as the role must carry them (the values a direct connection sends). */
const ROLE_SETTINGS = {
  statement_timeout: `${DEFAULT_TIMEOUTS.statementMs / 1000}s`,
  idle_in_transaction_session_timeout: `${IDLE_IN_TRANSACTION_MS / 1000}s`,
  jit: 'off',
  random_page_cost: '1.1',
  DateStyle: 'ISO',
} as const;

type Setting = keyof typeof ROLE_SETTINGS;

/** Whether pg_settings' value of each setting is as ROLE_SETTINGS asks (timeouts in ms). */
const AS_ASKED: Record<Setting, (setting: string) => boolean> = {
  statement_timeout: (setting) => setting === String(DEFAULT_TIMEOUTS.statementMs),
  idle_in_transaction_session_timeout: (setting) => setting === String(IDLE_IN_TRANSACTION_MS),
  jit: (setting) => setting === 'off',
  random_page_cost: (setting) => setting === '1.1',
  // 'ISO, MDY' or 'ISO, DMY': the output is ISO whatever the order for input (src/db/client.ts).
  DateStyle: (setting) => setting.startsWith('ISO'),
};

/** The commands that give `role` (an identifier, quoted as needed) those settings. */
export function alterRoleCommands(role: string): string[] {
  return Object.entries(ROLE_SETTINGS).map(([name, value]) => `ALTER ROLE ${role} SET ${name} = '${value}';`);
}

export interface RoleSettingsCheck {
  /** The session's role, quoted for SQL where it needs it. */
  role: string;
  /** Settings whose value differs from ROLE_SETTINGS, with the value found (pg_settings' unit: ms for the timeouts). */
  wrong: Partial<Record<Setting, string>>;
}

/** Which of ROLE_SETTINGS the session on `db` does not have. */
export async function checkRoleSettings(db: Db): Promise<RoleSettingsCheck> {
  const rows = await queryRows<{ name: Setting; setting: string; role: string }>(
    db,
    sql`select name, setting, quote_ident(current_user) as role from pg_settings
         where name in ('statement_timeout', 'idle_in_transaction_session_timeout', 'jit', 'random_page_cost', 'DateStyle')`,
  );
  const wrong: RoleSettingsCheck['wrong'] = {};
  for (const row of rows) if (!AS_ASKED[row.name](row.setting)) wrong[row.name] = row.setting;
  return { role: rows[0]?.role ?? 'current_user', wrong };
}
