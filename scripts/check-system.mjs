#!/usr/bin/env node
// `npm test` runs this first: are the system requirements of the tests there? Plain Node (no
// node_modules), so it also runs before `npm ci`.
//   - Node.js >= 20
//   - Chromium at $CHROMIUM_PATH or /usr/bin/chromium (the end-to-end tests; playwright.config.ts)
//   - Mesa >= 25's lavapipe (software Vulkan for Dawn's WebGPU in Node; Dawn refuses Mesa 22's), unless
//     $VK_ICD_FILENAMES / $VK_DRIVER_FILES or an NVIDIA driver is there (src/node/webgpu-node.ts)
//   - the reference python (scripts/python.mjs) with numpy and torch (the tests' float64 / torch oracles) and
//     jsonschema (the tests check run.json files against their JSON Schema with it) and onnx (the
//     checker of the exported ONNX files)
//   - then CIFAR-10 where the tests look for it; when missing, it is fetched once into ./data, or the
//     check stops saying what to put where (scripts/check-dataset.mjs)
// When something is missing and this runs as root on a machine with apt, it installs it (on Debian 12
// Mesa comes from bookworm-backports, whose apt source is derived from the machine's own apt sources);
// otherwise it stops at once and prints the exact commands to run.
//
// Usage: node scripts/check-system.mjs [--dry-run]   (--dry-run: say what would be installed or fetched, change nothing)
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkDataset } from './check-dataset.mjs';
import { PYTHON_ENV, referencePython } from './python.mjs';

export const MIN_NODE_MAJOR = 20;
export const MIN_MESA_MAJOR = 25;
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
export const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';
/** The apt source file this script writes when it adds a backports suite (.sources or .list by format). */
export const BACKPORTS_FILE = '/etc/apt/sources.list.d/lrpet-backports';

/** Releases whose apt archives (backports included) have no Mesa >= 25. */
const OLD_MESA_RELEASES = new Set(['buster', 'bullseye', 'bionic', 'focal', 'jammy']);
/** Debian releases that get Mesa >= 25 from their backports suite rather than the release itself. */
const MESA_FROM_BACKPORTS = new Set(['bookworm']);

// ---- pure parts (unit-tested in src/node/system-check.test.ts) -------------------------------------

/** /etc/os-release text -> { id, like: string[], codename, version, pretty }. */
export function parseOsRelease(text) {
  const f = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) f[m[1]] = m[2].replace(/^(["'])(.*)\1$/, '$2');
  }
  const id = (f.ID ?? 'unknown').toLowerCase();
  const like = (f.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  // Ubuntu derivatives name their own codename; apt's archives follow the Ubuntu one.
  const codename = f.UBUNTU_CODENAME || f.VERSION_CODENAME || null;
  return { id, like, codename, version: f.VERSION_ID ?? null, pretty: f.PRETTY_NAME ?? id };
}

/** Debian 12 gets Mesa >= 25 from its backports suite, not from the release. */
function mesaFromBackports(os) {
  return family(os) === 'debian' && MESA_FROM_BACKPORTS.has(os.codename);
}

function family(os) {
  if (os.id === 'ubuntu' || os.like.includes('ubuntu')) return 'ubuntu';
  if (os.id === 'debian' || os.like.includes('debian')) return 'debian';
  return 'other';
}

/** Major version of a Debian package version ('1:25.0.7-2~bpo12+1' -> 25), or null. */
export function majorVersion(version) {
  const m = /^(?:\d+:)?(\d+)\./.exec(version ?? '');
  return m ? Number(m[1]) : null;
}

/** deb822 stanzas: [{ fields: Map(lowercased name -> value, continuation lines kept), raw }]. */
function deb822Stanzas(text) {
  const stanzas = [];
  let cur = null;
  let last = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      cur = null;
      continue;
    }
    if (line.startsWith('#')) continue;
    if (/^[ \t]/.test(line)) {
      if (cur && last) cur.set(last, `${cur.get(last)}\n${line}`);
      continue;
    }
    const m = /^([A-Za-z0-9-]+):[ \t]*(.*)$/.exec(line);
    if (!m) continue;
    if (!cur) stanzas.push((cur = new Map()));
    last = m[1].toLowerCase();
    cur.set(last, m[2]);
  }
  return stanzas;
}

/** One-line format: [{ options, uri, suite, components }] of the uncommented `deb` lines. */
function oneLineEntries(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (m) out.push({ options: (m[1] ?? '').trim(), uri: m[2], suite: m[3], components: m[4].trim() });
  }
  return out;
}

const words = (v) => (v ?? '').split(/\s+/).filter(Boolean);
const enabled = (s) => (s.get('enabled') ?? 'yes').trim().toLowerCase() !== 'no';
const usableUri = (uri) => !/^cdrom:/.test(uri);

/**
 * Is `<codename>-backports` in apt's sources, and if not, the source to add, derived from the
 * machine's own entry for `<codename>` (same URIs, same key) — no archive host is written by us.
 * files: [{ path, text }] in apt's reading order (sources.list, then sources.list.d/* sorted).
 * Returns { configured: true } | { configured: false, source: { path, text } } |
 *         { configured: false, source: null, problem }.
 */
export function backportsSource(codename, files) {
  const suite = `${codename}-backports`;
  for (const { path, text } of files) {
    if (path.endsWith('.sources')) {
      if (deb822Stanzas(text).some((s) => enabled(s) && words(s.get('types')).includes('deb') && words(s.get('suites')).includes(suite))) return { configured: true };
    } else if (oneLineEntries(text).some((e) => e.suite === suite)) {
      return { configured: true };
    }
  }
  for (const { path, text } of files) {
    if (path.endsWith('.sources')) {
      const s = deb822Stanzas(text).find((st) => enabled(st) && words(st.get('types')).includes('deb') && words(st.get('suites')).includes(codename) && words(st.get('uris')).some(usableUri));
      if (s) {
        const lines = ['Types: deb', `URIs: ${words(s.get('uris')).filter(usableUri).join(' ')}`, `Suites: ${suite}`, 'Components: main'];
        for (const key of ['architectures', 'signed-by']) {
          if (s.has(key)) lines.push(`${key === 'signed-by' ? 'Signed-By' : 'Architectures'}: ${s.get(key)}`);
        }
        return { configured: false, source: { path: `${BACKPORTS_FILE}.sources`, text: `${lines.join('\n')}\n` } };
      }
    } else {
      const e = oneLineEntries(text).find((en) => en.suite === codename && usableUri(en.uri));
      if (e) return { configured: false, source: { path: `${BACKPORTS_FILE}.list`, text: `deb ${e.options ? `${e.options} ` : ''}${e.uri} ${suite} main\n` } };
    }
  }
  return { configured: false, source: null, problem: `none of apt's sources has the suite ${codename} to derive ${suite} from` };
}

/**
 * What is missing, from what was found. facts:
 *   node: '20.20.2'
 *   os: parseOsRelease(...) result
 *   root, apt, sudo: booleans (running as root; apt-get and sudo on PATH)
 *   chromium: { path, fromEnv, ok }
 *   vulkan: { override: string|null (VK_ICD_FILENAMES/VK_DRIVER_FILES, all files exist), nvidia, lavapipe (ICD file exists), mesa: installed mesa-vulkan-drivers version|null, dpkg }
 *   python: { path, rule, fromEnv, runs, numpy: version|null, torch: version|null, jsonschema: version|null, onnx: version|null, error: string|null }
 *   backports: backportsSource(...) result, for Debian releases in MESA_FROM_BACKPORTS (else null)
 *   attempted: ids the installer already tried in this run (then their advice is manual)
 * Returns [{ id, what }], id in node, chromium, mesa, python, numpy, torch, jsonschema, onnx.
 */
export function missingRequirements(facts) {
  const out = [];
  const nodeMajor = Number(/^(\d+)/.exec(facts.node)?.[1] ?? 0);
  if (nodeMajor < MIN_NODE_MAJOR) out.push({ id: 'node', what: `Node.js >= ${MIN_NODE_MAJOR} (this is ${facts.node})` });
  const c = facts.chromium;
  if (!c.ok) out.push({ id: 'chromium', what: c.fromEnv ? `Chromium: $CHROMIUM_PATH is ${c.path}, which is not an executable file` : `Chromium at ${c.path} (the end-to-end tests)` });
  const v = facts.vulkan;
  if (!v.override && !v.nvidia) {
    const major = majorVersion(v.mesa);
    if (!v.lavapipe) out.push({ id: 'mesa', what: `Mesa's lavapipe Vulkan driver >= ${MIN_MESA_MAJOR} (${LAVAPIPE_ICD} is missing; WebGPU in Node needs it on a machine without a GPU)` });
    else if (v.dpkg && major === null) out.push({ id: 'mesa', what: `Mesa's lavapipe >= ${MIN_MESA_MAJOR} (${LAVAPIPE_ICD} is there but the package mesa-vulkan-drivers is not installed)` });
    else if (major !== null && major < MIN_MESA_MAJOR) out.push({ id: 'mesa', what: `Mesa's lavapipe >= ${MIN_MESA_MAJOR} (mesa-vulkan-drivers is ${v.mesa}: Dawn refuses lavapipe before Mesa 25)` });
  }
  const p = facts.python;
  const who = `${p.path} (${p.rule})`;
  if (!p.runs) out.push({ id: 'python', what: `python3: ${who} does not run${p.error ? `: ${p.error}` : ''}` });
  else {
    if (!p.numpy) out.push({ id: 'numpy', what: `numpy in ${who} (the float64 reference)` });
    if (!p.torch) out.push({ id: 'torch', what: `torch in ${who} (the torch reference)` });
    if (!p.jsonschema) out.push({ id: 'jsonschema', what: `jsonschema in ${who} (checks run.json files against their schema)` });
    if (!p.onnx) out.push({ id: 'onnx', what: `onnx in ${who} (the checker of the exported ONNX files)` });
  }
  return out;
}

const APT_PACKAGES = {
  chromium: ['chromium'],
  mesa: ['mesa-vulkan-drivers'],
  python: ['python3', 'python3-numpy', 'python3-torch', 'python3-jsonschema', 'python3-onnx'],
  numpy: ['python3-numpy'],
  torch: ['python3-torch'],
  jsonschema: ['python3-jsonschema'],
  onnx: ['python3-onnx'],
};

/** Advice for one missing requirement that apt cannot fix here, or null when apt can. */
function manualAdvice(m, facts) {
  const fam = family(facts.os);
  const tried = facts.attempted?.includes(m.id) ? `apt-get install ${APT_PACKAGES[m.id].join(' ')} did not provide it. ` : '';
  switch (m.id) {
    case 'node':
      return `install Node.js ${MIN_NODE_MAJOR} or newer`;
    case 'chromium':
      if (facts.chromium.fromEnv) return `point $CHROMIUM_PATH at a Chromium or Chrome binary, or unset it to use ${DEFAULT_CHROMIUM}`;
      if (fam === 'ubuntu') return `Ubuntu's chromium package is only a wrapper around the snap: install Chromium or Google Chrome another way and set CHROMIUM_PATH to its binary (\`npx playwright install chromium\` puts one under ~/.cache/ms-playwright)`;
      if (fam !== 'debian' || !facts.apt || tried) return `${tried}install Chromium so that ${DEFAULT_CHROMIUM} exists, or set CHROMIUM_PATH to a Chromium or Chrome binary`;
      return null;
    case 'mesa': {
      const code = facts.os.codename;
      if (fam === 'other' || !facts.apt) return `install Mesa ${MIN_MESA_MAJOR} or newer with its lavapipe Vulkan driver (${LAVAPIPE_ICD}), or run on a machine with a GPU driver`;
      if (tried && mesaFromBackports(facts.os)) {
        return `${tried}Check that apt sees ${code}-backports (\`apt-cache policy mesa-vulkan-drivers\` should list a version >= ${MIN_MESA_MAJOR}), then \`apt-get install -t ${code}-backports mesa-vulkan-drivers\``;
      }
      if (OLD_MESA_RELEASES.has(code) || tried) {
        const base = `${tried}${facts.os.pretty} has no Mesa ${MIN_MESA_MAJOR} in its archives.`;
        if (fam === 'ubuntu') return `${base} Ubuntu 25.04 and newer ship Mesa >= ${MIN_MESA_MAJOR}, and 24.04 LTS gets it with its current updates (apt-get update && apt-get upgrade); on an older release add a PPA that carries Mesa >= ${MIN_MESA_MAJOR} (for example \`add-apt-repository ppa:kisak/kisak-mesa\`), then \`apt-get install mesa-vulkan-drivers\``;
        return `${base} Debian 12 (with bookworm-backports) or Debian 13 and newer have it`;
      }
      if (mesaFromBackports(facts.os) && !facts.backports?.configured && !facts.backports?.source) {
        return `add the ${code}-backports suite of your Debian mirror to apt's sources (${facts.backports?.problem ?? 'not derivable'}), then \`apt-get update && apt-get install -t ${code}-backports mesa-vulkan-drivers\``;
      }
      return null;
    }
    case 'python':
    case 'numpy':
    case 'torch':
    case 'jsonschema':
    case 'onnx':
      if (facts.python.fromEnv) return `install numpy, torch, jsonschema and onnx into $${PYTHON_ENV} (${facts.python.path}), e.g. \`${facts.python.path} -m pip install numpy torch jsonschema onnx\`, or unset ${PYTHON_ENV} to use /usr/bin/python3 with Debian's python3-numpy, python3-torch, python3-jsonschema and python3-onnx`;
      if (fam === 'other' || !facts.apt || tried) return `${tried}give ${facts.python.path} numpy, torch, jsonschema and onnx, or set ${PYTHON_ENV} to a python3 that has them`;
      return null;
  }
  return null;
}

/**
 * The decision. Returns
 *   { action: 'ok', missing: [] }
 *   { action: 'install', missing, install: { sources: [{ path, text }], release: [packages], backports: { suite, packages } | null } }
 *   { action: 'stop', missing, message }   (message: what is missing and the exact commands to run)
 */
export function planSystem(facts) {
  const missing = missingRequirements(facts);
  if (missing.length === 0) return { action: 'ok', missing };
  const manual = [];
  const release = [];
  const fromBackports = [];
  for (const m of missing) {
    const advice = manualAdvice(m, facts);
    if (advice) manual.push({ ...m, advice });
    else if (m.id === 'mesa' && mesaFromBackports(facts.os)) fromBackports.push(...APT_PACKAGES[m.id]);
    else release.push(...APT_PACKAGES[m.id].filter((p) => !release.includes(p)));
  }
  const sources = fromBackports.length && !facts.backports.configured ? [facts.backports.source] : [];
  const install = { sources, release, backports: fromBackports.length ? { suite: `${facts.os.codename}-backports`, packages: fromBackports } : null };
  const aptFixable = release.length + fromBackports.length > 0;
  if (manual.length === 0 && facts.root && facts.apt) return { action: 'install', missing, install };

  const lines = ['npm test: system requirements of the tests are missing:'];
  for (const m of missing) lines.push(`  - ${m.what}`);
  if (aptFixable) {
    const as = !facts.root && facts.sudo ? 'sudo ' : '';
    lines.push('', facts.root || facts.sudo ? 'Install them with:' : 'Install them (as root) with:');
    for (const cmd of aptCommands(install, as)) lines.push(`  ${cmd}`);
    if (!facts.root) lines.push(`(or run \`${as}node scripts/check-system.mjs\`, which does exactly that)`);
  }
  if (manual.length) {
    lines.push('', aptFixable ? 'And:' : 'To fix:');
    for (const m of manual) lines.push(`  - ${m.advice}`);
  }
  return { action: 'stop', missing, message: lines.join('\n') };
}

const shellQuote = (t) => `'${t.replace(/'/g, `'\\''`)}'`;

/** The shell commands of an install plan, one line each, for messages (the installer runs the same steps). */
export function aptCommands(install, sudo = '') {
  const cmds = install.sources.map((s) => `printf '%s\\n' ${s.text.trimEnd().split('\n').map(shellQuote).join(' ')} | ${sudo}tee ${s.path} >/dev/null`);
  cmds.push(`${sudo}apt-get update`);
  if (install.release.length) cmds.push(`${sudo}apt-get install -y ${install.release.join(' ')}`);
  if (install.backports) cmds.push(`${sudo}apt-get install -y -t ${install.backports.suite} ${install.backports.packages.join(' ')}`);
  return cmds;
}

// ---- what is on this machine --------------------------------------------------------------------

function onPath(cmd, env) {
  return (env.PATH ?? '').split(delimiter).some((d) => d && isExecutable(join(d, cmd)));
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function readText(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** apt's source files in its reading order. */
export function aptSourceFiles(etc = '/etc/apt') {
  const files = [];
  const main = readText(join(etc, 'sources.list'));
  if (main !== null) files.push({ path: join(etc, 'sources.list'), text: main });
  const dir = join(etc, 'sources.list.d');
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => /\.(list|sources)$/.test(n)).sort() : [];
  for (const n of names) {
    const text = readText(join(dir, n));
    if (text !== null) files.push({ path: join(dir, n), text });
  }
  return files;
}

const PY_PROBE = `
import json
out = {}
for name in ("numpy", "torch", "jsonschema", "onnx"):
    try:
        out[name] = __import__(name).__version__
    except Exception as e:
        out[name] = None
print(json.dumps(out))
`;

function probePython(env) {
  const { path, rule } = referencePython(env);
  const base = { path, rule, fromEnv: Boolean(env[PYTHON_ENV]), runs: false, numpy: null, torch: null, jsonschema: null, onnx: null, error: null };
  const r = spawnSync(path, ['-c', PY_PROBE], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return { ...base, error: r.error.message };
  if (r.status !== 0) return { ...base, error: (r.stderr || '').trim().split('\n').at(-1) || `exit ${r.status}` };
  try {
    return { ...base, runs: true, ...JSON.parse(r.stdout.trim().split('\n').at(-1)) };
  } catch {
    return { ...base, error: `unexpected output: ${r.stdout.slice(0, 200)}` };
  }
}

function installedVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${db:Status-Abbrev} ${Version}', pkg], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const m = /^ii\s+(\S+)/.exec(r.stdout.trim());
  return m ? m[1] : null;
}

export function gatherFacts(env = process.env, attempted = []) {
  const os = parseOsRelease(readText('/etc/os-release') ?? readText('/usr/lib/os-release') ?? '');
  const chromiumPath = env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
  const icdOverride = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || null;
  const dpkg = onPath('dpkg-query', env);
  const facts = {
    node: process.versions.node,
    os,
    root: process.getuid?.() === 0,
    apt: onPath('apt-get', env),
    sudo: onPath('sudo', env),
    chromium: { path: chromiumPath, fromEnv: Boolean(env.CHROMIUM_PATH), ok: isExecutable(chromiumPath) },
    vulkan: {
      override: icdOverride && icdOverride.split(':').every((f) => existsSync(f)) ? icdOverride : null,
      nvidia: existsSync('/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json') || existsSync('/usr/share/vulkan/icd.d/nvidia_icd.json'),
      lavapipe: existsSync(LAVAPIPE_ICD),
      mesa: dpkg ? installedVersion('mesa-vulkan-drivers') : null,
      dpkg,
    },
    python: probePython(env),
    backports: null,
    attempted,
  };
  if (mesaFromBackports(os)) facts.backports = backportsSource(os.codename, aptSourceFiles());
  return facts;
}

function summary(f) {
  const gpu = f.vulkan.override ? `Vulkan ICD ${f.vulkan.override}` : f.vulkan.nvidia ? 'NVIDIA Vulkan' : `lavapipe (Mesa ${f.vulkan.mesa ?? 'version unknown: no dpkg'})`;
  return `system check: ok — Node ${f.node}, Chromium ${f.chromium.path}, ${gpu}, ${f.python.path} with numpy ${f.python.numpy}, torch ${f.python.torch} and onnx ${f.python.onnx}`;
}

function run(cmd, args) {
  console.error(`system check: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

function applyInstall(install) {
  for (const s of install.sources) {
    console.error(`system check: adding the apt source ${s.path}:\n${s.text.trimEnd()}`);
    writeFileSync(s.path, s.text);
  }
  run('apt-get', ['update', '-qq']);
  if (install.release.length) run('apt-get', ['install', '-y', '-qq', ...install.release]);
  if (install.backports) run('apt-get', ['install', '-y', '-qq', '-t', install.backports.suite, ...install.backports.packages]);
}

function main(argv) {
  const dryRun = argv.includes('--dry-run');
  let facts = gatherFacts();
  let plan = planSystem(facts);
  if (plan.action === 'install') {
    console.error(`system check: missing:\n${plan.missing.map((m) => `  - ${m.what}`).join('\n')}`);
    if (dryRun) {
      console.error(`system check: would run (as root):\n${aptCommands(plan.install).map((c) => `  ${c}`).join('\n')}`);
      return 0;
    }
    try {
      applyInstall(plan.install);
    } catch (e) {
      console.error(`system check: ${e.message}`);
      return 1;
    }
    facts = gatherFacts(process.env, plan.missing.map((m) => m.id));
    plan = planSystem(facts);
  }
  if (plan.action === 'ok') {
    console.log(summary(facts));
    return 0;
  }
  console.error(plan.message ?? `system check: still missing after installing:\n${plan.missing.map((m) => `  - ${m.what}`).join('\n')}`);
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const argv = process.argv.slice(2);
  process.exitCode = main(argv) || (await checkDataset({ dryRun: argv.includes('--dry-run') }));
}

export const SCRIPT = fileURLToPath(import.meta.url);
