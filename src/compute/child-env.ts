/**
 * The environment a compute script starts with: enough to find programs and
 * pick a locale, nothing else. DATABASE_URL, API_TOKEN and whatever else the
 * server was started with stay out of the child.
 */
export const PASSED_THROUGH = ['PATH', 'LANG', 'LC_ALL'] as const;
const FALLBACK_PATH = '/usr/local/bin:/usr/bin:/bin';

export function childEnvironment(parent: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = parent[name];
    if (value) env[name] = value;
  }
  env.PATH ??= FALLBACK_PATH;
  return env;
}
