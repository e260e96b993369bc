import { Text } from 'ink';
import { createContext, useContext } from 'react';
import { safeSeg, type Line } from '../segments.js';
import { themeFor, type Theme } from '../theme.js';

export const ThemeContext = createContext<Theme>(themeFor());

/** One screen line from styled segments; never wraps (layout already fits it to the width). */
export function ScreenLine({ line }: { line: Line }) {
  const theme = useContext(ThemeContext);
  if (line.length === 0) return <Text> </Text>;
  return (
    <Text wrap="truncate-end">
      {line.map(safeSeg).map((seg, index) => (
        <Text key={index} color={seg.color ? theme.color(seg.color) : undefined} bold={seg.bold ?? false} dimColor={seg.dim ?? false} inverse={seg.inverse ?? false}>
          {seg.text}
        </Text>
      ))}
    </Text>
  );
}

/** Lines stacked; blank lines fill up to `height` so the frame keeps its size. */
export function ScreenLines({ lines, height }: { lines: Line[]; height?: number }) {
  const shown = height === undefined ? lines : lines.slice(0, height);
  const blanks = height === undefined ? 0 : Math.max(0, height - shown.length);
  return (
    <>
      {shown.map((line, index) => (
        <ScreenLine key={index} line={line} />
      ))}
      {Array.from({ length: blanks }, (_, index) => (
        <Text key={`blank-${index}`}> </Text>
      ))}
    </>
  );
}
