/* Floors for a get through N-API, with no store behind it (`npm run bench:floor`).
 * Each function is what TinyKV's get does at the boundary, minus the lookup:
 *   noop(key)          the call alone (the key string is never read);
 *   readKey(key)       + the key read into a stack buffer, as get reads it;
 *   readKeyValue(key)  + a 100-byte one-byte string returned, as a hit returns;
 *   lookup(key)        + in between, the memory traffic of a hash lookup and nothing else:
 *                      two dependent cache misses (see `lookup` below).
 * And what TinyKV's set does at the boundary, minus the store:
 *   readArgs(key, value)  both strings read into stack buffers, as set reads them. */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static char value[100];

/* The call's one argument. */
static napi_value key_arg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argv[0];
}

/* The call's first two arguments. */
static void two_args(napi_env env, napi_callback_info info, napi_value argv[2]) {
  size_t argc = 2;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
}

/* Reads a key into a stack buffer, as TinyKV's get does. */
static void read_into_stack(napi_env env, napi_value key) {
  char buf[256];
  size_t len = 0;
  napi_get_value_string_utf8(env, key, buf, sizeof buf, &len);
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value noop(napi_env env, napi_callback_info info) {
  key_arg(env, info);
  return undefined(env);
}

static napi_value read_key(napi_env env, napi_callback_info info) {
  read_into_stack(env, key_arg(env, info));
  return undefined(env);
}

static napi_value read_key_value(napi_env env, napi_callback_info info) {
  read_into_stack(env, key_arg(env, info));
  napi_value s;
  napi_create_string_latin1(env, value, sizeof value, &s);
  return s;
}

static napi_value read_args(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  two_args(env, info, argv);
  read_into_stack(env, argv[0]);
  char buf[1024];
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[1], buf, sizeof buf, &len);
  return undefined(env);
}

/* The lookup stand-in: a table of 4-byte slots about the size of TinyKV's tables at 1M keys
 * (16 MiB, on 4 KiB pages, as malloc gives them), indexed by a hash of the key; each slot
 * names a 128-byte "entry" in 128 MiB on 2 MiB huge pages (as TinyKV's entry allocator asks
 * for), whose first 100 bytes are returned as the value. No locks, no bookkeeping, no key
 * comparison: just the two dependent misses (table, then entry) of any hash table whose
 * entries live outside it. */
#define TABLE_SLOTS (4u << 20)
#define ENTRIES (1u << 20)
#define ENTRY_BYTES 128
static uint32_t *table;
static char *entries;

static int lookup_init(void) {
  table = malloc(sizeof(uint32_t) * TABLE_SLOTS);
  size_t len = (size_t)ENTRIES * ENTRY_BYTES, huge = 2u << 20;
  char *p = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (!table || p == MAP_FAILED) return 0;
  entries = (char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
#ifdef MADV_HUGEPAGE
  madvise(entries, len, MADV_HUGEPAGE);
#endif
  memset(entries, '.', len);
  uint64_t x = 88172645463325252ull;
  for (uint32_t i = 0; i < TABLE_SLOTS; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    table[i] = (uint32_t)(x % ENTRIES);
  }
  return 1;
}

static napi_value lookup(napi_env env, napi_callback_info info) {
  char buf[256];
  size_t len = 0;
  napi_get_value_string_utf8(env, key_arg(env, info), buf, sizeof buf, &len);
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)buf[i]) * 1099511628211ull;
  const char *e = entries + (size_t)table[h & (TABLE_SLOTS - 1)] * ENTRY_BYTES;
  napi_value s;
  napi_create_string_latin1(env, e, sizeof value, &s);
  return s;
}

static napi_value init(napi_env env, napi_value exports) {
  memset(value, '.', sizeof value);
  if (!lookup_init()) {
    napi_throw_error(env, NULL, "floor: could not allocate the lookup stand-in's memory");
    return NULL;
  }
  napi_property_descriptor d[] = {
      {"noop", 0, noop, 0, 0, 0, napi_default, 0},
      {"readKey", 0, read_key, 0, 0, 0, napi_default, 0},
      {"readKeyValue", 0, read_key_value, 0, 0, 0, napi_default, 0},
      {"readArgs", 0, read_args, 0, 0, 0, napi_default, 0},
      {"lookup", 0, lookup, 0, 0, 0, napi_default, 0},
  };
  napi_define_properties(env, exports, 5, d);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
