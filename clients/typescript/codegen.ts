// graphql-codegen: types for every operation in src/, from the SDL the
// server keeps in the repository (schema.graphql is checked against the
// live schema by the server's own tests). KAOHE_SCHEMA may name a live
// endpoint instead (http://127.0.0.1:8080/graphql).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: process.env.KAOHE_SCHEMA ?? "../../schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  // ES modules: relative imports with their `.js` extension.
  emitLegacyCommonJSImports: false,
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        // Exact decimals travel as strings ("88.5"): never parse them into a float.
        scalars: {
          Decimal: "string",
          DateTime: "string",
          Date: "string",
          JSON: "unknown",
          Upload: "File",
        },
        enumsAsTypes: true,
        strictScalars: true,
        useTypeImports: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
