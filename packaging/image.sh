#!/usr/bin/env bash
# npm run image: the container image the Helm chart runs, built without Docker or any registry, as
#   dist-package/gpumon-image-<version>.tar   an OCI image layout that is also a `docker save` archive
# One layer holds what every gpumon command needs and nothing else: the project's Node, the shared
# libraries it links (taken from this machine, as ldd resolves them), dmesg and journalctl for the
# agent's Xid sources, and the built workspaces with their production node_modules. It runs as
# 65532:65532 with `gpumon` as its entrypoint. Load or push it with:
#   docker load -i dist-package/gpumon-image-0.1.0.tar            (or podman load)
#   skopeo copy oci-archive:dist-package/gpumon-image-0.1.0.tar docker://registry.example/gpumon:0.1.0
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh

[ "$(uname -m)" = x86_64 ] || { echo "image: the image is for linux/amd64; this machine is $(uname -m)" >&2; exit 1; }
bash scripts/ensure-built.sh

out=dist-package
version=$(node -p 'require("./package.json").version')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
app="$root/opt/gpumon"
mkdir -p "$app" "$root/usr/local/bin" "$root/etc" "$root/tmp"

# The tracked files but tests, benchmarks and the deployment sources, the built output beside them,
# then the production dependencies of that tree (no install scripts: onnxruntime-node's downloads CUDA).
git archive HEAD | tar -x -C "$app"
for dir in $(git ls-files '*package.json' | xargs -n1 dirname); do
  [ -d "$dir/dist" ] && cp -a "$dir/dist" "$app/$dir/"
done
(cd "$app" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
# What no command reads at run time; the workspaces' links into node_modules go with their folders.
for gone in tests bench charts dashboards docs infra packaging .ci; do
  rm -rf "${app:?}/$gone"
  find "$app/node_modules" -maxdepth 2 -lname "*/$gone*" -delete
done
# onnxruntime-node carries every platform's runtime (about 250 MB); the image needs linux/x64's.
find "$app/node_modules/onnxruntime-node/bin" -mindepth 3 -maxdepth 3 -type d ! -path '*/linux/x64' -exec rm -rf {} +

# Node, dmesg and journalctl, and every shared library they and onnxruntime link, at their own paths.
cp "$(command -v node)" "$root/usr/local/bin/node"
strip "$root/usr/local/bin/node" 2>/dev/null || true
binaries=("$root/usr/local/bin/node" "$(find "$app/node_modules/onnxruntime-node/bin" -name '*.so*' -o -name '*.node' | tr '\n' ' ')")
for tool in dmesg journalctl; do
  path=$(command -v "$tool") || { echo "image: $tool not found on this machine: the image's agent lacks that Xid source" >&2; continue; }
  install -D "$(readlink -f "$path")" "$root/usr/bin/$tool"
  binaries+=("$root/usr/bin/$tool")
done
# shellcheck disable=SC2068 # the onnxruntime entry is a list
for lib in $(ldd ${binaries[@]} 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/lib/ { print $1 }' | sort -u); do
  [ -e "$root$lib" ] || install -D -m 0644 "$(readlink -f "$lib")" "$root$lib"
done
chmod 0755 "$root"/lib*/ld-linux* 2>/dev/null || true

# The user the image runs as, and the names glibc and Node look up.
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ngpumon:x:65532:65532:gpumon:/opt/gpumon:/usr/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\ngpumon:x:65532:\n' >"$root/etc/group"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
# Read-only to the image's user; /tmp its scratch space (the chart mounts the agent's state).
chmod -R u+rwX,go+rX,go-w "$root"
chmod 1777 "$root/tmp"

node packaging/oci-image.mjs "$root" "$out/gpumon-image-$version.tar" "gpumon:$version" "$version"
