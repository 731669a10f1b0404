/*
 * The byte format of one program-cache disk entry, apart from any file or
 * device: writing its header, and checking a header and payload read back.
 * program_cache.c does the file work; tests/fuzz/ feeds these bytes.
 *
 *   "CLPOOLPC" | u32 format | u32 0 | key digest[32] | u64 payload size |
 *   payload SHA-256[32] | payload (the CL_PROGRAM_BINARIES of the device)
 *
 * Integers are little-endian. The reserved u32 is written 0 and not checked.
 */
#ifndef CLPOOL_CACHE_ENTRY_H
#define CLPOOL_CACHE_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#define CLP_CACHE_ENTRY_HEADER (8 + 4 + 4 + 32 + 8 + 32)
/* Larger payloads are refused before anything is allocated for them. */
#define CLP_CACHE_ENTRY_MAX_PAYLOAD ((uint64_t)1 << 30)

/* Fills @p header for @p size bytes of @p payload stored under @p key. */
void clp_cache_entry_header(const uint8_t key[32], const uint8_t *payload, size_t size,
                            uint8_t header[CLP_CACHE_ENTRY_HEADER]);

/*
 * Checks the header of an entry whose file holds @p file_size bytes in all:
 * magic, format, @p key, and a payload size between 1 and the maximum that
 * accounts for the rest of the file. NULL and *payload_size on success, else
 * why the entry is unusable (a phrase: "written for another key").
 */
const char *clp_cache_entry_check_header(const uint8_t header[CLP_CACHE_ENTRY_HEADER],
                                         uint64_t file_size, const uint8_t key[32],
                                         size_t *payload_size);

/* Checks @p size bytes of @p payload against the checksum in @p header:
 * NULL when they match, else why not. */
const char *clp_cache_entry_check_payload(const uint8_t header[CLP_CACHE_ENTRY_HEADER],
                                          const uint8_t *payload, size_t size);

/*
 * Both checks on a whole entry of @p size bytes in memory. NULL on success,
 * with the payload at @p entry + CLP_CACHE_ENTRY_HEADER, *payload_size long.
 */
const char *clp_cache_entry_parse(const uint8_t *entry, size_t size, const uint8_t key[32],
                                  size_t *payload_size);

#endif /* CLPOOL_CACHE_ENTRY_H */
