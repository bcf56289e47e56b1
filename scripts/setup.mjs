#!/usr/bin/env node
// Installs what `npm start` / `npm test` need and is missing, then exits quietly:
//   1. npm packages (npm ci / npm install) when node_modules is missing or stale;
//   2. on Linux without a GPU driver: a Vulkan loader and Mesa's lavapipe (software Vulkan) from
//      bookworm-backports (Debian 12's own Mesa 22.3 is too old for Dawn);
//   3. with --browser: Debian's Chromium (the Playwright tests drive /usr/bin/chromium);
//   4. with --browser (the test setup): Debian's python3-h5py (the Keras weights file check);
//   5. with --browser: Debian's python3-torch, python3-onnx, python3-numpy (the PyTorch / ONNX
//      interop tests run the real runtimes; ~180 MB download, ~800 MB installed);
//   6. with --vs-torch (`npm run bench -- --vs-torch`: bench/cli.ts calls this script with it):
//      python3-torch and libopenblas0-pthread (PyTorch on the CPU timed against ours; without
//      OpenBLAS Debian's torch falls back to the slow reference BLAS).
// As root it installs with apt-get; otherwise it names the packages to install and fails.
// Plain Node (no dependencies), so it runs on a fresh clone.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const browser = process.argv.includes('--browser');
const vsTorch = process.argv.includes('--vs-torch');
const quiet = (cmd) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
const run = (cmd, opts = {}) => {
  console.error(`[setup] ${cmd}`);
  execSync(cmd, { stdio: 'inherit', cwd: root, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, ...opts });
};
const fail = (msg) => {
  console.error(`[setup] ${msg}`);
  process.exit(1);
};

// 1. npm packages -----------------------------------------------------------------------------
function npmPackagesOk() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  if (!names.every((n) => existsSync(join(root, 'node_modules', n, 'package.json')))) return false;
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  return !existsSync(lock) || (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs - 1000);
}
if (!npmPackagesOk()) {
  // onnxruntime-node's install script would download CUDA binaries from another host; its CPU
  // binary is inside the package, so the script is skipped.
  run(existsSync(join(root, 'package-lock.json')) ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund', { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
}

// 2. Vulkan (Linux only; browsers and macOS/Windows bring their own WebGPU) ---------------------
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = quiet('command -v apt-get').status === 0;
let aptUpdated = false;
const aptInstall = (pkgs, extra = '') => {
  if (!aptUpdated) {
    run('apt-get update -qq');
    aptUpdated = true;
  }
  run(`apt-get install -y -q ${extra} ${pkgs}`);
};

function debianCodename() {
  try {
    const os = readFileSync('/etc/os-release', 'utf8');
    return /VERSION_CODENAME=(\w+)/.exec(os)?.[1] ?? null;
  } catch {
    return null;
  }
}

function ensureBackports(codename) {
  const lists = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d')];
  const has = lists.some((f) => existsSync(f) && readFileSync(f, 'utf8').includes(`${codename}-backports`));
  if (has) return;
  const file = '/etc/apt/sources.list.d/webgpu-rnn-backports.sources';
  console.error(`[setup] adding ${codename}-backports (${file})`);
  writeFileSync(file, `Types: deb\nURIs: http://deb.debian.org/debian\nSuites: ${codename}-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`);
  aptUpdated = false;
}

function listDir(d) {
  try {
    return readdirSync(d).map((f) => join(d, f));
  } catch {
    return [];
  }
}

const hardwareIcd = () =>
  ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'].flatMap(listDir).some((f) => /nvidia/i.test(f)) ||
  Boolean(process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES);
const mesaMajor = () => {
  const r = quiet("dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null");
  const m = /^(\d+)\./.exec(r.stdout ?? '');
  return m ? Number(m[1]) : 0;
};
const hasLoader = () => quiet('ldconfig -p | grep -q "libvulkan.so.1"').status === 0;
const lavapipeOk = () => existsSync('/usr/share/vulkan/icd.d/lvp_icd.json') && mesaMajor() >= 24;

if (process.platform === 'linux' && !hardwareIcd() && (!hasLoader() || !lavapipeOk())) {
  const need = 'libvulkan1 and mesa-vulkan-drivers (Mesa >= 24, lavapipe) from bookworm-backports';
  if (!isRoot || !hasApt) {
    fail(`WebGPU in Node needs a Vulkan driver. Install ${need}, e.g. as root:\n` +
      '  echo "deb http://deb.debian.org/debian bookworm-backports main" > /etc/apt/sources.list.d/backports.list\n' +
      '  apt-get update && apt-get install -y libvulkan1 && apt-get install -y -t bookworm-backports mesa-vulkan-drivers');
  }
  const codename = debianCodename();
  if (codename === 'bookworm') ensureBackports(codename);
  aptInstall('libvulkan1');
  aptInstall('mesa-vulkan-drivers', codename === 'bookworm' ? '-t bookworm-backports' : '');
  if (!lavapipeOk()) fail(`lavapipe is still missing or too old (Mesa ${mesaMajor()}); install ${need}`);
}

// 3. Chromium for the browser tests -------------------------------------------------------------
if (browser && process.platform === 'linux' && !existsSync('/usr/bin/chromium')) {
  if (!isRoot || !hasApt) fail('The browser tests need Chromium at /usr/bin/chromium: apt-get install chromium');
  aptInstall('chromium');
}

// 4. h5py for the tests' Python check of Keras .weights.h5 files (test/io/check_weights_h5.py) --
// Debian's python3-h5py, for Debian's /usr/bin/python3 (the tests run that one where it exists).
const debianPython = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
if (browser && process.platform === 'linux' && quiet(`${debianPython} -c "import h5py"`).status !== 0) {
  if (!isRoot || !hasApt) fail(`The Keras file tests read .weights.h5 files with h5py: apt-get install python3-h5py (for ${debianPython})`);
  aptInstall('python3-h5py');
}

// 5. PyTorch and ONNX for the interop tests (test/interop/: parity with torch.nn in float64,
// onnx.checker, examples/pytorch-ddp with DistributedDataParallel) -- Debian's packages, for
// Debian's /usr/bin/python3. ONNX Runtime comes from npm (onnxruntime-node, above).
const interop = ['torch', 'onnx', 'numpy'];
if (browser && process.platform === 'linux' && quiet(`${debianPython} -c "import ${interop.join(', ')}"`).status !== 0) {
  const pkgs = interop.map((m) => `python3-${m}`).join(' ');
  if (!isRoot || !hasApt) fail(`The PyTorch / ONNX interop tests run PyTorch and onnx.checker: apt-get install ${pkgs} (for ${debianPython}; ~180 MB download, ~800 MB installed)`);
  aptInstall(pkgs);
}

// 6. PyTorch on the CPU for `npm run bench -- --vs-torch` (bench/torch_rnn.py), with OpenBLAS ---
const hasDeb = (name) => quiet(`dpkg-query -W -f='\${Status}' ${name} 2>/dev/null`).stdout?.includes('install ok installed');
if (vsTorch && process.platform === 'linux') {
  const missing = [
    ...(quiet(`${debianPython} -c "import torch"`).status !== 0 ? ['python3-torch'] : []),
    ...(hasApt && !hasDeb('libopenblas0-pthread') ? ['libopenblas0-pthread'] : []),
  ];
  if (missing.length) {
    if (!isRoot || !hasApt) fail(`npm run bench -- --vs-torch times PyTorch on the CPU: apt-get install ${missing.join(' ')} (for ${debianPython})`);
    aptInstall(missing.join(' '));
  }
  if (quiet(`${debianPython} -c "import torch"`).status !== 0) fail(`--vs-torch: ${debianPython} still cannot import torch after installing python3-torch`);
}
