/*
 * A minimal PNG writer for the bench's chart: 8-bit RGB, no compression
 * (zlib stored blocks), so it needs no library.
 */
#ifndef BENCH_PNG_H
#define BENCH_PNG_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32 of PNG chunks and zip (polynomial 0xEDB88320) of @p data,
 * continuing from @p crc (0 to start). */
uint32_t bench_crc32(uint32_t crc, const unsigned char *data, size_t len);

/* The Adler-32 checksum of zlib streams of @p data, continuing from @p adler
 * (1 to start). */
uint32_t bench_adler32(uint32_t adler, const unsigned char *data, size_t len);

/* Writes @p rgb (@p height rows of @p width pixels, 3 bytes each, top row
 * first) to @p path as a PNG file. Returns 0, or -1 with one sentence in @p err. */
int bench_png_write(const char *path, const unsigned char *rgb, uint32_t width, uint32_t height,
                    char *err, size_t err_len);

#endif /* BENCH_PNG_H */
