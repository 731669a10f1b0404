/*
 * A minimal PNG writer (see png.h): signature, IHDR, one IDAT holding a zlib
 * stream of stored (uncompressed) deflate blocks, IEND. Every scanline uses
 * filter 0. References: the PNG specification (W3C, 2003) and RFC 1950/1951.
 */
#include "png.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORED_BLOCK_MAX 65535u /* a stored block's LEN is 16 bits */

uint32_t bench_crc32(uint32_t crc, const unsigned char *data, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* racy only in the harmless sense: every thread writes the same table */
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t c = n;
            for (int k = 0; k < 8; k++)
                c = c & 1u ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        ready = 1;
    }
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = table[(crc ^ data[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

uint32_t bench_adler32(uint32_t adler, const unsigned char *data, size_t len)
{
    uint32_t a = adler & 0xffffu, b = adler >> 16;
    for (size_t i = 0; i < len; i++) {
        a = (a + data[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Writes one chunk: length, type, data, CRC of type and data. */
static int write_chunk(FILE *f, const char type[4], const unsigned char *data, size_t len)
{
    unsigned char head[8], tail[4];
    put_be32(head, (uint32_t)len);
    memcpy(head + 4, type, 4);
    uint32_t crc = bench_crc32(0, head + 4, 4);
    crc = bench_crc32(crc, data, len);
    put_be32(tail, crc);
    if (fwrite(head, 1, 8, f) != 8 || (len && fwrite(data, 1, len, f) != len) ||
        fwrite(tail, 1, 4, f) != 4)
        return -1;
    return 0;
}

/* The zlib stream of @p raw in stored blocks, into a new buffer (*out_len bytes). */
static unsigned char *zlib_stored(const unsigned char *raw, size_t len, size_t *out_len)
{
    size_t blocks = len / STORED_BLOCK_MAX + 1;
    unsigned char *z = malloc(2 + len + 5 * blocks + 4);
    if (z == NULL)
        return NULL;
    size_t at = 0;
    z[at++] = 0x78; /* deflate, 32 KiB window */
    z[at++] = 0x01; /* no dictionary, fastest; 0x7801 is a multiple of 31 */
    size_t done = 0;
    do {
        size_t n = len - done < STORED_BLOCK_MAX ? len - done : STORED_BLOCK_MAX;
        int last = done + n == len;
        z[at++] = (unsigned char)last; /* BFINAL, BTYPE = 00 (stored) */
        z[at++] = (unsigned char)(n & 0xffu);
        z[at++] = (unsigned char)(n >> 8);
        z[at++] = (unsigned char)(~n & 0xffu);
        z[at++] = (unsigned char)((~n >> 8) & 0xffu);
        memcpy(z + at, raw + done, n);
        at += n;
        done += n;
    } while (done < len);
    put_be32(z + at, bench_adler32(1, raw, len));
    *out_len = at + 4;
    return z;
}

int bench_png_write(const char *path, const unsigned char *rgb, uint32_t width, uint32_t height,
                    char *err, size_t err_len)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    size_t row = (size_t)width * 3;
    size_t raw_len = (row + 1) * height, z_len = 0;
    unsigned char ihdr[13];
    unsigned char *raw = malloc(raw_len), *z = NULL;
    FILE *f = NULL;
    int rc = -1;
    if (raw == NULL)
        goto no_memory;
    for (uint32_t y = 0; y < height; y++) {
        raw[y * (row + 1)] = 0; /* filter type None */
        memcpy(raw + y * (row + 1) + 1, rgb + y * row, row);
    }
    z = zlib_stored(raw, raw_len, &z_len);
    if (z == NULL)
        goto no_memory;
    put_be32(ihdr, width);
    put_be32(ihdr + 4, height);
    ihdr[8] = 8;  /* bits per sample */
    ihdr[9] = 2;  /* colour type: RGB */
    ihdr[10] = 0; /* compression: deflate */
    ihdr[11] = 0; /* filter method 0 */
    ihdr[12] = 0; /* no interlace */
    f = fopen(path, "wb");
    if (f == NULL) {
        snprintf(err, err_len, "cannot create %s: %s", path, strerror(errno));
        goto done;
    }
    if (fwrite(signature, 1, sizeof signature, f) != sizeof signature ||
        write_chunk(f, "IHDR", ihdr, sizeof ihdr) != 0 || write_chunk(f, "IDAT", z, z_len) != 0 ||
        write_chunk(f, "IEND", NULL, 0) != 0) {
        snprintf(err, err_len, "error writing %s", path);
        goto done;
    }
    rc = 0;
    goto done;
no_memory:
    snprintf(err, err_len, "out of host memory for a %ux%u PNG", (unsigned)width, (unsigned)height);
done:
    if (f != NULL && fclose(f) != 0 && rc == 0) {
        snprintf(err, err_len, "error writing %s", path);
        rc = -1;
    }
    free(z);
    free(raw);
    return rc;
}
