/* A libFuzzer harness for the Polybox changes to quickjs.c (POLYBOX.md):
   the JSON paths for strings (a word at a time), integers and arrays, and
   the arenas beneath them. Built natively with AddressSanitizer by `make
   fuzz-quickjs`, so a word read past a buffer's end is caught.

   Each input is used three ways:
   - as JSON text, parsed the way the guest parses events (a NUL-terminated
     buffer); what parses is written back with JSON.stringify, and that text
     must parse to a value that is written identically;
   - as UTF-8 text made into a string, and as UTF-16 units made into a
     string: JSON.stringify of either, parsed back, must equal the string;
   - each of those strings goes out through JS_ToCStringLen2, the way the
     guest returns its results. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quickjs.h"

static JSRuntime *rt;
static JSContext *ctx;

/* A broken promise: say which, and crash so libFuzzer keeps the input. */
static void die(const char *what)
{
    fprintf(stderr, "json_strings: %s\n", what);
    abort();
}

/* JSON.stringify(value) as a C string owned by the caller, or NULL. */
static char *stringify(JSValue value, size_t *len)
{
    JSValue text = JS_JSONStringify(ctx, value, JS_UNDEFINED, JS_UNDEFINED);
    if (JS_IsException(text)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        return NULL;
    }
    if (JS_IsUndefined(text))
        return NULL;
    const char *c = JS_ToCStringLen(ctx, len, text);
    JS_FreeValue(ctx, text);
    if (!c)
        die("text out");
    char *copy = malloc(*len + 1);
    memcpy(copy, c, *len + 1);
    JS_FreeCString(ctx, c);
    return copy;
}

/* Parses `len` bytes of `text` from a NUL-terminated copy. */
static JSValue parse(const char *text, size_t len)
{
    char *buf = malloc(len + 1);
    memcpy(buf, text, len);
    buf[len] = '\0';
    JSValue value = JS_ParseJSON(ctx, buf, len, "<event>");
    free(buf);
    return value;
}

/* The string `s` must survive JSON.stringify, JSON.parse and the way out. */
static void round_trip_string(JSValue s)
{
    size_t len, out_len;
    char *text = stringify(s, &len);
    if (!text)
        die("a string always has a JSON form");
    JSValue back = parse(text, len);
    free(text);
    if (JS_IsException(back))
        die("the JSON of a string always parses");
    if (!JS_IsStrictEqual(ctx, s, back))
        die("the string changed on its round trip");
    const char *c = JS_ToCStringLen(ctx, &out_len, back);
    if (!c)
        die("text out");
    JS_FreeCString(ctx, c);
    JS_FreeValue(ctx, back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rt) {
        rt = JS_NewRuntime();
        ctx = JS_NewContext(rt);
    }

    /* JSON text: what parses writes back to a fixed point. */
    JSValue value = parse((const char *)data, size);
    if (JS_IsException(value)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
    } else {
        size_t len, again_len;
        char *text = stringify(value, &len);
        if (text) {
            JSValue again = parse(text, len);
            if (JS_IsException(again))
                die("JSON.stringify wrote text JSON.parse refuses");
            char *again_text = stringify(again, &again_len);
            if (!again_text || again_len != len || memcmp(text, again_text, len))
                die("stringify(parse(stringify(v))) differs");
            free(again_text);
            JS_FreeValue(ctx, again);
            free(text);
        }
        JS_FreeValue(ctx, value);
    }

    /* The bytes as UTF-8 text (invalid sequences become U+FFFD). */
    JSValue s8 = JS_NewStringLen(ctx, (const char *)data, size);
    if (JS_IsException(s8))
        die("a string of any bytes");
    round_trip_string(s8);
    JS_FreeValue(ctx, s8);

    /* The bytes as UTF-16 units, lone surrogates included. */
    size_t units = size / 2;
    uint16_t *u = malloc(units * sizeof(uint16_t) + 1);
    memcpy(u, data, units * sizeof(uint16_t));
    JSValue s16 = JS_NewStringUTF16(ctx, u, units);
    free(u);
    if (JS_IsException(s16))
        die("a string of any units");
    round_trip_string(s16);
    JS_FreeValue(ctx, s16);

    JS_RunGC(rt);
    return 0;
}
