import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDataset, fetchFailedMessage, planDataset, REQUIRED_FILES, type DatasetFacts } from '../../scripts/check-dataset.mjs';
import { aptCommands, backportsSource, majorVersion, parseOsRelease, planSystem, SCRIPT, type Facts } from '../../scripts/check-system.mjs';
import { OFFICIAL_MD5, OFFICIAL_URL } from '../../scripts/dataset.mjs';
import { referencePython } from '../../scripts/python.mjs';

// scripts/check-system.mjs: what `npm test` checks first, and what it does about it.

const BOOKWORM = parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n');
const TRIXIE = parseOsRelease('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n');
const NOBLE = parseOsRelease('PRETTY_NAME="Ubuntu 24.04.1 LTS"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=noble\n');
const JAMMY = parseOsRelease('PRETTY_NAME="Ubuntu 22.04.4 LTS"\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n');

// The archive host in these fixtures is a reserved, never-resolving name: the point is that the
// derived source copies whatever the machine's own source says.
const DEB822 = `Types: deb
# a comment inside the stanza
URIs: http://mirror.example.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.invalid/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

const BACKPORTS_FROM_DEB822 = `Types: deb
URIs: http://mirror.example.invalid/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

/** A bookworm machine where everything is in place. */
function healthy(over: Partial<Facts> = {}): Facts {
  return {
    node: '20.20.2',
    os: BOOKWORM,
    root: true,
    apt: true,
    sudo: false,
    chromium: { path: '/usr/bin/chromium', fromEnv: false, ok: true },
    vulkan: { override: null, nvidia: false, lavapipe: true, mesa: '25.0.7-2~bpo12+1', dpkg: true },
    python: { path: '/usr/bin/python3', rule: '/usr/bin/python3', fromEnv: false, runs: true, numpy: '1.24.2', torch: '1.13.1', jsonschema: '4.10.3', onnx: '1.12.0', error: null },
    backports: { configured: true },
    ...over,
  };
}

const bookwormMesa22 = (over: Partial<Facts> = {}) =>
  healthy({
    vulkan: { override: null, nvidia: false, lavapipe: true, mesa: '22.3.6-1+deb12u1', dpkg: true },
    backports: backportsSource('bookworm', [{ path: '/etc/apt/sources.list.d/debian.sources', text: DEB822 }]),
    ...over,
  });

describe('os-release and versions', () => {
  it('reads the codename (Ubuntu derivatives: the Ubuntu one)', () => {
    expect(BOOKWORM).toMatchObject({ id: 'debian', codename: 'bookworm', version: '12' });
    expect(parseOsRelease('ID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_CODENAME=wilma\nUBUNTU_CODENAME=noble\n')).toMatchObject({ id: 'linuxmint', like: ['ubuntu', 'debian'], codename: 'noble' });
  });

  it('takes the major version of a Debian package version', () => {
    expect(majorVersion('25.0.7-2~bpo12+1')).toBe(25);
    expect(majorVersion('22.3.6-1+deb12u1')).toBe(22);
    expect(majorVersion('1:24.2.8-1ubuntu1~24.04.1')).toBe(24);
    expect(majorVersion(null)).toBeNull();
  });
});

describe('the backports source is derived from the machine’s own apt sources', () => {
  it('deb822: same URIs and key, suite <codename>-backports, main only', () => {
    expect(backportsSource('bookworm', [{ path: '/etc/apt/sources.list.d/debian.sources', text: DEB822 }])).toEqual({
      configured: false,
      source: { path: '/etc/apt/sources.list.d/lrpet-backports.sources', text: BACKPORTS_FROM_DEB822 },
    });
  });

  it('one-line sources.list: same URI and options', () => {
    const list = '# deb cdrom:[Debian GNU/Linux 12]/ bookworm main\ndeb-src http://mirror.example.invalid/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example.invalid/debian bookworm main contrib\n';
    expect(backportsSource('bookworm', [{ path: '/etc/apt/sources.list', text: list }])).toEqual({
      configured: false,
      source: { path: '/etc/apt/sources.list.d/lrpet-backports.list', text: 'deb [arch=amd64 signed-by=/k.gpg] http://mirror.example.invalid/debian bookworm-backports main\n' },
    });
  });

  it('keeps a multi-line Signed-By key block verbatim and skips disabled stanzas', () => {
    const text = 'Types: deb\nURIs: http://off.example.invalid/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n\nTypes: deb deb-src\nURIs: http://on.example.invalid/debian\nSuites: bookworm\nComponents: main contrib\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----\n';
    const r = backportsSource('bookworm', [{ path: '/etc/apt/sources.list.d/x.sources', text }]);
    expect(r.configured).toBe(false);
    expect(r.configured === false && r.source?.text).toBe(
      'Types: deb\nURIs: http://on.example.invalid/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: \n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----\n',
    );
  });

  it('an existing backports entry (either format) is used as it is', () => {
    expect(backportsSource('bookworm', [{ path: '/etc/apt/sources.list.d/debian.sources', text: DEB822 }, { path: '/etc/apt/sources.list.d/backports.sources', text: BACKPORTS_FROM_DEB822 }])).toEqual({ configured: true });
    expect(backportsSource('bookworm', [{ path: '/etc/apt/sources.list', text: 'deb http://mirror.example.invalid/debian bookworm-backports main\n' }])).toEqual({ configured: true });
    // commented out: not configured
    expect(backportsSource('bookworm', [{ path: '/etc/apt/sources.list', text: '# deb http://mirror.example.invalid/debian bookworm-backports main\n' }]).configured).toBe(false);
  });

  it('says so when there is nothing to derive it from', () => {
    expect(backportsSource('bookworm', [{ path: '/etc/apt/sources.list', text: 'deb http://mirror.example.invalid/debian trixie main\n' }])).toMatchObject({ configured: false, source: null, problem: expect.stringMatching(/no.*suite bookworm/) });
  });
});

describe('planSystem', () => {
  it('everything there: nothing to do', () => {
    expect(planSystem(healthy())).toEqual({ action: 'ok', missing: [] });
    // a GPU driver or an explicit ICD makes lavapipe unnecessary (the same rule as src/node/webgpu-node.ts)
    expect(planSystem(healthy({ vulkan: { override: null, nvidia: true, lavapipe: false, mesa: null, dpkg: true } })).action).toBe('ok');
    expect(planSystem(healthy({ vulkan: { override: '/x/icd.json', nvidia: false, lavapipe: false, mesa: null, dpkg: true } })).action).toBe('ok');
  });

  it('bookworm as root with apt, Mesa 22: adds the derived backports source and installs Mesa from it', () => {
    const plan = planSystem(bookwormMesa22());
    expect(plan.action).toBe('install');
    if (plan.action !== 'install') return;
    expect(plan.missing.map((m) => m.id)).toEqual(['mesa']);
    expect(plan.install).toEqual({
      sources: [{ path: '/etc/apt/sources.list.d/lrpet-backports.sources', text: BACKPORTS_FROM_DEB822 }],
      release: [],
      backports: { suite: 'bookworm-backports', packages: ['mesa-vulkan-drivers'] },
    });
    expect(aptCommands(plan.install)).toEqual([
      "printf '%s\\n' 'Types: deb' 'URIs: http://mirror.example.invalid/debian' 'Suites: bookworm-backports' 'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' | tee /etc/apt/sources.list.d/lrpet-backports.sources >/dev/null",
      'apt-get update',
      'apt-get install -y -t bookworm-backports mesa-vulkan-drivers',
    ]);
  });

  it('the printed source command writes exactly the derived source (quotes and key blocks too)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrpet-apt-'));
    try {
      const text = "Types: deb\nURIs: http://mirror.example.invalid/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n it's $HOME `x` \\n\n";
      const path = join(dir, 'out.sources');
      const [cmd] = aptCommands({ sources: [{ path, text }], release: [], backports: null });
      const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(path, 'utf8')).toBe(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a fresh bookworm as root: chromium, python3-numpy, python3-torch, python3-jsonschema, python3-onnx from the release, Mesa from backports', () => {
    const plan = planSystem(
      bookwormMesa22({
        chromium: { path: '/usr/bin/chromium', fromEnv: false, ok: false },
        vulkan: { override: null, nvidia: false, lavapipe: false, mesa: null, dpkg: true },
        python: { path: '/usr/bin/python3', rule: '/usr/bin/python3', fromEnv: false, runs: true, numpy: null, torch: null, jsonschema: null, onnx: null, error: null },
      }),
    );
    expect(plan.action).toBe('install');
    if (plan.action !== 'install') return;
    expect(plan.install.release).toEqual(['chromium', 'python3-numpy', 'python3-torch', 'python3-jsonschema', 'python3-onnx']);
    expect(plan.install.backports?.packages).toEqual(['mesa-vulkan-drivers']);
  });

  it('no python3 at all: python3 with numpy, torch, jsonschema and onnx', () => {
    const plan = planSystem(healthy({ python: { path: 'python3', rule: 'python3 on PATH', fromEnv: false, runs: false, numpy: null, torch: null, jsonschema: null, onnx: null, error: 'spawnSync python3 ENOENT' } }));
    expect(plan.action === 'install' && plan.install.release).toEqual(['python3', 'python3-numpy', 'python3-torch', 'python3-jsonschema', 'python3-onnx']);
  });

  it('backports already configured: no source written', () => {
    const plan = planSystem(bookwormMesa22({ backports: { configured: true } }));
    expect(plan.action === 'install' && plan.install.sources).toEqual([]);
  });

  it('not root: stops with the exact commands (sudo when there is sudo)', () => {
    const plan = planSystem(bookwormMesa22({ root: false, sudo: true, python: { ...healthy().python, torch: null } }));
    expect(plan.action).toBe('stop');
    if (plan.action !== 'stop') return;
    expect(plan.message).toContain('torch in /usr/bin/python3');
    expect(plan.message).toContain('mesa-vulkan-drivers is 22.3.6-1+deb12u1');
    expect(plan.message).toContain("\n  printf '%s\\n' 'Types: deb' 'URIs: http://mirror.example.invalid/debian' 'Suites: bookworm-backports' 'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' | sudo tee /etc/apt/sources.list.d/lrpet-backports.sources >/dev/null\n");
    expect(plan.message).toContain('  sudo apt-get update\n  sudo apt-get install -y python3-torch\n  sudo apt-get install -y -t bookworm-backports mesa-vulkan-drivers');
    expect(plan.message).toContain('sudo node scripts/check-system.mjs');
    const noSudo = planSystem(bookwormMesa22({ root: false, sudo: false }));
    expect(noSudo.action === 'stop' && noSudo.message).toMatch(/Install them \(as root\) with:\n {2}printf .* \| tee /);
  });

  it('bookworm without a derivable source: stops and says what to add', () => {
    const plan = planSystem(bookwormMesa22({ backports: { configured: false, source: null, problem: 'none of apt’s sources has the suite bookworm' } }));
    expect(plan.action).toBe('stop');
    expect(plan.action === 'stop' && plan.message).toMatch(/add the bookworm-backports suite of your Debian mirror/);
  });

  it('trixie and noble: Mesa from the release itself', () => {
    const noMesa = { override: null, nvidia: false, lavapipe: false, mesa: null, dpkg: true };
    for (const os of [TRIXIE, NOBLE]) {
      const plan = planSystem(healthy({ os, vulkan: noMesa, backports: null }));
      expect(plan.action === 'install' && plan.install).toEqual({ sources: [], release: ['mesa-vulkan-drivers'], backports: null });
    }
  });

  it('Ubuntu whose Mesa stays < 25 after installing, and jammy from the start: stops with what to do', () => {
    const after = planSystem(healthy({ os: NOBLE, backports: null, vulkan: { override: null, nvidia: false, lavapipe: true, mesa: '24.2.8-1ubuntu1~24.04.1', dpkg: true }, attempted: ['mesa'] }));
    expect(after.action).toBe('stop');
    expect(after.action === 'stop' && after.message).toMatch(/apt-get install mesa-vulkan-drivers did not provide it\. Ubuntu 24\.04\.1 LTS has no Mesa 25.*PPA/);
    const jammy = planSystem(healthy({ os: JAMMY, backports: null, vulkan: { override: null, nvidia: false, lavapipe: false, mesa: null, dpkg: true } }));
    expect(jammy.action).toBe('stop');
    expect(jammy.action === 'stop' && jammy.message).toMatch(/Ubuntu 22\.04\.4 LTS has no Mesa 25/);
  });

  it('Ubuntu: Chromium is not installed through apt (a snap wrapper), CHROMIUM_PATH is the way', () => {
    const plan = planSystem(healthy({ os: NOBLE, backports: null, chromium: { path: '/usr/bin/chromium', fromEnv: false, ok: false } }));
    expect(plan.action).toBe('stop');
    expect(plan.action === 'stop' && plan.message).toMatch(/snap.*CHROMIUM_PATH/);
  });

  it('$LRPET_PYTHON without torch: never apt (that would not change that python), says what to do', () => {
    const plan = planSystem(healthy({ python: { path: '/opt/venv/bin/python', rule: '$LRPET_PYTHON', fromEnv: true, runs: true, numpy: '2.1.0', torch: null, jsonschema: '4.10.3', onnx: null, error: null } }));
    expect(plan.action).toBe('stop');
    if (plan.action !== 'stop') return;
    expect(plan.message).toContain('torch in /opt/venv/bin/python ($LRPET_PYTHON)');
    expect(plan.message).toContain('/opt/venv/bin/python -m pip install numpy torch');
    expect(plan.message).not.toContain('apt-get install');
  });

  it('a bad $CHROMIUM_PATH and an old Node are named', () => {
    const plan = planSystem(healthy({ node: '18.19.0', chromium: { path: '/opt/chrome', fromEnv: true, ok: false } }));
    expect(plan.action).toBe('stop');
    expect(plan.action === 'stop' && plan.message).toMatch(/Node\.js >= 20 \(this is 18\.19\.0\)[\s\S]*\$CHROMIUM_PATH is \/opt\/chrome/);
  });

  it('no apt (another distribution): stops with plain instructions', () => {
    const plan = planSystem(healthy({ os: parseOsRelease('ID=fedora\nVERSION_ID=41\n'), apt: false, backports: null, vulkan: { override: null, nvidia: false, lavapipe: false, mesa: null, dpkg: false } }));
    expect(plan.action).toBe('stop');
    expect(plan.action === 'stop' && plan.message).toMatch(/install Mesa 25 or newer with its lavapipe/);
    expect(plan.action === 'stop' && plan.message).not.toContain('apt-get');
  });
});

describe('the check itself', () => {
  it('stops at once with the message and exit status 1 (nothing installed when a fix is manual)', () => {
    const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8', env: { ...process.env, CHROMIUM_PATH: '/nonexistent/chrome', LRPET_PYTHON: '/nonexistent/python3' }, timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('$CHROMIUM_PATH is /nonexistent/chrome, which is not an executable file');
    expect(r.stderr).toContain('python3: /nonexistent/python3 ($LRPET_PYTHON) does not run');
    expect(r.stderr).not.toMatch(/at .*\.mjs:\d+/); // a message, not a stack trace
  });

  it('uses the same python as the numpy/torch test bridges', () => {
    expect(referencePython({ LRPET_PYTHON: '/opt/p' }, () => true)).toEqual({ path: '/opt/p', rule: '$LRPET_PYTHON' });
    expect(referencePython({}, () => true).path).toBe('/usr/bin/python3');
    expect(referencePython({}, () => false).path).toBe('python3');
  });
});

describe('the dataset: found, fetched once into ./data, or what to put where (planDataset)', () => {
  const tried = ['/r/data/cifar-10-batches-bin', '/shared/datasets/cifar10/cifar-10-batches-bin'];
  const complete = Object.fromEntries(REQUIRED_FILES.map((n) => [n, 30_730_000]));
  const facts = (over: Partial<DatasetFacts> = {}): DatasetFacts => ({ found: { dir: null, rule: null, tried, problem: 'no CIFAR-10 folder found' }, files: null, dataDir: '/r/data', archive: null, fromEnv: false, ...over });
  const at = (dir: string, rule: string, files: Record<string, number | null>) => facts({ found: { dir, rule, tried }, files });

  it('a folder with the six batch files: nothing to do', () => {
    expect(planDataset(at('/shared/x', '../shared', complete))).toEqual({ action: 'ok', dir: '/shared/x', rule: '../shared' });
  });

  it('an incomplete folder: stops, naming each missing or truncated file and what to do', () => {
    const plan = planDataset(at('/r/data/cifar-10-batches-bin', './data', { ...complete, 'data_batch_3.bin': null, 'test_batch.bin': 3073 * 10 - 1 }));
    expect(plan.action).toBe('stop');
    expect(plan.action === 'stop' && plan.message).toBe(
      'npm test: the CIFAR-10 folder /r/data/cifar-10-batches-bin (./data) is incomplete: data_batch_3.bin is missing; test_batch.bin is 30729 bytes, not a whole number of 3073-byte records.\n' +
        `Replace its files with those of the official cifar-10-binary.tar.gz (${OFFICIAL_URL}, MD5 ${OFFICIAL_MD5}), or set CIFAR10_DIR to a folder with a complete copy`,
    );
  });

  it('$CIFAR10_DIR that is not a folder: stops (a download into ./data would not be used), says to fix or unset it', () => {
    const plan = planDataset(facts({ found: { dir: null, rule: null, tried: ['/nope'], problem: '$CIFAR10_DIR is set to /nope, which is not a folder' }, fromEnv: true }));
    expect(plan.action).toBe('stop');
    expect(plan.action === 'stop' && plan.message).toMatch(/^npm test: \$CIFAR10_DIR is set to \/nope, which is not a folder\.\nPoint CIFAR10_DIR at the folder that holds data_batch_1\.bin, .*test_batch\.bin, or unset it: then \/r\/data\/cifar-10-batches-bin is used/);
  });

  it('nothing found: downloads the official archive into ./data (and says what it would do in a dry run)', () => {
    expect(planDataset(facts())).toEqual({
      action: 'download',
      dataDir: '/r/data',
      doing: `CIFAR-10 is in none of ${tried.join(', ')}: downloading ${OFFICIAL_URL} (163 MB, once) into /r/data, checking its MD5 (${OFFICIAL_MD5}) and unpacking it into /r/data/cifar-10-batches-bin`,
      would: `CIFAR-10 is in none of ${tried.join(', ')}: would download ${OFFICIAL_URL} (163 MB) into /r/data, check its MD5 (${OFFICIAL_MD5}) and unpack it into /r/data/cifar-10-batches-bin`,
    });
    const other = planDataset(facts(), { url: 'http://127.0.0.1:1/a.tgz', md5: '0'.repeat(32) });
    expect(other.action === 'download' && other.doing).toContain(`downloading http://127.0.0.1:1/a.tgz (163 MB, once) into /r/data, checking its MD5 (${'0'.repeat(32)})`);
  });

  it('an archive already in ./data: checked and unpacked, nothing downloaded', () => {
    const plan = planDataset(facts({ archive: '/r/data/cifar-10-binary.tar.gz' }));
    expect(plan).toMatchObject({ action: 'download', dataDir: '/r/data' });
    expect(plan.action === 'download' && plan.doing).toBe(`CIFAR-10 is not unpacked yet: checking /r/data/cifar-10-binary.tar.gz (its MD5 must be ${OFFICIAL_MD5}) and unpacking it into /r/data/cifar-10-batches-bin`);
  });

  it('the stop message after a failed fetch says exactly what to put where', () => {
    expect(fetchFailedMessage('could not reach X (ENOTFOUND): this machine seems to be offline', { dataDir: '/r/data', tried })).toBe(
      [
        `npm test: CIFAR-10 is missing (looked in ${tried.join(', ')}) and could not be fetched: could not reach X (ENOTFOUND): this machine seems to be offline.`,
        'Put it in place by hand, then run npm test again — any one of:',
        `  - copy the official cifar-10-binary.tar.gz (${OFFICIAL_URL}, MD5 ${OFFICIAL_MD5}) to /r/data/cifar-10-binary.tar.gz: the next run checks and unpacks it`,
        '  - unpack it so that /r/data/cifar-10-batches-bin/ holds data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin',
        '  - set CIFAR10_DIR to a folder that holds those six files',
      ].join('\n'),
    );
  });
});

describe('ensureDataset: the download path (the local server’s, scripts/dataset.mjs) against a local HTTP server', () => {
  const RECORD = 3073;
  let work = '';
  let archive: Buffer;
  let server: Server;
  let base = '';
  const requests: string[] = [];

  beforeAll(async () => {
    // A small stand-in for cifar-10-binary.tar.gz (2 records a batch), written by GNU tar.
    work = mkdtempSync(join(tmpdir(), 'lrpet-dscheck-'));
    const src = join(work, 'src', 'cifar-10-batches-bin');
    mkdirSync(src, { recursive: true });
    for (const [i, name] of REQUIRED_FILES.entries()) writeFileSync(join(src, name), Buffer.alloc(RECORD * 2, i + 1));
    writeFileSync(join(src, 'batches.meta.txt'), 'airplane\n');
    const t = spawnSync('tar', ['czf', join(work, 'fake.tar.gz'), '-C', join(work, 'src'), 'cifar-10-batches-bin'], { encoding: 'utf8' });
    expect(t.status, `tar is needed for this test: ${t.error?.message ?? t.stderr}`).toBe(0);
    archive = readFileSync(join(work, 'fake.tar.gz'));
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const body = req.url === '/fake.tar.gz' ? archive : req.url === '/portal.html' ? Buffer.from('<html>a captive portal</html>') : null;
      res.writeHead(body ? 200 : 404, { 'content-length': body?.length ?? 0 });
      res.end(body);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
  /** A fresh repository root with no data (nothing at ../shared either). */
  const freshRoot = () => {
    const root = join(mkdtempSync(join(work, 'clone-')), 'repo');
    mkdirSync(root);
    return root;
  };

  it('nothing found: fetches the archive once into ./data, checks its MD5, unpacks it; the next run finds it', async () => {
    const root = freshRoot();
    const log: string[] = [];
    requests.length = 0;
    const r = await ensureDataset({ root, env: {}, url: `${base}/fake.tar.gz`, md5: md5(archive), log: (l) => log.push(l) });
    expect(r).toEqual({ ok: true, line: `CIFAR-10 in ${join(root, 'data', 'cifar-10-batches-bin')} (./data, just unpacked)` });
    expect(requests).toEqual(['/fake.tar.gz']);
    expect(log[0]).toContain(`downloading ${base}/fake.tar.gz (163 MB, once) into ${join(root, 'data')}`);
    expect(readdirSync(join(root, 'data')).sort()).toEqual(['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);
    expect(readFileSync(join(root, 'data', 'cifar-10-batches-bin', 'test_batch.bin'))).toEqual(Buffer.alloc(RECORD * 2, 6));
    const again = await ensureDataset({ root, env: {}, url: `${base}/fake.tar.gz`, md5: md5(archive), log: (l) => log.push(l) });
    expect(again).toEqual({ ok: true, line: `CIFAR-10 in ${join(root, 'data', 'cifar-10-batches-bin')} (./data)` });
    expect(requests).toHaveLength(1);
  });

  it('a dry run says what it would do and changes nothing', async () => {
    const root = freshRoot();
    const log: string[] = [];
    requests.length = 0;
    expect(await ensureDataset({ root, env: {}, url: `${base}/fake.tar.gz`, dryRun: true, log: (l) => log.push(l) })).toEqual({ ok: true, line: 'CIFAR-10 would be fetched (dry run)' });
    expect(log).toEqual([expect.stringContaining(`would download ${base}/fake.tar.gz (163 MB) into ${join(root, 'data')}`)]);
    expect(requests).toEqual([]);
    expect(readdirSync(root)).toEqual([]);
  });

  it('offline: stops at once, saying what to put where, with nothing left behind', async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/cifar-10-binary.tar.gz`;
    await new Promise((ok) => closed.close(ok));
    const root = freshRoot();
    const t0 = Date.now();
    const r = await ensureDataset({ root, env: {}, url, md5: md5(archive), log: () => {} });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.ok).toBe(false);
    const message = r.ok ? '' : r.message;
    expect(message).toContain(`could not be fetched: could not reach ${url} (ECONNREFUSED): this machine seems to be offline.`);
    expect(message).toContain(`to ${join(root, 'data', 'cifar-10-binary.tar.gz')}: the next run checks and unpacks it`);
    expect(message).toContain(`unpack it so that ${join(root, 'data', 'cifar-10-batches-bin')}/ holds data_batch_1.bin`);
    expect(message).toContain('set CIFAR10_DIR to a folder that holds those six files');
    expect(readdirSync(join(root, 'data'))).toEqual([]);
  });

  it('an archive with another MD5 is refused and removed, nothing unpacked', async () => {
    const root = freshRoot();
    const r = await ensureDataset({ root, env: {}, url: `${base}/portal.html`, md5: md5(archive), log: () => {} });
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toMatch(new RegExp(`could not be fetched: ${base}/portal\\.html did not send the official cifar-10-binary\\.tar\\.gz \\(MD5 [0-9a-f]{32}, expected ${md5(archive)}\\): the download was removed and nothing was unpacked\\.\\nPut it in place by hand`));
    expect(readdirSync(join(root, 'data'))).toEqual([]);
  });

  it('an archive brought into ./data by hand is checked and unpacked without any download', async () => {
    const root = freshRoot();
    mkdirSync(join(root, 'data'));
    writeFileSync(join(root, 'data', 'cifar-10-binary.tar.gz'), archive);
    requests.length = 0;
    const r = await ensureDataset({ root, env: {}, url: `${base}/fake.tar.gz`, md5: md5(archive), log: () => {} });
    expect(r.ok).toBe(true);
    expect(requests).toEqual([]);
    expect(existsSync(join(root, 'data', 'cifar-10-batches-bin', 'data_batch_5.bin'))).toBe(true);
    // …and one that is not the official archive is named, and kept
    const other = freshRoot();
    mkdirSync(join(other, 'data'));
    writeFileSync(join(other, 'data', 'cifar-10-binary.tar.gz'), 'not it');
    const bad = await ensureDataset({ root: other, env: {}, url: `${base}/fake.tar.gz`, md5: md5(archive), log: () => {} });
    expect(bad.ok ? '' : bad.message).toContain(`${join(other, 'data', 'cifar-10-binary.tar.gz')} is not the official cifar-10-binary.tar.gz (MD5 ${md5(Buffer.from('not it'))}, expected ${md5(archive)}): remove it and try again`);
    expect(readdirSync(join(other, 'data'))).toEqual(['cifar-10-binary.tar.gz']);
  });

  it('check-system.mjs runs the data step after the packages: a $CIFAR10_DIR that is not a folder stops it (exit status 1)', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--dry-run'], { encoding: 'utf8', env: { ...process.env, CIFAR10_DIR: join(work, 'nope') }, timeout: 60_000 });
    expect(r.stdout).toContain('system check: ok'); // the packages (this machine has them)
    expect(r.stderr).toContain(`npm test: $CIFAR10_DIR is set to ${join(work, 'nope')}, which is not a folder.`);
    expect(r.status).toBe(1);
  });
});
