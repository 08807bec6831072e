/**
 * How a scheduler cuts a group of hosts into jobs for an epoch: a run of consecutive GPU positions
 * (the group's GPUs numbered host after host) is one job's GPUs, so a block of whole hosts is a
 * job that spans them.
 */
export interface Block {
  first: number;
  size: number;
}

/** Chance that a part of a host is handed out whole rather than halved. */
const KEEP_WHOLE = 0.4;

/**
 * Cuts `hosts` hosts of `gpusPerHost` GPUs into blocks: with chance `spanShare` (and at least two
 * hosts) one block of two or more whole hosts, then every other host halved again and again, each
 * part kept whole with chance KEEP_WHOLE, so that 8-, 4-, 2- and 1-GPU jobs all occur.
 */
export function cutIntoBlocks(random: () => number, hosts: number, gpusPerHost: number, spanShare: number): Block[] {
  const blocks: Block[] = [];
  let spanFrom = -1;
  let spanHosts = 0;
  if (hosts >= 2 && random() < spanShare) {
    spanHosts = 2 + Math.floor(random() * (hosts - 1));
    spanFrom = Math.floor(random() * (hosts - spanHosts + 1));
  }
  for (let h = 0; h < hosts; h++) {
    if (h === spanFrom) {
      blocks.push({ first: h * gpusPerHost, size: spanHosts * gpusPerHost });
      h += spanHosts - 1;
    } else {
      halve(random, h * gpusPerHost, gpusPerHost, blocks);
    }
  }
  return blocks;
}

/** The block that holds `position`. */
export function blockAt(blocks: readonly Block[], position: number): Block {
  const block = blocks.find((b) => position >= b.first && position < b.first + b.size);
  if (block === undefined) throw new Error(`GPU position ${position} is outside the group's blocks`);
  return block;
}

function halve(random: () => number, first: number, size: number, blocks: Block[]): void {
  if (size === 1 || random() < KEEP_WHOLE) {
    blocks.push({ first, size });
    return;
  }
  const half = Math.ceil(size / 2);
  halve(random, first, half, blocks);
  halve(random, first + half, size - half, blocks);
}
