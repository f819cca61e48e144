import { SingleBar, Presets } from "cli-progress";

/** A progress bar on a terminal (stderr), nothing when output is not a terminal. */
export function createProgress(
  label: string,
  total?: number,
): { update(n: number, extra?: string): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    {
      format: total
        ? `${label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | {extra}`
        : `${label} {value} | {rate}/s | {extra}`,
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total ?? 0, 0, { rate: 0, extra: "" });
  return {
    update(n, extra = "") {
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      bar.update(n, { rate: Math.round(n / secs), extra });
    },
    stop() {
      bar.stop();
    },
  };
}
