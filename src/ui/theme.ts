/**
 * Colours of the live UI. Ink colours text through chalk, and chalk does not read NO_COLOR, so the
 * UI asks the theme for every colour and gets `undefined` (no colour) when NO_COLOR is set
 * (https://no-color.org). Bold, dim and inverse are styles, not colours: they stay.
 */
export interface Theme {
  color(name: ThemeColor): string | undefined;
  readonly enabled: boolean;
}

export type ThemeColor = 'green' | 'red' | 'yellow' | 'cyan' | 'blue' | 'magenta' | 'gray';

export function themeFor(env: NodeJS.ProcessEnv = process.env): Theme {
  const enabled = env.NO_COLOR === undefined || env.NO_COLOR === '';
  return { enabled, color: (name) => (enabled ? name : undefined) };
}
