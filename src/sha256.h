/* SHA-256 (FIPS 180-4): keys and checksums of the program disk cache. */
#ifndef CLPOOL_SHA256_H
#define CLPOOL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct clp_sha256_ctx {
    uint32_t state[8];
    uint64_t length; /* bytes hashed so far */
    uint8_t block[64];
    size_t used; /* bytes waiting in block */
} clp_sha256_ctx;

void clp_sha256_init(clp_sha256_ctx *s);
void clp_sha256_update(clp_sha256_ctx *s, const void *data, size_t size);
void clp_sha256_final(clp_sha256_ctx *s, uint8_t digest[32]);
/* One-shot digest. */
void clp_sha256(const void *data, size_t size, uint8_t digest[32]);
/* 64 lowercase hex digits and a NUL. */
void clp_hex(const uint8_t digest[32], char hex[65]);

#endif
