// Placeholder so the CDK app can bundle this entry point; replaced by the real handler.
export async function handler(_event: unknown): Promise<never> {
  throw new Error('not built yet');
}
