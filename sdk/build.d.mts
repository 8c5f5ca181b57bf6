/** Types of build.mjs for the TypeScript that imports it. */
export declare const SDK_OUTPUT: string;
export declare function bundleSdk(options?: { minify?: boolean }): Promise<string>;
