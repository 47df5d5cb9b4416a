/**
 * Bundles one function's handler the way CDK's NodejsFunction does: one ESM file for the Lambda Node runtime,
 * minified, with a source map; the AWS SDK v3 stays external because the nodejs24.x runtime ships it.
 */
import { build } from 'esbuild';
import { BundleError } from './errors.ts';

/** ESM bundles of CommonJS dependencies (kafkajs…) call `require`: give them one (esbuild issue #1921). */
const CREATE_REQUIRE_BANNER =
  "import{createRequire as __quakectlCreateRequire}from'node:module';const require=__quakectlCreateRequire(import.meta.url);";

export interface BuiltFunction {
  /** `index.mjs` and `index.mjs.map`. */
  files: Record<string, Uint8Array>;
}

export async function esbuildFunction(entry: string, outfile: string): Promise<BuiltFunction> {
  try {
    const result = await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      write: false,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      minify: true,
      sourcemap: 'linked',
      // Paths in the map are relative to outfile: the same tree on another machine yields the same bytes.
      sourcesContent: true,
      external: ['@aws-sdk/*'],
      banner: { js: CREATE_REQUIRE_BANNER },
      legalComments: 'none',
      logLevel: 'silent',
      metafile: false,
    });
    const files: Record<string, Uint8Array> = {};
    for (const f of result.outputFiles) {
      const name = f.path.endsWith('.map') ? 'index.mjs.map' : 'index.mjs';
      files[name] = f.contents;
    }
    return { files };
  } catch (err) {
    throw new BundleError(`cannot bundle ${entry}: ${(err as Error).message}`, { cause: err });
  }
}
