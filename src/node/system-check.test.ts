import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aptCommands, backportsSource, majorVersion, parseOsRelease, planSystem, SCRIPT, type Facts } from '../../scripts/check-system.mjs';
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
    python: { path: '/usr/bin/python3', rule: '/usr/bin/python3', fromEnv: false, runs: true, numpy: '1.24.2', torch: '1.13.1', onnx: '1.12.0', error: null },
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

  it('a fresh bookworm as root: chromium, python3-numpy, python3-torch, python3-onnx from the release, Mesa from backports', () => {
    const plan = planSystem(
      bookwormMesa22({
        chromium: { path: '/usr/bin/chromium', fromEnv: false, ok: false },
        vulkan: { override: null, nvidia: false, lavapipe: false, mesa: null, dpkg: true },
        python: { path: '/usr/bin/python3', rule: '/usr/bin/python3', fromEnv: false, runs: true, numpy: null, torch: null, onnx: null, error: null },
      }),
    );
    expect(plan.action).toBe('install');
    if (plan.action !== 'install') return;
    expect(plan.install.release).toEqual(['chromium', 'python3-numpy', 'python3-torch', 'python3-onnx']);
    expect(plan.install.backports?.packages).toEqual(['mesa-vulkan-drivers']);
  });

  it('no python3 at all: python3 with numpy and torch', () => {
    const plan = planSystem(healthy({ python: { path: 'python3', rule: 'python3 on PATH', fromEnv: false, runs: false, numpy: null, torch: null, onnx: null, error: 'spawnSync python3 ENOENT' } }));
    expect(plan.action === 'install' && plan.install.release).toEqual(['python3', 'python3-numpy', 'python3-torch', 'python3-onnx']);
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
    const plan = planSystem(healthy({ python: { path: '/opt/venv/bin/python', rule: '$LRPET_PYTHON', fromEnv: true, runs: true, numpy: '2.1.0', torch: null, onnx: null, error: null } }));
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
