/** `--name=value` from the command line (everything after the first `=`, so values may hold `=` themselves), else `fallback`. */
export function textArg(name: string, fallback: string): string {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? found.slice(name.length + 3) : fallback;
}

/** `--name=N` from the command line as a number, else `fallback`. */
export function numberArg(name: string, fallback: number): number {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found ? Number(found.slice(name.length + 3)) : fallback;
}
