/**
 * What the web page reads at start (`/config.json`): written by `vidx local` and by the CDK app's
 * web deployment, read by web/. One schema for all three.
 */
import { z } from 'zod';

export const WEB_CONFIG_FILE = 'config.json';

export const WebConfigSchema = z.object({
  /** Base URL of the query API; '' = the page's own origin (vidx local). */
  apiUrl: z.string(),
  /** Cognito hosted UI sign-in (deployed); absent = no sign-in (local). */
  auth: z
    .object({
      /** https://<prefix>.auth.<region>.amazoncognito.com */
      domain: z.string().regex(/^https:\/\/[a-z0-9.-]+$/),
      clientId: z.string().min(1),
      scopes: z.array(z.string()).min(1),
    })
    .optional(),
  /** The clip model the stack runs, when the server knows it (`vidx local` does): shown in the page's header from the start. */
  model: z.object({ architecture: z.string(), trained: z.boolean() }).optional(),
  /** The server takes retry (POST /_local/reindex) and delete (DELETE /_local/videos/{id}): `vidx local` does. */
  manage: z.boolean().optional(),
});
export type WebConfig = z.infer<typeof WebConfigSchema>;
