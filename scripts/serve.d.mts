/** Types of scripts/serve.mjs: a static server for the browser demo with COOP/COEP headers, on 127.0.0.1. */
export declare function serve(folder: string, port?: number): Promise<{ url: string; close(): Promise<void> }>;
