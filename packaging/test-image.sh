#!/usr/bin/env bash
# Tests what `npm run image` built (run it first), as root (chroot): the archive is a valid OCI image
# layout and `docker save` archive whose blobs match their digests; its layer, unpacked, runs every
# kind of gpumon command as the image's user with nothing from this machine, against the real stack
# (tests/e2e/src/package/image.test.ts). .ci/run runs it once the stack is up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh

fail() { echo "image test: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "chroot needs root"
version=$(node -p 'require("./package.json").version')
archive="$PWD/dist-package/gpumon-image-$version.tar"
[ -f "$archive" ] || fail "$archive is missing: run npm run image first"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/layout" "$work/rootfs"
tar -xf "$archive" -C "$work/layout"

# Every blob the index and manifest.json name is there with its digest; one linux/amd64 layer.
node - "$work/layout" "$version" <<'JS'
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const [layout, version] = process.argv.slice(2);
const read = (digest) => {
  const content = readFileSync(`${layout}/blobs/sha256/${digest.replace('sha256:', '')}`);
  const actual = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  if (actual !== digest) throw new Error(`blob ${digest} has digest ${actual}`);
  return content;
};
if (JSON.parse(readFileSync(`${layout}/oci-layout`, 'utf8')).imageLayoutVersion !== '1.0.0') throw new Error('oci-layout is not 1.0.0');
const [entry] = JSON.parse(readFileSync(`${layout}/index.json`, 'utf8')).manifests;
if (entry.annotations['org.opencontainers.image.ref.name'] !== version) throw new Error(`index.json names ${entry.annotations['org.opencontainers.image.ref.name']}, not ${version}`);
const manifest = JSON.parse(read(entry.digest));
const config = JSON.parse(read(manifest.config.digest));
for (const layer of manifest.layers) read(layer.digest);
if (config.os !== 'linux' || config.architecture !== 'amd64' || config.config.User !== '65532:65532') throw new Error(`config: ${JSON.stringify(config.config)}`);
const [saved] = JSON.parse(readFileSync(`${layout}/manifest.json`, 'utf8'));
if (saved.RepoTags[0] !== `gpumon:${version}` || saved.Layers[0] !== `blobs/sha256/${manifest.layers[0].digest.slice(7)}`) throw new Error(`manifest.json: ${JSON.stringify(saved)}`);
console.log(`image test: ${manifest.layers.length} layer, digests match, entrypoint ${config.config.Entrypoint.join(' ')}`);
JS
layer=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0].Layers[0]' "$work/layout/manifest.json")
tar -xzf "$work/layout/$layer" -C "$work/rootfs"
echo "image test: unpacked $(du -sh "$work/rootfs" | cut -f1) ($(du -h "$archive" | cut -f1) archive)"

# For the test only: the fake nvidia-smi and what it runs (bash, cat), with their libraries.
install -D producers/nvidia-smi/testdata/bin/nvidia-smi "$work/rootfs/test/bin/nvidia-smi"
install -D -m 0644 producers/nvidia-smi/testdata/captured/dual_2070-v13.xml "$work/rootfs/test/dual_2070-v13.xml"
for tool in bash cat env; do install -D "$(readlink -f "$(command -v $tool)")" "$work/rootfs/usr/bin/$tool"; done
for lib in $(ldd /usr/bin/bash /usr/bin/cat /usr/bin/env | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
  [ -e "$work/rootfs$lib" ] || install -D -m 0644 "$(readlink -f "$lib")" "$work/rootfs$lib"
done
# What a container runtime provides: /etc/hosts and the character devices (the agent's commands get /dev/null as stdin).
cp /etc/hosts "$work/rootfs/etc/hosts"
mkdir -p "$work/rootfs/dev"
mknod -m 666 "$work/rootfs/dev/null" c 1 3
mknod -m 666 "$work/rootfs/dev/zero" c 1 5
mknod -m 666 "$work/rootfs/dev/urandom" c 1 9

(cd tests/e2e && GPUMON_IMAGE_ROOTFS="$work/rootfs" npx vitest run --config vitest.package.config.ts image)
