import { defineConfig } from 'drizzle-kit';

// Only `drizzle-kit generate` uses this: migrations are SQL files committed in
// migrations/ and applied by src/db/migrate.ts, never by `drizzle-kit push`.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
});
