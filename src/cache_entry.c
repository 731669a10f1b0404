/*
 * The program-cache entry format (see cache_entry.h): header encoding and the
 * checks a disk entry must pass before its payload reaches the driver. Pure
 * byte work, so that it can be tested and fuzzed without a device.
 */
#include "cache_entry.h"
#include "sha256.h"

#include <string.h>

#define ENTRY_MAGIC "CLPOOLPC"
#define ENTRY_FORMAT 1u

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void clp_cache_entry_header(const uint8_t key[32], const uint8_t *payload, size_t size,
                            uint8_t header[CLP_CACHE_ENTRY_HEADER])
{
    memset(header, 0, CLP_CACHE_ENTRY_HEADER);
    memcpy(header, ENTRY_MAGIC, 8);
    put_u32(header + 8, ENTRY_FORMAT);
    memcpy(header + 16, key, 32);
    put_u64(header + 48, size);
    clp_sha256(payload, size, header + 56);
}

const char *clp_cache_entry_check_header(const uint8_t header[CLP_CACHE_ENTRY_HEADER],
                                         uint64_t file_size, const uint8_t key[32],
                                         size_t *payload_size)
{
    if (file_size < CLP_CACHE_ENTRY_HEADER)
        return "shorter than its header";
    if (memcmp(header, ENTRY_MAGIC, 8) != 0 || get_u32(header + 8) != ENTRY_FORMAT)
        return "not a clpool cache entry of this format";
    if (memcmp(header + 16, key, 32) != 0)
        return "written for another key";
    uint64_t n = get_u64(header + 48);
    if (n == 0 || n > CLP_CACHE_ENTRY_MAX_PAYLOAD || file_size - CLP_CACHE_ENTRY_HEADER != n)
        return "truncated or of the wrong size";
    *payload_size = (size_t)n;
    return NULL;
}

const char *clp_cache_entry_check_payload(const uint8_t header[CLP_CACHE_ENTRY_HEADER],
                                          const uint8_t *payload, size_t size)
{
    uint8_t sum[32];
    clp_sha256(payload, size, sum);
    if (memcmp(sum, header + 56, 32) != 0)
        return "corrupt (checksum mismatch)";
    return NULL;
}

const char *clp_cache_entry_parse(const uint8_t *entry, size_t size, const uint8_t key[32],
                                  size_t *payload_size)
{
    size_t n = 0;
    const char *why = clp_cache_entry_check_header(entry, size, key, &n);
    if (!why)
        why = clp_cache_entry_check_payload(entry, entry + CLP_CACHE_ENTRY_HEADER, n);
    if (!why)
        *payload_size = n;
    return why;
}
