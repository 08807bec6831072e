#!/usr/bin/env bash
# npm run package: the standalone agent under dist-package/ (git-ignored):
#   gpumon-agent.cjs                    the agent and what it imports, one CommonJS file (bundle.mjs)
#   gpumon-agent                        that file inside Node's own binary: a single executable (Node SEA) for linux-x64
#   gpumon-agent_<version>_amd64.deb    the executable, its hardened systemd unit, /etc/gpumon/agent.env
# The version is the root package.json's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh

[ "$(uname -m)" = x86_64 ] || { echo "package: the executable and the .deb are for linux-x64 (amd64); this machine is $(uname -m)" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "package: dpkg-deb is needed to build the .deb (apt-get install dpkg)" >&2; exit 1; }

out=dist-package
version=$(node -p 'require("./package.json").version')
rm -rf "$out"
mkdir -p "$out"

node packaging/bundle.mjs "$out"

# The single executable: the bundle (with V8's code cache, for a faster start) injected into a copy of this Node.
cat >"$out/sea-config.json" <<JSON
{ "main": "$out/gpumon-agent.cjs", "output": "$out/gpumon-agent.blob", "disableExperimentalSEAWarning": true, "useCodeCache": true }
JSON
node --experimental-sea-config "$out/sea-config.json"
cp "$(command -v node)" "$out/gpumon-agent"
chmod u+w "$out/gpumon-agent"
# Node's binary carries its debug symbols (about 18 MB).
if command -v strip >/dev/null; then strip "$out/gpumon-agent"; else echo "package: strip not found (binutils): the executable keeps Node's debug symbols" >&2; fi
# postject (LIEF) warns about the unnamed notes of Node's binary, harmlessly.
npx postject "$out/gpumon-agent" NODE_SEA_BLOB "$out/gpumon-agent.blob" --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 \
  2> >(grep -v "Can't find string offset for section name" >&2) >/dev/null
[ "$("$out/gpumon-agent" --version)" = "gpumon $version (Node $(node -p process.versions.node), linux-x64)" ] ||
  { echo "package: $out/gpumon-agent --version does not name $version and the Node it carries" >&2; exit 1; }

# The Debian package, built as root:root files without needing root (dpkg-deb --root-owner-group).
root="$out/deb"
install -D -m 0755 "$out/gpumon-agent" "$root/usr/bin/gpumon-agent"
install -D -m 0644 packaging/deb/gpumon-agent.service "$root/lib/systemd/system/gpumon-agent.service"
install -D -m 0600 packaging/deb/agent.env "$root/etc/gpumon/agent.env"
install -D -m 0644 packaging/README.md "$root/usr/share/doc/gpumon-agent/README.md"
install -D -m 0644 packaging/deb/copyright "$root/usr/share/doc/gpumon-agent/copyright"
mkdir -p "$root/DEBIAN"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
echo /etc/gpumon/agent.env >"$root/DEBIAN/conffiles"
# Depends: what the Node binary links (glibc 2.28 and GLIBCXX_3.4.21 at most, per objdump -T) and useradd for postinst.
cat >"$root/DEBIAN/control" <<CONTROL
Package: gpumon-agent
Version: $version
Architecture: amd64
Maintainer: gpumon <gpumon@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: libc6 (>= 2.28), libstdc++6 (>= 5.2), libgcc-s1 | libgcc1, passwd
Section: admin
Priority: optional
Description: gpumon agent: every GPU of this host (nvidia-smi) and Xid events into Kafka
 A single executable (Node.js inside) that reads nvidia-smi and the kernel log
 each interval and sends gpu.samples.v1 records to Kafka, spooling on disk while
 Kafka is unreachable. Runs as the gpumon-agent user under a hardened systemd unit;
 configure /etc/gpumon/agent.env, then: systemctl enable --now gpumon-agent
CONTROL
deb="$out/gpumon-agent_${version}_amd64.deb"
# gzip: every dpkg can install it; xz would save a third of the size for five times the build time.
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
rm -rf "$root" "$out/gpumon-agent.blob" "$out/sea-config.json"

ls -l "$out" | awk 'NR > 1 { printf "package: %-40s %6.1f MB\n", $9, $5 / 1048576 }'
