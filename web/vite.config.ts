import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { defineConfig, type Plugin } from 'vite';

/** Writes dist/THIRD-PARTY-LICENSES.txt: the licences of the libraries bundled into the page. */
function thirdPartyLicences(packages: string[]): Plugin {
  return {
    name: 'third-party-licences',
    apply: 'build',
    generateBundle() {
      const parts = packages.map((name) => {
        const pkg = JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string };
        const text = readFileSync(`node_modules/${name}/LICENSE`, 'utf8').trim();
        return `${name} ${pkg.version}\n${'-'.repeat(name.length + pkg.version.length + 1)}\n${text}\n`;
      });
      this.emitFile({ type: 'asset', fileName: 'THIRD-PARTY-LICENSES.txt', source: parts.join('\n') });
    },
  };
}

// Relative asset URLs: the page works at / (as `sentinel run` serves it) and
// behind a proxy under a sub-path alike.
export default defineConfig({
  base: './',
  plugins: [thirdPartyLicences(['leaflet', 'uplot'])],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
    // Four pages sharing one token (sessionStorage) and the same chunks:
    // the command centre, curation (curator role), incidents (analyst) and
    // admin (feeds, triage, jobs: admin changes, others read).
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
        curation: fileURLToPath(new URL('curation.html', import.meta.url)),
        incidents: fileURLToPath(new URL('incidents.html', import.meta.url)),
        admin: fileURLToPath(new URL('admin.html', import.meta.url)),
      },
    },
  },
  server: {
    // `npm run dev` forwards the API to a local `sentinel run`.
    proxy: {
      '/v1/alerts/stream': { target: 'ws://127.0.0.1:8080', ws: true },
      '/v1/intel/jobs/stream': { target: 'ws://127.0.0.1:8080', ws: true },
      '/v1': 'http://127.0.0.1:8080',
    },
  },
});
