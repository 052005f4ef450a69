/**
 * One Lambda per entry of `functions/registry.ts` — the same list the local runtime serves — so a
 * handler added there is deployed with its trigger, and nothing is deployed that the registry does not
 * name. The constructs for the triggers (API, queue, WebSocket, schedules, migrations) look their
 * functions up here by trigger kind.
 *
 * What every function gets: the table names, the queue URLs, `STAGE`, Powertools settings
 * (`LeadrouterFunction`) and — added by `Realtime` — `WS_MANAGEMENT_ENDPOINT`. Functions with
 * `usesDatabase` also run in the VPC with `DATABASE_*`: the proxy endpoint, or the writer endpoint for the
 * custom-resource (migration) function.
 */
import { Construct } from 'constructs';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import {
  handlers,
  type HandlerDefinition,
  type HandlerName,
  type HandlerTrigger,
} from '../functions/registry.js';
import type { Database } from './database.js';
import type { KeyTables } from './key-tables.js';
import type { LeadQueue } from './lead-queue.js';
import { LeadrouterFunction } from './leadrouter-function.js';
import { pascalCase } from './names.js';
import type { StageConfig } from './stage-config.js';

/** Where the migration function finds the SQL files copied next to its bundle. */
export const MIGRATIONS_BUNDLE_DIR = 'migrations';

export interface HandlerFunctionsProps {
  readonly config: StageConfig;
  readonly tables: KeyTables;
  readonly leadQueue: LeadQueue;
  readonly database: Database;
}

export interface DeployedHandler {
  readonly name: HandlerName;
  readonly definition: HandlerDefinition;
  readonly function: NodejsFunction;
}

/** A deployed handler whose trigger is known to be of kind `K`. */
export type DeployedHandlerOf<K extends HandlerTrigger['kind']> = DeployedHandler & {
  readonly definition: HandlerDefinition & { readonly trigger: Extract<HandlerTrigger, { kind: K }> };
};

/** Trigger kinds whose handlers may enqueue leads (intake, imports, backlog retry) or replay the DLQ. */
const PRODUCER_KINDS: ReadonlySet<HandlerTrigger['kind']> = new Set(['http', 'schedule']);

export class HandlerFunctions extends Construct {
  readonly all: readonly DeployedHandler[];

  constructor(scope: Construct, id: string, props: HandlerFunctionsProps) {
    super(scope, id);
    const { config, tables, leadQueue, database } = props;

    this.all = (Object.entries(handlers) as [HandlerName, HandlerDefinition][]).map(([name, definition]) => {
      const runsMigrations = definition.trigger.kind === 'custom-resource';
      const placement = definition.usesDatabase
        ? {
            vpc: database.vpc,
            vpcSubnets: database.appSubnets,
            securityGroups: [runsMigrations ? database.migrationSecurityGroup : database.appSecurityGroup],
          }
        : {};
      const databaseEnvironment = !definition.usesDatabase
        ? {}
        : runsMigrations
          ? { ...database.writerEnvironment, MIGRATIONS_DIR: `/var/task/${MIGRATIONS_BUNDLE_DIR}` }
          : database.proxyEnvironment;

      const fn = new LeadrouterFunction(this, pascalCase(name), {
        name,
        definition,
        config,
        ...placement,
        environment: { ...tables.environment, ...leadQueue.environment, ...databaseEnvironment },
        commandHooks: runsMigrations ? copyMigrations : undefined,
      }).function;

      tables.grantReadWrite(fn);
      if (PRODUCER_KINDS.has(definition.trigger.kind)) leadQueue.grantProduce(fn);
      if (definition.usesDatabase) database.grantCredentials(fn);
      return { name, definition, function: fn };
    });
  }

  /** The handlers with a trigger of this kind, in registry order. */
  ofKind<K extends HandlerTrigger['kind']>(kind: K): DeployedHandlerOf<K>[] {
    return this.all.filter((h): h is DeployedHandlerOf<K> => h.definition.trigger.kind === kind);
  }

  /** Exactly one handler of this kind (the allocator, the authorizer, the migrations). */
  single<K extends HandlerTrigger['kind']>(kind: K): DeployedHandlerOf<K> {
    const { name } = registryEntryOfKind(kind);
    return this.ofKind(kind).find((h) => h.name === name)!;
  }
}

/**
 * The one registry entry with this trigger kind (the allocator, the authorizer, the migrations), read
 * from the registry itself — for settings needed before the functions exist (the queue's visibility
 * timeout derives from the allocator's timeout).
 */
export function registryEntryOfKind<K extends HandlerTrigger['kind']>(
  kind: K,
): {
  name: HandlerName;
  definition: HandlerDefinition & { readonly trigger: Extract<HandlerTrigger, { kind: K }> };
} {
  const found = (Object.entries(handlers) as [HandlerName, HandlerDefinition][]).filter(
    ([, definition]) => definition.trigger.kind === kind,
  );
  if (found.length !== 1) {
    throw new Error(
      `functions/registry.ts must have exactly one handler with trigger kind "${kind}", found ${found.length}`,
    );
  }
  const [name, definition] = found[0]!;
  return {
    name,
    definition: definition as HandlerDefinition & { trigger: Extract<HandlerTrigger, { kind: K }> },
  };
}

/** node-pg-migrate reads the SQL files at run time, so they travel next to the bundle. */
const copyMigrations = {
  beforeBundling: (): string[] => [],
  beforeInstall: (): string[] => [],
  afterBundling: (inputDir: string, outputDir: string): string[] => [
    `mkdir -p "${outputDir}/${MIGRATIONS_BUNDLE_DIR}"`,
    `cp -R "${inputDir}/migrations/." "${outputDir}/${MIGRATIONS_BUNDLE_DIR}/"`,
  ],
};
