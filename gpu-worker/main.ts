// Placeholder entry point of the worker service; replaced by the real worker.
throw new Error('the vidx worker is not built yet');
