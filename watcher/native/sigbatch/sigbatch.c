/*
 * Batch verification of recoverable ECDSA signatures over secp256k1, for the watcher's replay.
 *
 * A recoverable signature (r, s, v) on digest e recovers to Q exactly when R = (e/s)·G + (r/s)·Q, where
 * R is the curve point with x = r and the y parity v − 27 (v is 27 or 28; recovery ids 2 and 3, where
 * x = r + n, never occur in our data). Given a claimed signer key Q_i for each of n signatures, the
 * batch holds when
 *
 *     Σ z_i·R_i − (Σ z_i·e_i/s_i)·G − Σ_k (Σ_{i: key k} z_i·r_i/s_i)·Q_k = 0
 *
 * for weights z_i that the batch's author cannot predict: 128-bit values from SHA-256 over a 32-byte
 * seed the caller draws fresh for every call. If any signature does not recover to its claimed key,
 * the sum is 0 with probability at most 2^-128. One multi-scalar multiplication (libsecp256k1's
 * Pippenger or Strauss, whichever its own sizing picks) replaces n separate recoveries, and signatures
 * by the same key share one term. The R terms carry the 128-bit weights alone, so the endomorphism
 * split leaves their second half zero and the multiplication skips it; the 1/s_i come from one
 * inversion for the whole batch (Montgomery's trick). Keys must be valid points: the caller passes only
 * keys that came out of a recovery, and each is checked on the curve again here.
 *
 * A false answer does not say which signature failed: the caller recovers that batch one by one. So a
 * false answer costs time, never a wrong verdict, and a true answer means every signature recovers to
 * its claimed key, exactly what `ecdsaRecover` would have said.
 *
 * libsecp256k1 is compiled in from the sources the `secp256k1` dependency ships, with that package's
 * own configuration (see binding.gyp), because the multi-scalar multiplication is internal to it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secp256k1.c"

#define JOB_BYTES 97
#define KEY_BYTES 64

typedef struct {
  const secp256k1_ge *points;
  const secp256k1_scalar *scalars;
} sigbatch_terms;

static int sigbatch_term(secp256k1_scalar *sc, secp256k1_ge *pt, size_t idx, void *data) {
  const sigbatch_terms *terms = (const sigbatch_terms *)data;
  *sc = terms->scalars[idx];
  *pt = terms->points[idx];
  return 1;
}

/* The weight of signature `index`: 128 bits of SHA-256(seed ‖ index as 4 bytes big-endian), never 0. */
static void sigbatch_weight(secp256k1_scalar *z, const unsigned char *seed32, uint32_t index) {
  secp256k1_sha256 hash;
  unsigned char counter[4] = {(unsigned char)(index >> 24), (unsigned char)(index >> 16),
                              (unsigned char)(index >> 8), (unsigned char)index};
  unsigned char digest[32];
  secp256k1_sha256_initialize(&hash);
  secp256k1_sha256_write(&hash, seed32, 32);
  secp256k1_sha256_write(&hash, counter, 4);
  secp256k1_sha256_finalize(&hash, digest);
  memset(digest, 0, 16); /* keep the low 128 bits: below the group order, no reduction */
  secp256k1_scalar_set_b32(z, digest, NULL);
  if (secp256k1_scalar_is_zero(z)) secp256k1_scalar_set_int(z, 1);
}

/*
 * 1 when every job recovers to its key, 0 when one does not (or is malformed), -1 when memory ran out.
 * jobs: count × (digest 32 ‖ r 32 ‖ s 32 ‖ v 1); key_of: count key indexes below key_count;
 * keys: key_count × (x 32 ‖ y 32), big-endian affine coordinates.
 */
static int sigbatch_verify(const secp256k1_context *ctx, const unsigned char *jobs, const uint32_t *key_of,
                           size_t count, const unsigned char *keys, size_t key_count,
                           const unsigned char *seed32) {
  size_t terms_count = count + key_count;
  secp256k1_ge *points = NULL;
  secp256k1_scalar *scalars = NULL;
  secp256k1_scalar *inverses = NULL;
  secp256k1_scratch *scratch = NULL;
  secp256k1_scalar g_scalar, product_inverse;
  secp256k1_gej sum;
  sigbatch_terms terms;
  size_t i;
  size_t scratch_bytes;
  int result = 0;

  if (count == 0) return 1;
  points = (secp256k1_ge *)malloc(terms_count * sizeof(secp256k1_ge));
  scalars = (secp256k1_scalar *)malloc(terms_count * sizeof(secp256k1_scalar));
  inverses = (secp256k1_scalar *)malloc(count * sizeof(secp256k1_scalar));
  if (points == NULL || scalars == NULL || inverses == NULL) {
    result = -1;
    goto done;
  }
  secp256k1_scalar_set_int(&g_scalar, 0);
  for (i = 0; i < key_count; i++) secp256k1_scalar_set_int(&scalars[count + i], 0);

  /* First pass: parse, decompress R_i, keep s_i in inverses[i] and the running product s_1…s_i in
   * scalars[i] (the R terms' slots, overwritten with the weights below). */
  for (i = 0; i < count; i++) {
    const unsigned char *job = jobs + i * JOB_BYTES;
    secp256k1_scalar r, s;
    secp256k1_fe x;
    int overflow = 0;
    unsigned char v = job[96];
    if (v != 27 && v != 28) goto done;
    secp256k1_scalar_set_b32(&r, job + 32, &overflow);
    if (overflow || secp256k1_scalar_is_zero(&r)) goto done;
    secp256k1_scalar_set_b32(&s, job + 64, &overflow);
    if (overflow || secp256k1_scalar_is_zero(&s)) goto done;
    /* r < n < p, so its bytes are a field element as they stand. */
    if (!secp256k1_fe_set_b32(&x, job + 32)) goto done;
    if (!secp256k1_ge_set_xo_var(&points[i], &x, v - 27)) goto done;
    inverses[i] = s;
    if (i == 0) scalars[0] = s;
    else secp256k1_scalar_mul(&scalars[i], &scalars[i - 1], &s);
  }
  /* One inversion of the product, then back down: inverses[i] = 1/s_i. */
  secp256k1_scalar_inverse_var(&product_inverse, &scalars[count - 1]);
  for (i = count; i-- > 0;) {
    secp256k1_scalar s_inverse;
    if (i == 0) s_inverse = product_inverse;
    else secp256k1_scalar_mul(&s_inverse, &product_inverse, &scalars[i - 1]);
    secp256k1_scalar_mul(&product_inverse, &product_inverse, &inverses[i]);
    inverses[i] = s_inverse;
  }
  for (i = 0; i < count; i++) {
    const unsigned char *job = jobs + i * JOB_BYTES;
    secp256k1_scalar r, e, zw, t;
    secp256k1_scalar_set_b32(&r, job + 32, NULL);
    secp256k1_scalar_set_b32(&e, job, NULL); /* the digest reduced mod n, as recovery reads it */
    sigbatch_weight(&scalars[i], seed32, (uint32_t)i);
    secp256k1_scalar_mul(&zw, &scalars[i], &inverses[i]); /* z_i / s_i */
    secp256k1_scalar_mul(&t, &zw, &e);
    secp256k1_scalar_add(&g_scalar, &g_scalar, &t);
    secp256k1_scalar_mul(&t, &zw, &r);
    secp256k1_scalar_add(&scalars[count + key_of[i]], &scalars[count + key_of[i]], &t);
  }
  secp256k1_scalar_negate(&g_scalar, &g_scalar);
  for (i = 0; i < key_count; i++) {
    secp256k1_fe kx, ky;
    secp256k1_ge *q = &points[count + i];
    if (!secp256k1_fe_set_b32(&kx, keys + i * KEY_BYTES)) goto done;
    if (!secp256k1_fe_set_b32(&ky, keys + i * KEY_BYTES + 32)) goto done;
    secp256k1_ge_set_xy(q, &kx, &ky);
    if (!secp256k1_ge_is_valid_var(q)) goto done;
    secp256k1_scalar_negate(&scalars[count + i], &scalars[count + i]);
  }

  scratch_bytes = secp256k1_pippenger_scratch_size(terms_count, secp256k1_pippenger_bucket_window(terms_count)) +
                  PIPPENGER_SCRATCH_OBJECTS * ALIGNMENT;
  if (terms_count < ECMULT_PIPPENGER_THRESHOLD) {
    size_t strauss = secp256k1_strauss_scratch_size(terms_count) + STRAUSS_SCRATCH_OBJECTS * ALIGNMENT;
    if (strauss > scratch_bytes) scratch_bytes = strauss;
  }
  scratch = secp256k1_scratch_create(&ctx->error_callback, scratch_bytes);
  if (scratch == NULL) {
    result = -1;
    goto done;
  }
  terms.points = points;
  terms.scalars = scalars;
  if (!secp256k1_ecmult_multi_var(&ctx->error_callback, &ctx->ecmult_ctx, scratch, &sum, &g_scalar, sigbatch_term,
                                  &terms, terms_count)) {
    result = -1;
    goto done;
  }
  result = secp256k1_gej_is_infinity(&sum) ? 1 : 0;

done:
  if (scratch != NULL) secp256k1_scratch_destroy(&ctx->error_callback, scratch);
  free(points);
  free(scalars);
  free(inverses);
  return result;
}

#ifndef SIGBATCH_NO_NODE
#include <node_api.h>

#define SIGBATCH_CHECK(call)                                                                                        \
  do {                                                                                                              \
    if ((call) != napi_ok) return NULL;                                                                             \
  } while (0)

static void sigbatch_free_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  secp256k1_context_destroy((secp256k1_context *)data);
}

/* The typed array's bytes, or NULL after throwing a TypeError that names the argument. */
static unsigned char *sigbatch_bytes(napi_env env, napi_value value, napi_typedarray_type want, size_t *length,
                                     const char *what) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) {
    napi_throw_type_error(env, "SIGBATCH_ARGUMENT", what);
    return NULL;
  }
  if (napi_get_typedarray_info(env, value, &type, length, &data, NULL, NULL) != napi_ok || type != want) {
    napi_throw_type_error(env, "SIGBATCH_ARGUMENT", what);
    return NULL;
  }
  /* An empty typed array may have no backing store; any non-NULL pointer does for zero bytes. */
  return data == NULL ? (unsigned char *)"" : (unsigned char *)data;
}

/* verifyBatch(jobs: Uint8Array, keyOf: Uint32Array, keys: Uint8Array, seed: Uint8Array) → boolean */
static napi_value sigbatch_verify_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  secp256k1_context *ctx = NULL;
  unsigned char *jobs, *keys, *seed;
  uint32_t *key_of;
  size_t jobs_len, key_of_len, keys_len, seed_len, i;
  int verified;
  napi_value answer;

  SIGBATCH_CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  SIGBATCH_CHECK(napi_get_instance_data(env, (void **)&ctx));
  if (argc != 4) {
    napi_throw_type_error(env, "SIGBATCH_ARGUMENT", "verifyBatch takes (jobs, keyOf, keys, seed)");
    return NULL;
  }
  jobs = sigbatch_bytes(env, argv[0], napi_uint8_array, &jobs_len, "jobs must be a Uint8Array of 97-byte jobs");
  if (jobs == NULL) return NULL;
  key_of = (uint32_t *)sigbatch_bytes(env, argv[1], napi_uint32_array, &key_of_len, "keyOf must be a Uint32Array");
  if (key_of == NULL) return NULL;
  keys = sigbatch_bytes(env, argv[2], napi_uint8_array, &keys_len, "keys must be a Uint8Array of 64-byte keys");
  if (keys == NULL) return NULL;
  seed = sigbatch_bytes(env, argv[3], napi_uint8_array, &seed_len, "seed must be a Uint8Array of 32 bytes");
  if (seed == NULL) return NULL;
  if (jobs_len % JOB_BYTES != 0 || keys_len % KEY_BYTES != 0 || seed_len != 32 ||
      key_of_len != jobs_len / JOB_BYTES) {
    napi_throw_range_error(env, "SIGBATCH_ARGUMENT",
                           "jobs must be whole 97-byte jobs, keyOf one index per job, keys whole 64-byte keys, "
                           "and seed 32 bytes");
    return NULL;
  }
  for (i = 0; i < key_of_len; i++) {
    if (key_of[i] >= keys_len / KEY_BYTES) {
      napi_throw_range_error(env, "SIGBATCH_ARGUMENT", "a keyOf index is past the last key");
      return NULL;
    }
  }
  verified = sigbatch_verify(ctx, jobs, key_of, key_of_len, keys, keys_len / KEY_BYTES, seed);
  if (verified < 0) {
    napi_throw_error(env, "SIGBATCH_MEMORY", "batch signature verification ran out of memory");
    return NULL;
  }
  SIGBATCH_CHECK(napi_get_boolean(env, verified == 1, &answer));
  return answer;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  /* One verification context (the ecmult tables, about 1 MB) per Node environment: each worker thread has its own. */
  secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY);
  if (ctx == NULL) {
    napi_throw_error(env, "SIGBATCH_MEMORY", "could not build the secp256k1 verification tables");
    return NULL;
  }
  if (napi_set_instance_data(env, ctx, sigbatch_free_context, NULL) != napi_ok) {
    secp256k1_context_destroy(ctx);
    return NULL;
  }
  SIGBATCH_CHECK(napi_create_function(env, "verifyBatch", NAPI_AUTO_LENGTH, sigbatch_verify_js, NULL, &fn));
  SIGBATCH_CHECK(napi_set_named_property(env, exports, "verifyBatch", fn));
  return exports;
}
#endif
