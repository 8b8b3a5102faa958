import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PolicyEngine, PolicyEngineOptions } from '../access/policy-engine.ts';
import type { BatonConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import type { Store } from '../store/store.ts';

/** The names a project's config may have, looked for in this order in each directory. */
export const CONFIG_FILE_NAMES = [
  'baton.config.ts',
  'baton.config.mts',
  'baton.config.js',
  'baton.config.mjs',
] as const;

/** Where the store URL came from, for messages: the first of these that is set wins. */
export type StoreSource = 'flag' | 'config' | 'BATON_STORE' | 'DATABASE_URL' | 'default';

export interface LoadedConfig {
  /** The config file, or undefined when there is none (and none was required). */
  path: string | undefined;
  config: BatonConfig | undefined;
  /** The store to open: a URL (relative SQLite paths made absolute) or the config's Store object. */
  store: string | Store;
  storeSource: StoreSource;
  /**
   * The config's `policies`, with files and patterns resolved from the config's folder into
   * absolute paths (a pattern that matches no file is a PolicyLoadError). Undefined without any.
   */
  policies?: PolicyEngine | PolicyEngineOptions;
}

export interface LoadConfigOptions {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** `--config path`: this file, and no search. */
  configPath?: string;
  /** `--store url`: overrides everything else. */
  storeFlag?: string;
  /** When true, a missing config is an error (commands that run workflows need one). */
  required: boolean;
}

/**
 * Finds `baton.config.ts` (or .mts/.js/.mjs) in `from` or the nearest directory above it.
 */
export function findConfigFile(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Loads the project's config and decides which store to open.
 *
 * Store precedence: `--store`, then the config's `store`, then `BATON_STORE`, then `DATABASE_URL`
 * (only when it is a postgres:// URL), then `sqlite:./baton.db`. A relative SQLite path is taken
 * from the directory of the config file when it came from the config (or is the default and a config
 * exists), and from the working directory otherwise, so running the CLI in a subdirectory of a
 * project opens the project's database.
 *
 * @throws ConfigError when the file cannot be found (if required), imported, or has the wrong shape.
 */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const path =
    options.configPath === undefined ? findConfigFile(options.cwd) : resolve(options.cwd, options.configPath);
  if (options.configPath !== undefined && !existsSync(path!)) {
    throw new ConfigError(`The config file ${path} (from --config) does not exist.`);
  }
  if (path === undefined && options.required) {
    throw new ConfigError(
      `No ${CONFIG_FILE_NAMES[0]} found in ${resolve(options.cwd)} or any directory above it. ` +
        `Create one (export default defineConfig({ workflows: [...] })) or pass --config <path>.`,
    );
  }
  const config = path === undefined ? undefined : await importConfig(path);
  const projectDir = path === undefined ? resolve(options.cwd) : dirname(path);
  const { store, storeSource } = chooseStore(options, config, projectDir);
  const policies =
    config?.policies === undefined ? undefined : await resolvePolicies(config.policies, projectDir);
  return { path, config, store, storeSource, ...(policies === undefined ? {} : { policies }) };
}

/** The config's policies with every file and pattern (and a schema file) made absolute from `base`. */
async function resolvePolicies(
  policies: NonNullable<BatonConfig['policies']>,
  base: string,
): Promise<PolicyEngine | PolicyEngineOptions> {
  const { resolvePolicyFiles } = await import('../access/policy-files.ts');
  if (isFileList(policies)) return { files: await resolvePolicyFiles(policies, base) };
  if (!('files' in policies) && !('text' in policies) && !('schema' in policies)) return policies;
  const spec: PolicyEngineOptions = policies;
  const schema = spec.schema;
  return {
    ...spec,
    ...(spec.files === undefined ? {} : { files: await resolvePolicyFiles(spec.files, base) }),
    ...(schema !== undefined && 'file' in schema ? { schema: { file: resolve(base, schema.file) } } : {}),
  };
}

function isFileList(value: unknown): value is readonly string[] {
  return Array.isArray(value);
}

function chooseStore(
  options: LoadConfigOptions,
  config: BatonConfig | undefined,
  projectDir: string,
): { store: string | Store; storeSource: StoreSource } {
  const cwd = resolve(options.cwd);
  if (options.storeFlag !== undefined && options.storeFlag !== '') {
    return { store: absoluteStoreUrl(options.storeFlag, cwd), storeSource: 'flag' };
  }
  if (config?.store !== undefined) {
    const store =
      typeof config.store === 'string' ? absoluteStoreUrl(config.store, projectDir) : config.store;
    return { store, storeSource: 'config' };
  }
  const fromEnv = options.env.BATON_STORE;
  if (fromEnv) return { store: absoluteStoreUrl(fromEnv, cwd), storeSource: 'BATON_STORE' };
  const databaseUrl = options.env.DATABASE_URL;
  if (databaseUrl && /^postgres(ql)?:\/\//.test(databaseUrl))
    return { store: databaseUrl, storeSource: 'DATABASE_URL' };
  return { store: `sqlite:${join(projectDir, 'baton.db')}`, storeSource: 'default' };
}

/** Makes a relative SQLite path absolute against `base`; other URLs are returned as they are. */
export function absoluteStoreUrl(url: string, base: string): string {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '' || path === ':memory:' || isAbsolute(path)) return url;
    return `sqlite:${resolve(base, path)}`;
  }
  if (/\.(db|sqlite|sqlite3)$/.test(url) && !/^[a-z]+:\/\//.test(url) && !isAbsolute(url))
    return resolve(base, url);
  return url;
}

/** A store URL fit to print: a PostgreSQL password is masked. */
export function displayStore(store: string | Store): string {
  if (typeof store !== 'string') return store.location;
  return store.replace(/^(postgres(?:ql)?:\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

async function importConfig(path: string): Promise<BatonConfig> {
  // Imported once per process (the module cache keeps it), like any module.
  const url = pathToFileURL(path).href;
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(`Cannot load ${path}: ${reason}`, { cause });
  }
  const config = module.default;
  if (config === undefined) {
    throw new ConfigError(
      `${path} has no default export. Write: export default defineConfig({ workflows: [...] }).`,
    );
  }
  // Loaded only when there is a config to check.
  const checks: typeof import('./validate-config.ts') = await import('./validate-config.ts');
  checks.validateConfig(config, path);
  return config;
}
