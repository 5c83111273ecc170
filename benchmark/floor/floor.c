/* Floors for a get through N-API, with no store behind it (`npm run bench:floor`).
 * Each function is what TinyKV's get does at the boundary, minus the lookup:
 *   noop(key)          the call alone (the key string is never read);
 *   readKey(key)       + the key read into a stack buffer, as get reads it;
 *   readKeyValue(key)  + a 100-byte one-byte string returned, as a hit returns.
 * And what TinyKV's set does at the boundary, minus the store:
 *   readArgs(key, value)  both strings read into stack buffers, as set reads them. */
#include <node_api.h>
#include <string.h>

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

static napi_value init(napi_env env, napi_value exports) {
  memset(value, '.', sizeof value);
  napi_property_descriptor d[] = {
      {"noop", 0, noop, 0, 0, 0, napi_default, 0},
      {"readKey", 0, read_key, 0, 0, 0, napi_default, 0},
      {"readKeyValue", 0, read_key_value, 0, 0, 0, napi_default, 0},
      {"readArgs", 0, read_args, 0, 0, 0, napi_default, 0},
  };
  napi_define_properties(env, exports, 4, d);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
