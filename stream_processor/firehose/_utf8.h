/* UTF-8 in C, shared by the twin's C modules (stream_processor/firehose/_native_convert.c and
 * _native_census.c): whether bytes are the UTF-8 a JSON decoder takes. Include it after _json_text.h
 * (HIGHS). */
#ifndef STREAM_PROCESSOR_UTF8_H
#define STREAM_PROCESSOR_UTF8_H

/* Whether p[0..n) is valid UTF-8 (no surrogates, no overlong forms, at most U+10FFFF), as Python's
 * and orjson's decoders require; ASCII 32 or eight bytes at a time. */
static int valid_utf8(const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        if (n - i >= 32) { /* ASCII 32 bytes at a time */
            uint64_t x[4];
            memcpy(x, p + i, 32);
            if (((x[0] | x[1] | x[2] | x[3]) & HIGHS) == 0) {
                i += 32;
                continue;
            }
        }
        if (n - i >= 8) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            if ((x & HIGHS) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int more;
        unsigned low = 0x80, high = 0xBF; /* the second byte's range */
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            if (c == 0xE0) low = 0xA0;
            if (c == 0xED) high = 0x9F; /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            if (c == 0xF0) low = 0x90;
            if (c == 0xF4) high = 0x8F;
        } else {
            return 0;
        }
        if (n - i <= more || p[i + 1] < low || p[i + 1] > high) return 0;
        for (int k = 2; k <= more; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return 0;
        i += more + 1;
    }
    return 1;
}

#endif
