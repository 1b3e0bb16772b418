// Progress display: a bar redrawn in place on a terminal, plain lines otherwise (CI, pipes, logs).
export interface ProgressView {
  update(label: string, done: number, total: number, detail?: string): void;
  line(text: string): void;
  stop(): void;
}

export function progressView(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  const tty = stream.isTTY === true && process.env.CI !== 'true';
  let lastPlain = '';
  let drawn = false;
  const clear = () => {
    if (tty && drawn) {
      stream.write('\r\x1b[2K');
      drawn = false;
    }
  };
  return {
    update(label, done, total, detail = '') {
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      if (tty) {
        const width = 28;
        const filled = Math.round(fraction * width);
        const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
        const text = `${label.padEnd(34).slice(0, 34)} ${bar} ${String(Math.round(fraction * 100)).padStart(3)}% ${detail}`;
        stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 120) - 1)}`);
        drawn = true;
      } else {
        const text = `${label} ${done}/${total}${detail ? ` ${detail}` : ''}`;
        if (text !== lastPlain) stream.write(`${text}\n`);
        lastPlain = text;
      }
    },
    line(text) {
      clear();
      stream.write(`${text}\n`);
    },
    stop() {
      clear();
    },
  };
}
