/** `npm run migrate`: applies `migrations/` to `DATABASE_URL`. */
import { migrateUp } from '../functions/adapters/pg/migrate.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('Set DATABASE_URL (npm start applies migrations to its embedded PostgreSQL by itself).');
  process.exit(1);
}
const applied = await migrateUp(url, (m) => console.log(m));
console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Up to date.');
