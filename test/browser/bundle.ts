/**
 * lnpeer bundled for browsers by esbuild, in memory, and an audit of what the bundle pulls in.
 *
 * The bundle is built as an app's bundler would build it (platform `browser`, ESM), with the
 * custom condition `lnpeer-source` so that `#platform` resolves to src/platform/browser.ts.
 * `auditBrowserBundle` then lists everything Node-only it finds, each with the file and line
 * that brought it in:
 * - every import of a Node built-in (`node:…`, or a bare `events`, `buffer`, `net`…), static,
 *   dynamic or `require`, guarded or not: a resolver plugin sees each import before esbuild
 *   resolves it, records it and keeps it external, so the build goes on and shows them all;
 * - every input outside src/ and node_modules/@noble/, and every Node-only source file;
 * - every free reference to a Node global (`process`, `Buffer`, `global`, `setImmediate`…):
 *   esbuild's `define` swaps each free reference, and only those (a local variable of that name
 *   or a property `x.process` is left alone), for a marker identifier, and the bundle's source
 *   map says where each marker came from.
 */
import { isBuiltin } from 'node:module';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Message, type Metafile, type Plugin } from 'esbuild';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Free identifiers that exist in Node and not in browsers. */
export const NODE_GLOBALS = ['process', 'Buffer', 'global', 'setImmediate', 'clearImmediate', '__dirname', '__filename'] as const;
/** Where a Node global would be looked up through the global object. */
const GLOBAL_OBJECTS = ['globalThis', 'self', 'window'] as const;
const MARKER_PREFIX = '__LNPEER_NODE_GLOBAL_';

/** Inputs a browser bundle of lnpeer may contain: its sources and the @noble packages it depends on. */
const ALLOWED_INPUTS = [/^src\//, /^node_modules\/@noble\/(ciphers|hashes|secp256k1)\//];
/** lnpeer's sources that are for Node only: none may be in a browser bundle. */
export const NODE_ONLY_SOURCES = ['src/platform/node.ts', 'src/transports/tcp.ts', 'src/transports/websocket-server.ts', 'src/crypto/node.ts', 'src/cli.ts'];

export interface BundleOptions {
  /** Repo-relative entry point; `src/index.ts` by default. */
  entry?: string;
  minify?: boolean;
  /** Replace free references to Node globals by markers (for the audit; the code then cannot run). */
  markNodeGlobals?: boolean;
}

export interface NodeImport {
  /** The specifier as written, e.g. `node:events`. */
  specifier: string;
  /** Repo-relative file that imports it. */
  importer: string;
  /** esbuild's import kind: `import-statement`, `dynamic-import`, `require-call`… */
  kind: string;
}

export interface Bundle {
  entry: string;
  code: string;
  /** The external source map of `code` (sources relative to the repo). */
  map: SourceMap;
  metafile: Metafile;
  warnings: Message[];
  nodeImports: NodeImport[];
}

export interface SourceMap {
  sources: string[];
  mappings: string;
}

/** Builds a browser bundle of `entry` in memory. Throws (with esbuild's messages) if it does not build. */
export async function bundleForBrowser(options: BundleOptions = {}): Promise<Bundle> {
  const entry = options.entry ?? 'src/index.ts';
  const nodeImports: NodeImport[] = [];
  const recordNodeImports: Plugin = {
    name: 'record-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!isNodeBuiltin(args.path)) return undefined;
        nodeImports.push({ specifier: args.path, importer: relative(REPO, args.importer), kind: args.kind });
        return { path: args.path, external: true };
      });
    },
  };
  const define: Record<string, string> = {};
  if (options.markNodeGlobals) {
    for (const name of NODE_GLOBALS) {
      define[name] = marker(name);
      for (const object of GLOBAL_OBJECTS) define[`${object}.${name}`] = marker(name);
    }
  }
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    conditions: ['lnpeer-source'],
    write: false,
    metafile: true,
    sourcemap: 'external',
    sourcesContent: false,
    outfile: 'browser-bundle/lnpeer.js', // a name for the output and its map; nothing is written
    minify: options.minify ?? false,
    define,
    plugins: [recordNodeImports],
    logLevel: 'silent',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.js.map'));
  if (!js || !map) throw new Error(`esbuild wrote no bundle for ${entry}`);
  const parsed = JSON.parse(map.text) as SourceMap;
  // The map's sources are relative to the output file's folder (browser-bundle/): make them repo-relative.
  parsed.sources = parsed.sources.map((s) => relative(REPO, resolve(REPO, 'browser-bundle', s)));
  return { entry, code: js.text, map: parsed, metafile: result.metafile, warnings: result.warnings, nodeImports };
}

export function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || isBuiltin(specifier);
}

function marker(name: string): string {
  return `${MARKER_PREFIX}${name}__`;
}

/** A bundle's size: as built, and gzipped. */
export function sizes(code: string): { bytes: number; gzip: number } {
  return { bytes: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length };
}

/** Every way a bundle is not browser-clean, each as a sentence naming the file and line responsible; empty when clean. */
export function auditBrowserBundle(bundle: Bundle): string[] {
  const problems: string[] = [];
  const inputs = Object.keys(bundle.metafile.inputs);

  for (const found of bundle.nodeImports) {
    const where = linesOf(found.importer, found.specifier).map((line) => `${found.importer}:${line}`);
    problems.push(
      `Node built-in '${found.specifier}' (${found.kind}) imported at ${where.join(', ') || found.importer}; imported via ${importChain(bundle, found.importer).join(' -> ')}`,
    );
  }
  for (const input of inputs) {
    if (!ALLOWED_INPUTS.some((allowed) => allowed.test(input))) {
      problems.push(`input ${input} is neither lnpeer's source nor @noble; imported via ${importChain(bundle, input).join(' -> ')}`);
    }
    if (NODE_ONLY_SOURCES.includes(input)) {
      problems.push(`Node-only source ${input} is in the browser bundle; imported via ${importChain(bundle, input).join(' -> ')}`);
    }
  }
  for (const [output, { imports }] of Object.entries(bundle.metafile.outputs)) {
    for (const i of imports) problems.push(`${output} still imports '${i.path}' (${i.kind}${i.external ? ', external' : ''})`);
  }
  // Belts and braces on the text itself: a fully bundled file has no import left of any kind
  // (one that comes from a line already reported above is not reported twice).
  const reported = new Set(bundle.nodeImports.flatMap((i) => linesOf(i.importer, i.specifier).map((line) => `${i.importer}:${line}`)));
  const leftover = /\bimport\s*\(|\brequire\s*\(|\bfrom\s*["']|^\s*import\s*["']|["']node:[a-z_/]+["']/gm;
  for (const m of bundle.code.matchAll(leftover)) {
    const { line, column } = position(bundle.code, m.index);
    const original = originalOf(bundle, line, column);
    if (reported.has(original.replace(/:\d+$/, ''))) continue;
    problems.push(`the bundle's text has '${m[0].trim()}' at output ${line}:${column} (${original})`);
  }
  const markers = new RegExp(`${MARKER_PREFIX}(\\w+?)__`, 'g');
  for (const m of bundle.code.matchAll(markers)) {
    const { line, column } = position(bundle.code, m.index);
    problems.push(`free reference to the Node global '${m[1]}' at ${originalOf(bundle, line, column)}`);
  }
  return problems;
}

/** 1-based line numbers of `file` (repo-relative) where `specifier` appears quoted. */
function linesOf(file: string, specifier: string): number[] {
  let text: string;
  try {
    text = readFileSync(resolve(REPO, file), 'utf8');
  } catch {
    return [];
  }
  const lines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.includes(`'${specifier}'`) || line.includes(`"${specifier}"`) || line.includes(`\`${specifier}\``)) lines.push(i + 1);
  });
  return lines;
}

/** The shortest chain of imports from the entry point to `target`, from the metafile. */
export function importChain(bundle: Bundle, target: string): string[] {
  const inputs = bundle.metafile.inputs;
  const start = Object.keys(inputs).find((k) => k === bundle.entry) ?? bundle.entry;
  const previous = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (file === target) break;
    for (const i of inputs[file]?.imports ?? []) {
      if (i.external || previous.has(i.path)) continue;
      previous.set(i.path, file);
      queue.push(i.path);
    }
  }
  if (!previous.has(target)) return [target];
  const chain: string[] = [];
  for (let at: string | null | undefined = target; at; at = previous.get(at)) chain.unshift(at);
  return chain;
}

/** 1-based line and 0-based column of `index` in `text`. */
function position(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - (before.lastIndexOf('\n') + 1) };
}

/** "file:line:column" of the original source at a position of the bundle, from its source map. */
export function originalOf(bundle: Pick<Bundle, 'map'>, line: number, column: number): string {
  const segment = decodeMappings(bundle.map.mappings)[line - 1]?.filter((s) => s.column <= column && s.source !== undefined).pop();
  if (!segment || segment.source === undefined) return `bundle ${line}:${column} (unmapped)`;
  return `${bundle.map.sources[segment.source]}:${segment.line! + 1}:${segment.sourceColumn! + 1}`;
}

interface Segment {
  column: number;
  source?: number;
  line?: number;
  sourceColumn?: number;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Source map v3 `mappings`, decoded (Base64 VLQ; fields after the first are deltas across the whole map). */
function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let source = 0;
  let line = 0;
  let sourceColumn = 0;
  for (const text of mappings.split(';')) {
    const segments: Segment[] = [];
    let column = 0;
    for (const encoded of text.split(',')) {
      if (!encoded) continue;
      const fields = decodeVlq(encoded);
      column += fields[0];
      if (fields.length >= 4) {
        source += fields[1];
        line += fields[2];
        sourceColumn += fields[3];
        segments.push({ column, source, line, sourceColumn });
      } else {
        segments.push({ column });
      }
    }
    lines.push(segments);
  }
  return lines;
}

function decodeVlq(encoded: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of encoded) {
    const digit = BASE64.indexOf(char);
    if (digit < 0) throw new Error(`invalid base64 VLQ character '${char}' in a source map`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    values.push(value % 2 === 1 ? -(value - 1) / 2 : value / 2);
    value = 0;
    shift = 0;
  }
  return values;
}

/**
 * The wasm accelerators a page can hand to `useCrypto()`, built as an application's bundler
 * would build them, each an ES module for the page to `import()`:
 * - `tiny-secp256k1` (libsecp256k1 in wasm). Its browser build imports `./secp256k1.wasm` as an
 *   ES module (the wasm ESM integration, which Vite and webpack 5 do with a plugin or an
 *   experiment); esbuild does not, so its loader is replaced by one that fetches the wasm
 *   beside the page (`wasmUrl`) and instantiates it with the imports the module declares.
 * - `libsodium-wrappers` (libsodium in wasm, embedded in its JavaScript; `await sodium.ready`).
 */
export interface AcceleratorBundles {
  tinySecp256k1: string;
  /** The bytes `tinySecp256k1` fetches from `wasmUrl`. */
  secp256k1Wasm: Uint8Array;
  libsodium: string;
}

export async function bundleAccelerators(wasmUrl: string): Promise<AcceleratorBundles> {
  const loader = fileURLToPath(new URL('../../node_modules/tiny-secp256k1/lib/wasm_loader.browser.js', import.meta.url));
  const fetchWasm: Plugin = {
    name: 'tiny-secp256k1-fetch-wasm',
    setup(b) {
      b.onLoad({ filter: /tiny-secp256k1[\\/]lib[\\/]wasm_loader\.browser\.js$/ }, (args) => {
        if (resolve(args.path) !== loader) return undefined;
        return {
          resolveDir: resolve(loader, '..'),
          contents: [
            "import * as rand from './rand.browser.js';",
            "import * as validate_error from './validate_error.js';",
            `const { instance } = await WebAssembly.instantiateStreaming(fetch(${JSON.stringify(wasmUrl)}), { './rand.js': rand, './validate_error.js': validate_error });`,
            'export default instance.exports;',
          ].join('\n'),
        };
      });
    },
  };
  const esm = async (contents: string, plugins: Plugin[] = []) =>
    (await build({ stdin: { contents, resolveDir: REPO }, bundle: true, platform: 'browser', format: 'esm', write: false, plugins, logLevel: 'silent' })).outputFiles[0].text;
  return {
    tinySecp256k1: await esm("export * from 'tiny-secp256k1';", [fetchWasm]),
    secp256k1Wasm: readFileSync(resolve(loader, '../secp256k1.wasm')),
    libsodium: await esm("export { default } from 'libsodium-wrappers';"),
  };
}
