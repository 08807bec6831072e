import { existsSync, readdirSync, readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { GpumonError } from '@gpumon/runtime/errors';
import { schemaOf } from '@gpumon/schemas/avro';
import { parseNvidiaSmiXml, type ParsedHost } from './parse.js';

/** Real captures (testdata/captured/README.md says where each one comes from). */
const CAPTURED = new URL('../testdata/captured/', import.meta.url);
const EXPECTED = new URL('../testdata/expected/', import.meta.url);
const CONTEXT = { hostname: 'fixture-host', time: 1_767_225_600_000 };

const captures = readdirSync(CAPTURED).filter((name) => name.endsWith('.xml')).sort((a, b) => a.localeCompare(b));
const sampleType = avro.Type.forSchema(schemaOf('samples') as avro.Schema);

function fixture(name: string): string {
  return readFileSync(new URL(name, CAPTURED), 'utf8');
}

function expectDecodeFailure(xml: string, pattern: RegExp): void {
  let thrown: unknown;
  try {
    parseNvidiaSmiXml(xml, CONTEXT);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(GpumonError);
  expect((thrown as GpumonError).code).toBe('decode_failed');
  expect((thrown as GpumonError).message).toMatch(pattern);
}

describe('parseNvidiaSmiXml on real captures', () => {
  it('finds the fixtures', () => {
    expect(captures.length).toBeGreaterThanOrEqual(16);
  });

  describe.each(captures)('%s', (name) => {
    const xml = fixture(name);
    const parsed = parseNvidiaSmiXml(xml, CONTEXT);

    it('gives the reviewed expected result', () => {
      const expectedFile = new URL(name.replace(/\.xml$/, '.json'), EXPECTED);
      if (!existsSync(expectedFile)) {
        throw new Error(
          `No expected result for ${name}: create testdata/expected/${name.replace(/\.xml$/, '.json')} ` +
            'as described in producers/nvidia-smi/README.md ("Adding a fixture"), then review every field against the XML by hand before committing it.',
        );
      }
      const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as ParsedHost;
      expect(parsed).toEqual(expected);
    });

    it('gives one sample per <gpu>, each with a UUID and valid against gpu.samples.v1', () => {
      expect(parsed.samples).toHaveLength(xml.match(/<gpu id=|<gpu>/g)?.length ?? 0);
      for (const sample of parsed.samples) {
        expect(sample.gpu_uuid).toMatch(/^GPU-[0-9a-f-]+$/);
        const problems: string[] = [];
        sampleType.isValid(sample, { errorHook: (path) => problems.push(path.join('.')) });
        expect(problems).toEqual([]);
      }
    });
  });
});

describe('parseNvidiaSmiXml on broken output', () => {
  it('refuses garbage', () => {
    expectDecodeFailure('NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.', /not well-formed XML/);
  });

  it('refuses empty output', () => {
    expectDecodeFailure('', /holds no XML element/);
  });

  it('refuses a truncated document', () => {
    const xml = fixture('a100-sxm4-v12.xml');
    expectDecodeFailure(xml.slice(0, Math.floor(xml.length / 2)), /not well-formed XML: Unclosed root tag/);
  });

  it('refuses XML that is not nvidia-smi output', () => {
    expectDecodeFailure('<?xml version="1.0"?><html><body/></html>', /root element is <html>/);
  });
});

describe('parseNvidiaSmiXml on unusual output', () => {
  it('parses an unknown future schema with the newest rules and one warning', () => {
    const xml = fixture('rtx-3080-v13.xml').replace('nvsmi_device_v13.dtd', 'nvsmi_device_v99.dtd');
    const parsed = parseNvidiaSmiXml(xml, CONTEXT);
    const reference = parseNvidiaSmiXml(fixture('rtx-3080-v13.xml'), CONTEXT);
    expect(parsed.schemaVersion).toBe('v99');
    expect(parsed.warnings).toEqual([expect.stringMatching(/schema v99 is not one of v10, v11, v12, v13/)]);
    expect(parsed.samples).toEqual(reference.samples.map((sample) => ({ ...sample, nvsmi_schema: 'v99' })));
  });

  it('skips a GPU without a UUID and keeps the others', () => {
    const xml = fixture('dual_2070-v13.xml').replace(/<uuid>GPU-[^<]*<\/uuid>/, '<uuid>N/A</uuid>');
    const parsed = parseNvidiaSmiXml(xml, CONTEXT);
    expect(parsed.samples.map((sample) => [sample.gpu_index, sample.gpu_uuid])).toEqual([
      [1, 'GPU-12345678-aaaa-bbbb-cccc-0123456789cd'],
    ]);
    expect(parsed.warnings).toEqual(['GPU 0 (00000000:01:00.0) has no UUID: skipped']);
  });

  it('records a reading that does not parse as null, with a warning naming the GPU and element', () => {
    const xml = fixture('tesla-t4.xml')
      .replace('<gpu_temp>40 C</gpu_temp>', '<gpu_temp>hot</gpu_temp>')
      .replace('<total>15360 MiB</total>', '<total>15 GiB</total>');
    const parsed = parseNvidiaSmiXml(xml, CONTEXT);
    expect(parsed.samples[0]).toMatchObject({ temperature_gpu_c: null, memory_total_mib: null, memory_used_mib: 1032 });
    expect(parsed.warnings).toEqual([
      'GPU 0 GPU-d37e67a5-91dd-3774-a5cb-99096249601a: fb_memory_usage/total: "15 GiB" is not in MiB; recorded as null',
      'GPU 0 GPU-d37e67a5-91dd-3774-a5cb-99096249601a: temperature/gpu_temp: "hot" is not a number; recorded as null',
    ]);
  });

  it('sums ECC parts by layout: totals, sram + dram, parity + secded; N/A parts left out', () => {
    const setVolatile = (xml: string, values: Record<string, string>): string =>
      xml.replace(/<volatile>[\s\S]*?<\/volatile>/, (block) =>
        Object.entries(values).reduce((text, [name, value]) => text.replace(new RegExp(`<${name}>[^<]*</${name}>`), `<${name}>${value}</${name}>`), block));
    const eccOf = (xml: string) => {
      const [sample] = parseNvidiaSmiXml(xml, CONTEXT).samples;
      return [sample!.ecc_volatile_sbe, sample!.ecc_volatile_dbe];
    };
    expect(eccOf(setVolatile(fixture('quadro-p400.xml'), { total: '7' }))).toEqual([7, null]);
    expect(eccOf(setVolatile(fixture('tesla-t4.xml'), {
      sram_correctable: '2', dram_correctable: '5', sram_uncorrectable: '1', dram_uncorrectable: 'N/A',
    }))).toEqual([7, 1]);
    expect(eccOf(setVolatile(fixture('rtx-3060-v12.xml'), {
      sram_correctable: '4', sram_uncorrectable_parity: '1', sram_uncorrectable_secded: '2', dram_uncorrectable: '3',
    }))).toEqual([4, 6]);
  });

  it('reads active clock event reasons', () => {
    const xml = fixture('a100-sxm4-v12.xml').replace(
      '<clocks_event_reason_sw_power_cap>Not Active</clocks_event_reason_sw_power_cap>',
      '<clocks_event_reason_sw_power_cap>Active</clocks_event_reason_sw_power_cap>',
    );
    expect(parseNvidiaSmiXml(xml, CONTEXT).samples[0]).toMatchObject({ throttle_sw_power_cap: true, throttle_gpu_idle: false });
  });

  it('reads the slowdown margin from absolute thresholds, else from the T.Limit scale; absolute wins where both are printed', () => {
    const marginOf = (xml: string) => {
      const [sample] = parseNvidiaSmiXml(xml, CONTEXT).samples;
      return [sample!.temperature_slowdown_c, sample!.temperature_slowdown_margin_c];
    };
    const ada = fixture('rtx-4000-sff-ada-v13.xml');
    expect(marginOf(fixture('a100-sxm4-v12.xml'))).toEqual([89, 89 - 27]);
    expect(marginOf(ada)).toEqual([null, 49 - -2]);
    expect(marginOf(fixture('h100-sxm5-v13-busy.xml'))).toEqual([null, 25 - -2]);
    const both = ada.replace('<gpu_temp_tlimit>', '<gpu_temp_slow_threshold>91 C</gpu_temp_slow_threshold><gpu_temp_tlimit>');
    expect(marginOf(both)).toEqual([91, 91 - 38]);
    expect(marginOf(ada.replace('<gpu_temp_tlimit>49 C</gpu_temp_tlimit>', '<gpu_temp_tlimit>N/A</gpu_temp_tlimit>'))).toEqual([null, null]);
  });

  it('reads a single <gpu> and a list of them alike', () => {
    const single = parseNvidiaSmiXml(fixture('rtx-3060-v12.xml'), CONTEXT);
    const dual = parseNvidiaSmiXml(fixture('dual_2070-v13.xml'), CONTEXT);
    expect(single.samples).toHaveLength(1);
    expect(dual.samples.map((sample) => sample.gpu_index)).toEqual([0, 1]);
  });
});
