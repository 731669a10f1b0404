/*
 * libFuzzer target: the program-cache entry format (src/cache_entry.c), the
 * checks a disk entry passes before its payload reaches the driver. The
 * first input byte picks a mode:
 *   even: the rest is an entry file, checked under the fixed key below
 *         (the seed corpus holds valid entries for it);
 *   odd:  the rest is a payload; a valid entry is built for it, must be
 *         accepted, and then must be refused once damaged (one byte changed,
 *         truncated, extended, or read under another key).
 */
#include "cache_entry.h"
#include "sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key of the seed entries: SHA-256 of "clpool fuzz key". */
static uint8_t fuzz_key[32];
static int key_ready;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_cache_entry: %s\n", what);
    abort();
}

static void check_file(const uint8_t *entry, size_t size)
{
    size_t n = 0;
    const char *why = clp_cache_entry_parse(entry, size, fuzz_key, &n);
    if (why) {
        if (!*why)
            fail("a refusal without a reason");
        return;
    }
    if (n == 0 || n > CLP_CACHE_ENTRY_MAX_PAYLOAD || size != CLP_CACHE_ENTRY_HEADER + n)
        fail("an accepted entry whose payload size does not account for the file");
    uint8_t sum[32];
    clp_sha256(entry + CLP_CACHE_ENTRY_HEADER, n, sum);
    if (memcmp(sum, entry + 56, 32) != 0)
        fail("an accepted entry whose checksum does not match");
}

/* Two bytes of the input's tail as a number (0 when it is too short). */
static size_t tail_number(const uint8_t *data, size_t size, size_t back)
{
    if (size < back + 2)
        return 0;
    return (size_t)data[size - back - 1] << 8 | data[size - back - 2];
}

static void expect_refused(const uint8_t *entry, size_t size, const uint8_t key[32],
                           const char *what)
{
    size_t n = 0;
    if (!clp_cache_entry_parse(entry, size, key, &n))
        fail(what);
}

static void check_round_trip(const uint8_t *payload, size_t n, const uint8_t *data, size_t size)
{
    if (n == 0) { /* an empty payload is never written */
        payload = (const uint8_t *)"x";
        n = 1;
    }
    size_t total = CLP_CACHE_ENTRY_HEADER + n;
    uint8_t *entry = malloc(total + 1);
    if (!entry)
        fail("out of memory");
    clp_cache_entry_header(fuzz_key, payload, n, entry);
    memcpy(entry + CLP_CACHE_ENTRY_HEADER, payload, n);
    size_t got = 0;
    if (clp_cache_entry_parse(entry, total, fuzz_key, &got) || got != n)
        fail("a freshly written entry is refused");

    /* One byte changed anywhere but in the reserved word (offsets 12-15,
     * written 0 and not checked). */
    size_t at = tail_number(data, size, 0) % total;
    uint8_t flip = (uint8_t)(tail_number(data, size, 2) | 1);
    if (at < 12 || at >= 16) {
        entry[at] ^= flip;
        expect_refused(entry, total, fuzz_key, "an entry with a changed byte is accepted");
        entry[at] ^= flip;
    }
    /* Truncated by 1..total bytes, or one byte longer. */
    size_t cut = 1 + tail_number(data, size, 4) % total;
    expect_refused(entry, total - cut, fuzz_key, "a truncated entry is accepted");
    entry[total] = 0;
    expect_refused(entry, total + 1, fuzz_key, "an entry with a byte appended is accepted");
    /* Under another key. */
    uint8_t other[32];
    memcpy(other, fuzz_key, 32);
    other[tail_number(data, size, 6) % 32] ^= 0x80;
    expect_refused(entry, total, other, "an entry is accepted under another key");
    free(entry);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!key_ready) {
        static const char text[] = "clpool fuzz key";
        clp_sha256(text, sizeof text - 1, fuzz_key);
        key_ready = 1;
    }
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        check_file(data + 1, size - 1);
    else
        check_round_trip(data + 1, size - 1, data, size);
    return 0;
}
