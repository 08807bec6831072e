// node packaging/oci-image.mjs ROOTFS OUTPUT.tar NAME:TAG VERSION
// Writes ROOTFS as a one-layer image: an OCI image layout (oci-layout, index.json, blobs/sha256/)
// that is also a `docker save` archive (manifest.json), which is what Docker 25+ itself writes.
// Files are root's and stamped with the last commit's time, so the same tree gives the same digests.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';

const [rootfs, output, name, version] = process.argv.slice(2);
if (!rootfs || !output || !name || !version) throw new Error('usage: oci-image.mjs ROOTFS OUTPUT.tar NAME:TAG VERSION');

const epoch = Number(execFileSync('git', ['log', '-1', '--format=%ct'], { encoding: 'utf8' }).trim());
const layout = mkdtempSync(`${tmpdir()}/gpumon-oci-`);
const blobs = `${layout}/blobs/sha256`;
mkdirSync(blobs, { recursive: true });

/** A pass-through stream that hashes what crosses it. */
function hashing(hash) {
  return new Transform({ transform(chunk, _encoding, done) { hash.update(chunk); done(null, chunk); } });
}

/** Stores `content` as a blob; its descriptor. */
function blob(mediaType, content) {
  const digest = createHash('sha256').update(content).digest('hex');
  writeFileSync(`${blobs}/${digest}`, content);
  return { mediaType, digest: `sha256:${digest}`, size: content.length };
}

// The layer: tar (diff_id: the digest of the tar) then gzip (the blob's digest).
const diffHash = createHash('sha256');
const blobHash = createHash('sha256');
const tar = spawn('tar', ['-C', rootfs, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${epoch}`, '--format=posix',
  '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
const tarDone = new Promise((resolveExit, reject) => tar.on('close', (code) => (code === 0 ? resolveExit() : reject(new Error(`tar exited with ${code}`)))));
const layerPath = `${blobs}/layer.tmp`;
await pipeline(tar.stdout, hashing(diffHash), createGzip({ level: 6 }), hashing(blobHash), createWriteStream(layerPath));
await tarDone;
const layerDigest = blobHash.digest('hex');
renameSync(layerPath, `${blobs}/${layerDigest}`);
const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${layerDigest}`, size: statSync(`${blobs}/${layerDigest}`).size };

const created = new Date(epoch * 1000).toISOString();
const labels = {
  'org.opencontainers.image.title': 'gpumon',
  'org.opencontainers.image.description': 'GPU fleet telemetry: the agent, the processors, the sinks and every gpumon command',
  'org.opencontainers.image.version': version,
  'org.opencontainers.image.licenses': 'Apache-2.0',
  'org.opencontainers.image.revision': execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(),
};
const config = blob('application/vnd.oci.image.config.v1+json', Buffer.from(JSON.stringify({
  created,
  architecture: 'amd64',
  os: 'linux',
  config: {
    User: '65532:65532',
    Entrypoint: ['/usr/local/bin/node', '/opt/gpumon/cli/bin/gpumon.js'],
    Cmd: ['--help'],
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production'],
    WorkingDir: '/opt/gpumon',
    Labels: labels,
  },
  rootfs: { type: 'layers', diff_ids: [`sha256:${diffHash.digest('hex')}`] },
  history: [{ created, created_by: 'npm run image (packaging/image.sh)' }],
})));
const manifest = blob('application/vnd.oci.image.manifest.v1+json', Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer], annotations: labels,
})));

const [repository, tag] = name.split(':');
writeFileSync(`${layout}/oci-layout`, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
writeFileSync(`${layout}/index.json`, JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag, 'io.containerd.image.name': `docker.io/library/${repository}:${tag}` } }],
}));
writeFileSync(`${layout}/manifest.json`, JSON.stringify([{
  Config: `blobs/sha256/${config.digest.slice(7)}`, RepoTags: [name], Layers: [`blobs/sha256/${layerDigest}`],
}]));

mkdirSync(dirname(resolve(output)), { recursive: true });
execFileSync('tar', ['-C', layout, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${epoch}`, '-cf', resolve(output), '.']);
rmSync(layout, { recursive: true, force: true });
console.log(`image: ${output} ${name} ${manifest.digest} (layer ${(layer.size / 1048576).toFixed(1)} MB compressed)`);
