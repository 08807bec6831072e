#!/usr/bin/env bash
# Tests what `npm run package` built (run it first), as root: the .deb installs, its executable
# collects from a fake nvidia-smi with no Node on PATH, its unit passes systemd-analyze verify,
# and dpkg -r then dpkg -P remove it cleanly; then the standalone executable sends to the real
# Kafka (standalone-agent.test.ts). .ci/run runs it once the stack is up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/node.sh

fail() { echo "packaging test: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "dpkg -i needs root"
version=$(node -p 'require("./package.json").version')
deb="$PWD/dist-package/gpumon-agent_${version}_amd64.deb"
[ -f "$deb" ] || fail "$deb is missing: run npm run package first"
command -v systemd-analyze >/dev/null || apt-get install -y -qq systemd >/dev/null
if dpkg -s gpumon-agent >/dev/null 2>&1; then fail "gpumon-agent is installed on this machine already; this test would remove it"; fi

work=$(mktemp -d)
trap 'dpkg -P gpumon-agent >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

dpkg -i "$deb" >/dev/null
[ "$(/usr/bin/gpumon-agent --version)" = "gpumon $version (Node $(node -p process.versions.node), linux-x64)" ] || fail "gpumon-agent --version does not name $version and the Node it carries"
getent passwd gpumon-agent | grep -q ':/usr/sbin/nologin$' || fail "no system user gpumon-agent with a nologin shell"
dpkg-query -W -f='${Conffiles}\n' gpumon-agent | grep -q '^ /etc/gpumon/agent.env ' || fail "/etc/gpumon/agent.env is not a conffile"
[ "$(stat -c '%a %U' /etc/gpumon/agent.env)" = "600 root" ] || fail "/etc/gpumon/agent.env is not root's only"

# No Node on PATH, nothing but what the fake nvidia-smi runs (bash, cat), from / and as the agent's user.
mkdir -p "$work/bin"
cp producers/nvidia-smi/testdata/bin/nvidia-smi producers/nvidia-smi/testdata/captured/dual_2070-v13.xml "$work/bin/"
ln -s "$(command -v bash)" "$work/bin/bash"
ln -s "$(command -v cat)" "$work/bin/cat"
# A kubelet that never answers: the agent must load the embedded podresources.proto to ask it.
node -e 'require("net").createServer(() => {}).listen(process.argv[1], () => require("fs").chmodSync(process.argv[1], 0o777))' "$work/kubelet.sock" &
kubelet=$!
trap 'kill $kubelet 2>/dev/null; dpkg -P gpumon-agent >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
while [ ! -S "$work/kubelet.sock" ]; do sleep 0.1; done
chmod -R a+rX "$work"
(cd / && runuser -u gpumon-agent -- env -i PATH="$work/bin" FAKE_NVIDIA_SMI_XML="$work/bin/dual_2070-v13.xml" \
  /usr/bin/gpumon-agent --once --output json --hostname package-test --pod-resources-socket "$work/kubelet.sock" --pod-resources-timeout 200ms \
  >"$work/samples.jsonl" 2>"$work/stderr") ||
  fail "gpumon-agent --once failed: $(cat "$work/stderr")"
grep -q "pod-resources $work/kubelet.sock: no answer in 200 ms" "$work/stderr" ||
  fail "gpumon-agent did not ask the kubelet (is podresources.proto embedded?): $(cat "$work/stderr")"
node -e '
  const uuids = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((line) => JSON.parse(line))
    .map((sample) => `${sample.hostname} ${sample.gpu_uuid} ${sample.source}`);
  const expected = ["package-test GPU-12345678-aaaa-bbbb-cccc-0123456789ab AGENT", "package-test GPU-12345678-aaaa-bbbb-cccc-0123456789cd AGENT"];
  if (JSON.stringify(uuids) !== JSON.stringify(expected)) { console.error(`packaging test: samples ${JSON.stringify(uuids)}, expected ${JSON.stringify(expected)}`); process.exit(1); }
' "$work/samples.jsonl"

# Start to first sample, as root and without attribution: nothing but the agent's own start and one round.
started=$(date +%s%N)
(cd / && env -i PATH="$work/bin" FAKE_NVIDIA_SMI_XML="$work/bin/dual_2070-v13.xml" /usr/bin/gpumon-agent --once --output json --attribution false >/dev/null)
echo "packaging test: gpumon-agent --once --output json --attribution false, start to samples printed and exit: $(( ($(date +%s%N) - started) / 1000000 )) ms"

# verify only warns (exit 0) about unknown keys and bad values: any output is a problem.
verify=$(systemd-analyze verify /lib/systemd/system/gpumon-agent.service 2>&1) && [ -z "$verify" ] ||
  fail "systemd-analyze verify gpumon-agent.service: $verify"

mkdir -p /var/lib/gpumon-agent && touch /var/lib/gpumon-agent/known-gpus.json && chown -R gpumon-agent: /var/lib/gpumon-agent
dpkg -r gpumon-agent >/dev/null
[ ! -e /usr/bin/gpumon-agent ] && [ ! -e /lib/systemd/system/gpumon-agent.service ] || fail "dpkg -r left the executable or the unit"
[ -f /etc/gpumon/agent.env ] && getent passwd gpumon-agent >/dev/null || fail "dpkg -r removed the settings or the user (only purge should)"
dpkg -P gpumon-agent >/dev/null
! getent passwd gpumon-agent >/dev/null && ! getent group gpumon-agent >/dev/null || fail "dpkg -P left the user or group gpumon-agent"
[ ! -e /etc/gpumon ] && [ ! -e /var/lib/gpumon-agent ] || fail "dpkg -P left /etc/gpumon or /var/lib/gpumon-agent"
dpkg -s gpumon-agent >/dev/null 2>&1 && fail "dpkg -s still knows gpumon-agent after purge"
echo "packaging test: the .deb installs, collects, verifies and purges cleanly"

(cd tests/e2e && npx vitest run --config vitest.package.config.ts standalone-agent)
