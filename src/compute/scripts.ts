import { fileURLToPath } from 'node:url';

/** The compute scripts, in python/ at the project root. */
export const SCRIPTS = {
  recommendations: fileURLToPath(new URL('../../python/recommendations.py', import.meta.url)),
  forecast: fileURLToPath(new URL('../../python/forecast.py', import.meta.url)),
} as const;

export type ScriptName = keyof typeof SCRIPTS;
