import { Option, type Command } from 'commander';
import { loadConfig, type ConfigOf, type ConfigSpec } from '@gpumon/runtime/config';

/** Adds one --flag per option of `spec`, its help naming the environment variable and default. */
export function withOptions(command: Command, ...specs: ConfigSpec[]): Command {
  // Later specs override earlier ones, as in settingsOf's merged spec (a component's own default wins).
  const merged: ConfigSpec = Object.assign({}, ...specs);
  for (const option of Object.values(merged)) {
    const help = `${option.description} (env ${option.env}${option.default !== undefined && !option.secret ? `, default ${option.default}` : ''})`;
    const flag = new Option(option.switch === true ? `--${option.flag}` : `--${option.flag} <value>`, help);
    if (option.repeatable === true) flag.argParser((value: string, previous: string | undefined) => (previous === undefined ? value : `${previous},${value}`));
    command.addOption(flag);
  }
  return command;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The validated settings of `spec` from this command's flags, then the environment, then defaults. */
export function settingsOf<C extends ConfigSpec>(command: Command, spec: C): ConfigOf<C> {
  const given = command.opts<Record<string, string | boolean | undefined>>();
  const flags = Object.fromEntries(
    Object.entries(spec).map(([key, option]) => {
      const value = given[camel(option.flag)];
      return [key, typeof value === 'boolean' ? String(value) : value];
    }),
  );
  return loadConfig(spec, flags);
}
