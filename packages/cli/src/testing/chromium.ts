/**
 * Test support: opens a page in headless Chromium through the DevTools protocol (Node's
 * built-in WebSocket), collects console errors, uncaught exceptions and requests that
 * leave the machine, evaluates an expression in the page, and takes a PNG screenshot.
 * Also a small PNG decoder (8-bit RGB/RGBA, not interlaced: what Chromium writes) to
 * check that a screenshot is not blank.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { inflateSync } from 'node:zlib';

/** The Chromium binary: `CHROMIUM_BIN`, or the first of the usual names on PATH; null when there is none. */
export function findChromium(): string | null {
  const override = process.env.CHROMIUM_BIN;
  if (override) return existsSync(override) ? override : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
      const path = join(dir, name);
      if (existsSync(path)) return path;
    }
  }
  return null;
}

export interface PageReport {
  /** console.error/assert calls, uncaught exceptions and browser log entries of level error. */
  consoleErrors: string[];
  /** Requests for anything but file:, data: and about: URLs. */
  externalRequests: string[];
  /** What `evaluate` returned (by value). */
  evaluated: unknown;
  /** PNG of the viewport. */
  screenshot: Buffer;
  /** PNG of the whole page, when asked for. */
  fullPage: Buffer | null;
}

export interface InspectOptions {
  width: number;
  height: number;
  /** A JavaScript expression evaluated in the page once it has loaded. */
  evaluate?: string;
  fullPage?: boolean;
  timeoutMs?: number;
}

type Listener = (method: string, params: Record<string, unknown>) => void;

class DevTools {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #listeners: Listener[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: Record<string, unknown>;
      };
      if (message.id !== undefined) {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) pending?.reject(new Error(message.error.message));
        else pending?.resolve(message.result);
      } else if (message.method) {
        for (const listener of this.#listeners) listener(message.method, message.params ?? {});
      }
    });
  }

  static async connect(url: string): Promise<DevTools> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    return new DevTools(ws);
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  on(listener: Listener): void {
    this.#listeners.push(listener);
  }

  waitFor(method: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const listener: Listener = (m, params) => {
        if (m === method) {
          this.#listeners = this.#listeners.filter((l) => l !== listener);
          resolve(params);
        }
      };
      this.#listeners.push(listener);
    });
  }

  close(): void {
    this.#ws.close();
  }
}

function devToolsUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (match) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve(match[1] as string);
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`chromium exited (${code}) before it listened:\n${seen.slice(-2000)}`)),
    );
    child.once('error', reject);
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Opens `url` in a fresh headless Chromium and reports what happened. */
export async function inspectPage(chromium: string, url: string, options: InspectOptions): Promise<PageReport> {
  const profile = mkdtempSync(join(tmpdir(), 'churn-chromium-'));
  const child = spawn(
    chromium,
    [
      '--headless',
      '--disable-gpu',
      '--no-sandbox',
      '--hide-scrollbars',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-extensions',
      '--disable-background-networking',
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      `--window-size=${options.width},${options.height}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let timer: NodeJS.Timeout | undefined;
  let devTools: DevTools | undefined;
  const work = async (): Promise<PageReport> => {
    const browserUrl = await devToolsUrl(child);
    const port = new URL(browserUrl).port;
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const page = targets.find((t) => t.type === 'page');
    if (!page) throw new Error('chromium has no page to open the report in');
    const cdp = await DevTools.connect(page.webSocketDebuggerUrl);
    devTools = cdp;
    const consoleErrors: string[] = [];
    const externalRequests: string[] = [];
    cdp.on((method, params) => {
      if (method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'assert')) {
        const args = (params.args as { value?: unknown; description?: string }[]) ?? [];
        consoleErrors.push(`console.${params.type}: ${args.map((a) => a.description ?? String(a.value)).join(' ')}`);
      } else if (method === 'Runtime.exceptionThrown') {
        const details = params.exceptionDetails as { text?: string; exception?: { description?: string } };
        consoleErrors.push(`exception: ${details.exception?.description ?? details.text ?? 'unknown'}`);
      } else if (method === 'Log.entryAdded') {
        const entry = params.entry as { level?: string; text?: string; url?: string };
        if (entry.level === 'error')
          consoleErrors.push(`log: ${entry.text ?? ''}${entry.url ? ` (${entry.url})` : ''}`);
      } else if (method === 'Network.requestWillBeSent') {
        const requestUrl = (params.request as { url: string }).url;
        if (!/^(file|data|about):/.test(requestUrl)) externalRequests.push(requestUrl);
      }
    });
    await cdp.send('Runtime.enable');
    await cdp.send('Log.enable');
    await cdp.send('Network.enable');
    await cdp.send('Page.enable');
    await cdp.send('Emulation.setDeviceMetricsOverride', {
      width: options.width,
      height: options.height,
      deviceScaleFactor: 1,
      mobile: false,
    });
    const loaded = cdp.waitFor('Page.loadEventFired');
    const navigated = await cdp.send<{ errorText?: string }>('Page.navigate', { url });
    if (navigated.errorText) throw new Error(`cannot open ${url}: ${navigated.errorText}`);
    await loaded;
    let evaluated: unknown;
    if (options.evaluate) {
      const result = await cdp.send<{ result: { value?: unknown }; exceptionDetails?: { text: string } }>(
        'Runtime.evaluate',
        { expression: options.evaluate, returnByValue: true, awaitPromise: true },
      );
      if (result.exceptionDetails) throw new Error(`evaluate failed: ${result.exceptionDetails.text}`);
      evaluated = result.result.value;
    }
    const shot = await cdp.send<{ data: string }>('Page.captureScreenshot', { format: 'png' });
    let fullPage: Buffer | null = null;
    if (options.fullPage) {
      const metrics = await cdp.send<{ cssContentSize: { width: number; height: number } }>('Page.getLayoutMetrics');
      await cdp.send('Emulation.setDeviceMetricsOverride', {
        width: options.width,
        height: Math.ceil(metrics.cssContentSize.height),
        deviceScaleFactor: 1,
        mobile: false,
      });
      const full = await cdp.send<{ data: string }>('Page.captureScreenshot', { format: 'png' });
      fullPage = Buffer.from(full.data, 'base64');
    }
    return { consoleErrors, externalRequests, evaluated, screenshot: Buffer.from(shot.data, 'base64'), fullPage };
  };
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`chromium did not finish within ${options.timeoutMs ?? 60_000} ms`)),
          options.timeoutMs ?? 60_000,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    devTools?.close();
    await stop(child);
    rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
  }
}

export interface DecodedPng {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA). */
  channels: number;
  pixels: Buffer;
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG. */
export function decodePng(png: Buffer): DecodedPng {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      const colour = body[9];
      if (depth !== 8 || (colour !== 2 && colour !== 6) || body[12] !== 0)
        throw new Error(`unsupported PNG: bit depth ${depth}, colour type ${colour}, interlace ${body[12]}`);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? (pixels[out + x - channels] as number) : 0;
      const up = y > 0 ? (pixels[out - stride + x] as number) : 0;
      const upLeft = y > 0 && x >= channels ? (pixels[out - stride + x - channels] as number) : 0;
      let predictor = 0;
      if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const pa = Math.abs(p - left);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - upLeft);
        predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      } else if (filter !== 0) throw new Error(`bad PNG filter ${filter} in row ${y}`);
      pixels[out + x] = ((row[x] as number) + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** How many pixels have each colour, as `#rrggbb` (alpha ignored). */
export function colourCounts(png: DecodedPng): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    const hex = `#${((png.pixels[i] as number) * 65536 + (png.pixels[i + 1] as number) * 256 + (png.pixels[i + 2] as number)).toString(16).padStart(6, '0')}`;
    counts.set(hex, (counts.get(hex) ?? 0) + 1);
  }
  return counts;
}
