/*
 * A tiny bitmap font for the bench's chart: 5x7 glyphs (plus two rows for
 * the descenders of g, j, p, q, y and the comma) for ASCII letters, digits
 * and the symbols the chart's labels use.
 */
#ifndef BENCH_FONT_H
#define BENCH_FONT_H

#include <stdint.h>

#define BENCH_FONT_WIDTH 5
#define BENCH_FONT_HEIGHT 9     /* rows of a glyph: 7 above the baseline, 2 below */
#define BENCH_FONT_CAP_HEIGHT 7 /* rows above the baseline */
#define BENCH_FONT_ADVANCE 6    /* glyph width plus one column of space */

/* The BENCH_FONT_HEIGHT rows of @p ch, top first; bit 4 of a row is its leftmost pixel.
 * Characters without a glyph get a '?'. */
const uint8_t *bench_font_glyph(char ch);

#endif /* BENCH_FONT_H */
