/** `outboxRelay` → `OutboxRelay`: construct ids from registry and table keys. */
export function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
