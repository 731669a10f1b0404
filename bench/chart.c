/*
 * Draws the grouped bar chart (see chart.h) on an RGB canvas: title and
 * legend, a value axis with grid lines, one group of bars per layer with
 * the values printed above the bars, and the layer names below.
 */
#include "chart.h"

#include "font.h"
#include "png.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT 2      /* scale of the main text: 10x14 pixel glyphs */
#define SMALL 1     /* scale of the values and detail lines */
#define GROUP_W 150 /* pixels per layer */
#define BAR_W 28
#define BAR_GAP 4
#define LEFT 90 /* room for the value axis labels */
#define RIGHT 30
#define TOP 100 /* title, subtitle and legend */
#define PLOT_H 420
#define BOTTOM 100 /* layer names, details, notes */
#define MIN_WIDTH 1000

typedef struct rgb {
    unsigned char r, g, b;
} rgb;

static const rgb WHITE = {255, 255, 255};
static const rgb BLACK = {0, 0, 0};
static const rgb GRID = {225, 225, 225};
static const rgb MUTED = {110, 110, 110};
static const rgb ALERT = {200, 30, 30};
static const rgb SERIES[BENCH_CHART_SERIES] = {
    {31, 119, 180}, /* clpool: blue */
    {255, 127, 14}, /* oneDNN: orange */
    {44, 160, 44},  /* XNNPACK: green */
    {160, 160, 160} /* stream copy: grey */
};

typedef struct canvas {
    int w, h;
    unsigned char *px; /* w * h * 3 */
} canvas;

static void fill_rect(canvas *c, int x, int y, int w, int h, rgb color)
{
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > c->w ? c->w : x + w, y1 = y + h > c->h ? c->h : y + h;
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) {
            unsigned char *p = c->px + ((size_t)yy * (size_t)c->w + (size_t)xx) * 3;
            p[0] = color.r;
            p[1] = color.g;
            p[2] = color.b;
        }
}

static int text_width(size_t len, int scale)
{
    return len == 0 ? 0 : (int)len * BENCH_FONT_ADVANCE * scale - scale;
}

/* Draws @p len characters of @p s with its top-left corner at (x, y). */
static void draw_text(canvas *c, int x, int y, const char *s, size_t len, int scale, rgb color)
{
    for (size_t i = 0; i < len; i++, x += BENCH_FONT_ADVANCE * scale) {
        const uint8_t *rows = bench_font_glyph(s[i]);
        for (int r = 0; r < BENCH_FONT_HEIGHT; r++)
            for (int col = 0; col < BENCH_FONT_WIDTH; col++)
                if (rows[r] & (0x10u >> col))
                    fill_rect(c, x + col * scale, y + r * scale, scale, scale, color);
    }
}

static void draw_centered(canvas *c, int cx, int y, const char *s, size_t len, int scale, rgb color)
{
    draw_text(c, cx - text_width(len, scale) / 2, y, s, len, scale, color);
}

/* The layer name centred under its group: one line when it fits, else split
 * after the last '-' that lets the first line fit. Returns the height used. */
static int draw_label(canvas *c, int cx, int y, const char *label)
{
    size_t len = strlen(label);
    int room = GROUP_W - 8, line = (BENCH_FONT_HEIGHT + 3) * TEXT;
    if (text_width(len, TEXT) <= room) {
        draw_centered(c, cx, y, label, len, TEXT, BLACK);
        return line;
    }
    for (size_t cut = len; cut > 0; cut--)
        if (label[cut - 1] == '-' && text_width(cut, TEXT) <= room) {
            draw_centered(c, cx, y, label, cut, TEXT, BLACK);
            draw_centered(c, cx, y + line, label + cut, len - cut, TEXT, BLACK);
            return 2 * line;
        }
    draw_centered(c, cx, y, label, len, SMALL, BLACK);
    return (BENCH_FONT_HEIGHT + 3) * SMALL;
}

/* A grid step of 1, 2 or 5 times a power of ten giving about six lines. */
static double nice_step(double top)
{
    double raw = top / 6.0, mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag;
}

static void draw_axis(canvas *c, const bench_chart *chart, double top, double step, int plot_w)
{
    char buf[32];
    for (double v = 0.0; v <= top + step * 1e-6; v += step) {
        int y = TOP + PLOT_H - (int)lround(v / top * PLOT_H);
        fill_rect(c, LEFT, y, plot_w, 1, v == 0.0 ? BLACK : GRID);
        snprintf(buf, sizeof buf, "%g", v);
        draw_text(c, LEFT - 10 - text_width(strlen(buf), TEXT),
                  y - BENCH_FONT_CAP_HEIGHT * TEXT / 2, buf, strlen(buf), TEXT, BLACK);
    }
    fill_rect(c, LEFT, TOP, 1, PLOT_H + 1, BLACK);
    draw_text(c, LEFT - 10 - text_width(strlen(chart->unit), TEXT),
              TOP - 14 - BENCH_FONT_CAP_HEIGHT * TEXT, chart->unit, strlen(chart->unit), TEXT,
              BLACK);
}

static void draw_legend(canvas *c, const bench_chart *chart)
{
    int width = 0, box = BENCH_FONT_CAP_HEIGHT * TEXT;
    for (int s = 0; s < BENCH_CHART_SERIES; s++)
        width += box + 8 + text_width(strlen(chart->series[s]), TEXT) + 24;
    int x = c->w - RIGHT - width, y = 58;
    for (int s = 0; s < BENCH_CHART_SERIES; s++) {
        fill_rect(c, x, y, box, box, SERIES[s]);
        x += box + 8;
        draw_text(c, x, y, chart->series[s], strlen(chart->series[s]), TEXT, BLACK);
        x += text_width(strlen(chart->series[s]), TEXT) + 24;
    }
}

static void draw_group(canvas *c, const bench_chart_group *g, int index, double top)
{
    char buf[32];
    int left = LEFT + index * GROUP_W;
    int bars = BENCH_CHART_SERIES * BAR_W + (BENCH_CHART_SERIES - 1) * BAR_GAP;
    int base = TOP + PLOT_H;
    for (int s = 0; s < BENCH_CHART_SERIES; s++) {
        int x = left + (GROUP_W - bars) / 2 + s * (BAR_W + BAR_GAP), cx = x + BAR_W / 2;
        double v = g->value[s];
        if (!isfinite(v) || v < 0.0) {
            draw_centered(c, cx, base - 4 - BENCH_FONT_CAP_HEIGHT * SMALL, "n/a", 3, SMALL, MUTED);
            continue;
        }
        int h = (int)lround(v / top * PLOT_H);
        fill_rect(c, x, base - h, BAR_W, h, SERIES[s]);
        snprintf(buf, sizeof buf, v >= 100.0 ? "%.0f" : v >= 1.0 ? "%.1f" : "%.2f", v);
        draw_centered(c, cx, base - h - 3 - BENCH_FONT_CAP_HEIGHT * SMALL, buf, strlen(buf), SMALL,
                      BLACK);
    }
    int y = base + 10, cx = left + GROUP_W / 2;
    y += draw_label(c, cx, y, g->label);
    for (int i = 0; i < 2; i++)
        if (g->detail[i]) {
            draw_centered(c, cx, y, g->detail[i], strlen(g->detail[i]), SMALL, MUTED);
            y += (BENCH_FONT_HEIGHT + 3) * SMALL;
        }
    if (g->note)
        draw_centered(c, cx, y, g->note, strlen(g->note), SMALL, ALERT);
}

int bench_chart_write_png(const bench_chart *chart, const char *path, char *err, size_t err_len)
{
    int plot_w = (int)chart->count * GROUP_W;
    canvas c;
    c.w = LEFT + plot_w + RIGHT < MIN_WIDTH ? MIN_WIDTH : LEFT + plot_w + RIGHT;
    c.h = TOP + PLOT_H + BOTTOM;
    c.px = malloc((size_t)c.w * (size_t)c.h * 3);
    if (c.px == NULL) {
        snprintf(err, err_len, "out of host memory for a %dx%d chart", c.w, c.h);
        return -1;
    }
    fill_rect(&c, 0, 0, c.w, c.h, WHITE);

    double vmax = 0.0;
    for (size_t g = 0; g < chart->count; g++)
        for (int s = 0; s < BENCH_CHART_SERIES; s++)
            if (isfinite(chart->groups[g].value[s]) && chart->groups[g].value[s] > vmax)
                vmax = chart->groups[g].value[s];
    double step = nice_step(vmax > 0.0 ? vmax * 1.1 : 1.0);
    double top = ceil((vmax > 0.0 ? vmax * 1.1 : 1.0) / step) * step;

    draw_text(&c, LEFT, 14, chart->title, strlen(chart->title), TEXT, BLACK);
    if (chart->subtitle)
        draw_text(&c, LEFT, 14 + (BENCH_FONT_HEIGHT + 5) * TEXT, chart->subtitle,
                  strlen(chart->subtitle), SMALL, MUTED);
    draw_legend(&c, chart);
    draw_axis(&c, chart, top, step, plot_w);
    for (size_t g = 0; g < chart->count; g++)
        draw_group(&c, &chart->groups[g], (int)g, top);

    int rc = bench_png_write(path, c.px, (uint32_t)c.w, (uint32_t)c.h, err, err_len);
    free(c.px);
    return rc;
}
