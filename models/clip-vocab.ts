/**
 * CLIP's byte-level BPE vocabulary (`clip/bpe_simple_vocab_16e6.txt.gz` of openai/CLIP, MIT,
 * Copyright (c) 2021 OpenAI), shipped beside this module so nothing is fetched at run time.
 * Bundles carry a copy beside their manifest; `vidx models pull` fetches it from its published
 * place and checks it against CLIP_VOCAB_SHA256.
 */
export const CLIP_VOCAB_FILE = 'bpe_simple_vocab_16e6.txt.gz';
export const CLIP_VOCAB_SHA256 = '924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a';
/** Where openai/CLIP publishes it (the commit the reference data was made at). */
export const CLIP_VOCAB_URL = `https://raw.githubusercontent.com/openai/CLIP/d05afc436d78f1c48dc0dbf8e5980a9d471f35f6/clip/${CLIP_VOCAB_FILE}`;
/** The packaged copy. */
export const PACKAGED_CLIP_VOCAB = new URL('./clip_bpe_simple_vocab_16e6.txt.gz', import.meta.url);
