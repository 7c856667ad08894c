/*
 * city_streets.c - a procedural stand-in for Cityscapes: RGB street scenes
 * with a label per pixel in the exam's five classes (vehicle, road, sky,
 * nature, other), small enough to train a fully-convolutional net on a
 * laptop CPU in minutes.
 *
 * A scene is painted back to front, each shape writing its colour and its
 * class into the same pixels, so the label map is exact by construction:
 *   sky (a vertical gradient, clouds) above a random horizon;
 *   ground below it, pavement ("other") or grass ("nature") on each side;
 *   a skyline of buildings along the horizon and, sometimes, a building
 *   front in perspective on either side ("other");
 *   a sidewalk and a road as trapezoids narrowing to a vanishing point on
 *   the horizon, with dashed lane markings ("road");
 *   trees, bushes, poles and vehicles standing on the ground, drawn from the
 *   farthest to the nearest (the painter's algorithm), their sizes growing
 *   toward the bottom of the image as perspective would have it.
 * Then the whole image gets a random brightness and tint and Gaussian pixel
 * noise. Colours overlap on purpose (grey cars on grey asphalt, green cars
 * beside trees, white clouds and white vans, overcast skies as grey as
 * concrete), so a per-pixel colour rule falls well short and a net must use
 * shape and position, which is the point of a convolutional segmenter.
 *
 * Geometry is in pixels as doubles; a pixel (x, y) is covered by a shape
 * when its center (x + 0.5, y + 0.5) lies inside. Every random draw comes
 * from the caller's generator in a fixed order: never two draws in one
 * argument list or initializer, whose evaluation order C leaves open.
 */
#include "nn/synthetic.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct colour {
    double r, g, b;
} colour;

typedef struct scene {
    int size;        /* H = W, pixels */
    double *rgb;     /* (3, size, size) colours being painted */
    int *labels;     /* (size, size) classes being painted */
    nn_rng *rng;
    /* The road, as a trapezoid between the horizon and the bottom row. */
    double horizon;  /* row of the horizon */
    double vanish_x; /* column of the vanishing point */
    double top_half_width, bottom_left, bottom_right;
} scene;

/* Things standing on the ground, painted in order of their base row. */
typedef enum prop_kind { PROP_TREE, PROP_BUSH, PROP_POLE, PROP_VEHICLE } prop_kind;

typedef struct prop {
    prop_kind kind;
    double x, base; /* center column and the row it stands on */
} prop;

#define MAX_PROPS 16

static const char *const class_names[NN_CITY_CLASS_COUNT] = {
    "vehicle", "road", "sky", "nature", "other"
};

/* Cityscapes' colours for car, road, sky, vegetation and building. */
static const unsigned char class_colours[NN_CITY_CLASS_COUNT][3] = {
    { 0, 0, 142 }, { 128, 64, 128 }, { 70, 130, 180 }, { 107, 142, 35 }, { 70, 70, 70 }
};

const char *nn_synthetic_city_class_name(int class_index)
{
    if (class_index < 0 || class_index >= NN_CITY_CLASS_COUNT)
        return NULL;
    return class_names[class_index];
}

bool nn_synthetic_city_class_colour(unsigned char rgb[3], int class_index)
{
    if (class_index < 0 || class_index >= NN_CITY_CLASS_COUNT)
        return false;
    memcpy(rgb, class_colours[class_index], 3);
    return true;
}

/* ---- random helpers ----------------------------------------------------- */

static double uniform(scene *s, double low, double high)
{
    return nn_rng_uniform_range(s->rng, low, high);
}

static bool chance(scene *s, double probability)
{
    return nn_rng_uniform(s->rng) < probability;
}

/* A base colour moved by a shared brightness offset and a smaller
 * per-channel one, so jittered colours stay recognisably the same hue. */
static colour jitter(scene *s, colour base, double brightness, double hue)
{
    double shift = uniform(s, -brightness, brightness);
    colour c;
    c.r = base.r + shift + uniform(s, -hue, hue);
    c.g = base.g + shift + uniform(s, -hue, hue);
    c.b = base.b + shift + uniform(s, -hue, hue);
    return c;
}

static colour scale(colour c, double factor)
{
    colour out = { c.r * factor, c.g * factor, c.b * factor };
    return out;
}

static colour mix(colour a, colour b, double t)
{
    colour out = { a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t };
    return out;
}

static colour pick(scene *s, const colour *palette, size_t count)
{
    return palette[nn_rng_below(s->rng, count)];
}

/* ---- painting primitives ------------------------------------------------ */

/* texture is the standard deviation of a per-pixel brightness change: rough
 * surfaces (foliage, asphalt) get more than smooth ones (sky, paint). */
static void put(scene *s, int x, int y, colour c, double texture, int label)
{
    if (x < 0 || y < 0 || x >= s->size || y >= s->size)
        return;
    double grain = texture > 0.0 ? texture * nn_rng_normal(s->rng) : 0.0;
    size_t plane = (size_t)s->size * (size_t)s->size;
    size_t at = (size_t)y * (size_t)s->size + (size_t)x;
    s->rgb[at] = c.r + grain;
    s->rgb[plane + at] = c.g + grain;
    s->rgb[2 * plane + at] = c.b + grain;
    s->labels[at] = label;
}

/* Pixel rows/columns whose centers fall in [low, high), clipped. */
static int first_pixel(double low)
{
    return (int)ceil(low - 0.5);
}

static int clip(int v, int low, int high)
{
    return v < low ? low : v > high ? high : v;
}

static void fill_rect(scene *s, double x0, double y0, double x1, double y1, colour c,
                      double texture, int label)
{
    int px0 = clip(first_pixel(x0), 0, s->size), px1 = clip(first_pixel(x1), 0, s->size);
    int py0 = clip(first_pixel(y0), 0, s->size), py1 = clip(first_pixel(y1), 0, s->size);
    for (int y = py0; y < py1; y++)
        for (int x = px0; x < px1; x++)
            put(s, x, y, c, texture, label);
}

static void fill_ellipse(scene *s, double cx, double cy, double rx, double ry, colour c,
                         double texture, int label)
{
    int px0 = clip(first_pixel(cx - rx), 0, s->size), px1 = clip(first_pixel(cx + rx), 0, s->size);
    int py0 = clip(first_pixel(cy - ry), 0, s->size), py1 = clip(first_pixel(cy + ry), 0, s->size);
    for (int y = py0; y < py1; y++)
        for (int x = px0; x < px1; x++) {
            double dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry;
            if (dx * dx + dy * dy < 1.0)
                put(s, x, y, c, texture, label);
        }
}

/* Even-odd rule on pixel centers; n corners, in either winding order. */
static void fill_polygon(scene *s, const double *xs, const double *ys, int n, colour c,
                         double texture, int label)
{
    for (int y = 0; y < s->size; y++)
        for (int x = 0; x < s->size; x++) {
            double px = x + 0.5, py = y + 0.5;
            bool inside = false;
            for (int i = 0, j = n - 1; i < n; j = i++) {
                if ((ys[i] > py) != (ys[j] > py) &&
                    px < xs[j] + (py - ys[j]) * (xs[i] - xs[j]) / (ys[i] - ys[j]))
                    inside = !inside;
            }
            if (inside)
                put(s, x, y, c, texture, label);
        }
}

/* ---- the road's perspective --------------------------------------------- */

/* 0 at the horizon, 1 at the bottom row: how near a point on the ground is,
 * and so how large whatever stands there is drawn. */
static double nearness(const scene *s, double row)
{
    return (row - s->horizon) / (s->size - s->horizon);
}

static double road_left(const scene *s, double row)
{
    double top = s->vanish_x - s->top_half_width;
    return top + (s->bottom_left - top) * nearness(s, row);
}

static double road_right(const scene *s, double row)
{
    double top = s->vanish_x + s->top_half_width;
    return top + (s->bottom_right - top) * nearness(s, row);
}

/* ---- the parts of a scene ----------------------------------------------- */

static void paint_sky(scene *s)
{
    static const colour skies[] = {
        { 0.35, 0.60, 0.95 }, /* clear */
        { 0.55, 0.72, 0.90 }, /* hazy */
        { 0.70, 0.71, 0.74 }, /* overcast, as grey as concrete */
        { 0.85, 0.62, 0.48 }, /* dusk */
    };
    colour top = jitter(s, pick(s, skies, 4), 0.08, 0.04);
    colour low = mix(top, (colour){ 0.95, 0.95, 0.95 }, uniform(s, 0.1, 0.5));
    /* The sky fills the whole canvas first; everything else covers it. */
    for (int y = 0; y < s->size; y++) {
        double t = fmin(1.0, (y + 0.5) / s->horizon);
        colour c = mix(scale(top, 0.9), low, t);
        for (int x = 0; x < s->size; x++)
            put(s, x, y, c, 0.005, NN_CITY_SKY);
    }
    int clouds = (int)nn_rng_below(s->rng, 4);
    for (int k = 0; k < clouds; k++) {
        colour white = jitter(s, (colour){ 0.92, 0.92, 0.93 }, 0.06, 0.01);
        double cx = uniform(s, 0, s->size), cy = uniform(s, 0, 0.7 * s->horizon);
        double rx = s->size * uniform(s, 0.05, 0.14);
        for (int puff = 0; puff < 3; puff++) {
            double px = cx + rx * uniform(s, -0.8, 0.8);
            double py = cy + rx * uniform(s, -0.2, 0.2);
            double prx = rx * uniform(s, 0.5, 1.0);
            double pry = rx * uniform(s, 0.25, 0.45);
            fill_ellipse(s, px, py, prx, pry, white, 0.01, NN_CITY_SKY);
        }
    }
}

static const colour pavements[] = {
    { 0.55, 0.54, 0.52 }, { 0.62, 0.58, 0.50 }, { 0.45, 0.45, 0.47 }
};
static const colour greens[] = {
    { 0.22, 0.45, 0.15 }, { 0.30, 0.52, 0.22 }, { 0.18, 0.35, 0.18 }, { 0.40, 0.50, 0.20 }
};

/* Each side of the vanishing point is pavement or grass. */
static void paint_ground(scene *s)
{
    for (int side = 0; side < 2; side++) {
        bool grass = chance(s, 0.45);
        colour c = grass ? jitter(s, pick(s, greens, 4), 0.06, 0.03)
                         : jitter(s, pick(s, pavements, 3), 0.08, 0.02);
        double x0 = side == 0 ? 0 : s->vanish_x, x1 = side == 0 ? s->vanish_x : s->size;
        fill_rect(s, x0, s->horizon, x1, s->size, c, grass ? 0.06 : 0.025,
                  grass ? NN_CITY_NATURE : NN_CITY_OTHER);
    }
}

static const colour walls[] = {
    { 0.62, 0.62, 0.62 }, { 0.76, 0.68, 0.54 }, { 0.60, 0.33, 0.26 },
    { 0.36, 0.36, 0.41 }, { 0.86, 0.85, 0.82 }, { 0.42, 0.52, 0.62 }
};

/* A skyline along the horizon: buildings of random widths and heights,
 * with windows, and distant trees in some of the gaps between them. */
static void paint_skyline(scene *s)
{
    double x = -s->size * uniform(s, 0.0, 0.1);
    while (x < s->size) {
        double width = s->size * uniform(s, 0.08, 0.28);
        if (chance(s, 0.2)) {
            if (chance(s, 0.6)) {
                colour green = jitter(s, pick(s, greens, 4), 0.05, 0.03);
                double r = width * uniform(s, 0.3, 0.6);
                fill_ellipse(s, x + width / 2, s->horizon, width / 2, r, green, 0.05,
                             NN_CITY_NATURE);
            }
            x += width;
            continue;
        }
        double height = s->horizon * uniform(s, 0.1, 0.8);
        double top = s->horizon - height, bottom = s->horizon + s->size * uniform(s, 0.0, 0.04);
        colour wall = jitter(s, pick(s, walls, 6), 0.07, 0.03);
        fill_rect(s, x, top, x + width, bottom, wall, 0.015, NN_CITY_OTHER);
        if (chance(s, 0.7)) {
            colour glass = chance(s, 0.5) ? scale(wall, 0.55) : mix(wall, (colour){ 1, 1, 1 }, 0.4);
            double pane = fmax(1.0, s->size * 0.02), step = pane * uniform(s, 2.0, 3.0);
            for (double wy = top + step * 0.5; wy + pane < bottom - step * 0.3; wy += step)
                for (double wx = x + step * 0.5; wx + pane < x + width - step * 0.3; wx += step)
                    fill_rect(s, wx, wy, wx + pane, wy + pane, glass, 0.0, NN_CITY_OTHER);
        }
        x += width;
    }
}

/* A building front along one side of the street: a quadrilateral whose top
 * and bottom edges run toward the vanishing point, darker floor lines on it. */
static void paint_facade(scene *s, int side)
{
    double edge = side == 0 ? 0.0 : s->size;
    double t = uniform(s, 0.3, 0.8); /* how far the front reaches toward the vanishing point */
    double inner = edge + (s->vanish_x - edge) * t;
    double top = s->size * uniform(s, -0.3, 0.15);
    double bottom = s->horizon + (s->size - s->horizon) * uniform(s, 0.15, 0.45);
    double xs[4] = { edge, inner, inner, edge };
    double ys[4] = { top, top + (s->horizon - top) * t, bottom + (s->horizon - bottom) * t,
                     bottom };
    colour wall = jitter(s, pick(s, walls, 6), 0.07, 0.03);
    fill_polygon(s, xs, ys, 4, wall, 0.015, NN_CITY_OTHER);
    /* Floor lines: rows at evenly spaced heights of the front, converging
     * like its top and bottom edges. */
    int floors = 2 + (int)nn_rng_below(s->rng, 4);
    colour line = scale(wall, 0.6);
    for (int f = 1; f <= floors; f++) {
        double k = (double)f / (floors + 1);
        double y0 = top + (bottom - top) * k;
        double y1 = ys[1] + (ys[2] - ys[1]) * k;
        double thick = fmax(0.6, s->size * 0.012);
        double lx[4] = { edge, inner, inner, edge };
        double ly[4] = { y0 - thick, y1 - thick * (1 - t), y1 + thick * (1 - t), y0 + thick };
        fill_polygon(s, lx, ly, 4, line, 0.0, NN_CITY_OTHER);
    }
}

static void paint_road(scene *s)
{
    /* A sidewalk first: the same trapezoid a little wider at the bottom. */
    double curb = s->size * uniform(s, 0.04, 0.14);
    colour walk = jitter(s, pick(s, pavements, 3), 0.06, 0.02);
    double wx[4] = { s->vanish_x - s->top_half_width, s->vanish_x + s->top_half_width,
                     s->bottom_right + curb, s->bottom_left - curb };
    double wy[4] = { s->horizon, s->horizon, s->size, s->size };
    fill_polygon(s, wx, wy, 4, walk, 0.02, NN_CITY_OTHER);

    colour asphalt = jitter(s, (colour){ 0.33, 0.33, 0.35 }, 0.09, 0.02);
    double rx[4] = { s->vanish_x - s->top_half_width, s->vanish_x + s->top_half_width,
                     s->bottom_right, s->bottom_left };
    fill_polygon(s, rx, wy, 4, asphalt, 0.03, NN_CITY_ROAD);

    if (!chance(s, 0.7))
        return;
    /* A dashed center line: dashes of equal length on the ground are
     * shorter in the image as they recede, so dash on/off follows the
     * depth 1 / (row - horizon) rather than the row. */
    colour paint = chance(s, 0.7) ? (colour){ 0.88, 0.88, 0.86 } : (colour){ 0.90, 0.78, 0.25 };
    double phase = uniform(s, 0.0, 1.0), period = uniform(s, 0.6, 1.2) * s->size;
    for (int y = first_pixel(s->horizon + 1.0); y < s->size; y++) {
        double row = y + 0.5, near = nearness(s, row);
        double depth = period / (row - s->horizon);
        if (fmod(depth + phase, 1.0) > 0.5)
            continue;
        double center = (road_left(s, row) + road_right(s, row)) / 2;
        double half = 0.3 + s->size * 0.012 * near;
        for (int x = first_pixel(center - half); x < first_pixel(center + half); x++)
            put(s, x, y, paint, 0.02, NN_CITY_ROAD);
    }
}

static void paint_tree(scene *s, const prop *p)
{
    double near = nearness(s, p->base);
    double radius = s->size * uniform(s, 0.05, 0.11) * (0.3 + 0.9 * near);
    double trunk = radius * uniform(s, 0.8, 1.6);
    double trunk_half = fmax(0.5, radius * 0.15);
    colour bark = jitter(s, (colour){ 0.33, 0.24, 0.16 }, 0.05, 0.02);
    fill_rect(s, p->x - trunk_half, p->base - trunk, p->x + trunk_half, p->base, bark, 0.03,
              NN_CITY_NATURE);
    colour leaves = jitter(s, pick(s, greens, 4), 0.07, 0.04);
    double cy = p->base - trunk - radius * 0.5;
    int puffs = 3 + (int)nn_rng_below(s->rng, 3);
    for (int k = 0; k < puffs; k++) {
        double r = radius * uniform(s, 0.55, 0.95);
        double px = p->x + radius * uniform(s, -0.6, 0.6);
        double py = cy + radius * uniform(s, -0.6, 0.4);
        fill_ellipse(s, px, py, r, r, leaves, 0.08, NN_CITY_NATURE);
    }
}

static void paint_bush(scene *s, const prop *p)
{
    double near = nearness(s, p->base);
    double rx = s->size * uniform(s, 0.05, 0.12) * (0.3 + 0.9 * near);
    double ry = rx * uniform(s, 0.45, 0.75);
    colour leaves = jitter(s, pick(s, greens, 4), 0.07, 0.04);
    fill_ellipse(s, p->x, p->base - ry * 0.8, rx, ry, leaves, 0.08, NN_CITY_NATURE);
}

static void paint_pole(scene *s, const prop *p)
{
    double near = nearness(s, p->base);
    double height = s->size * uniform(s, 0.25, 0.45) * (0.3 + 0.9 * near);
    double half = fmax(0.5, s->size * 0.008 * (0.3 + 0.9 * near));
    colour metal = jitter(s, (colour){ 0.35, 0.36, 0.38 }, 0.1, 0.02);
    fill_rect(s, p->x - half, p->base - height, p->x + half, p->base, metal, 0.01,
              NN_CITY_OTHER);
    if (chance(s, 0.5)) { /* a sign on top */
        static const colour signs[] = { { 0.8, 0.1, 0.1 }, { 0.1, 0.3, 0.7 }, { 0.9, 0.8, 0.1 } };
        double r = half * 3.0;
        fill_ellipse(s, p->x, p->base - height, r, r, jitter(s, pick(s, signs, 3), 0.05, 0.02),
                     0.01, NN_CITY_OTHER);
    }
}

static void paint_vehicle(scene *s, const prop *p)
{
    static const colour paints[] = {
        { 0.75, 0.10, 0.10 }, { 0.15, 0.25, 0.65 }, { 0.90, 0.90, 0.90 }, { 0.08, 0.08, 0.10 },
        { 0.65, 0.66, 0.68 }, { 0.30, 0.30, 0.32 }, { 0.90, 0.75, 0.10 }, { 0.20, 0.45, 0.25 }
    };
    double road_width = road_right(s, p->base) - road_left(s, p->base);
    bool truck = chance(s, 0.2);
    double share = truck ? uniform(s, 0.3, 0.45) : uniform(s, 0.22, 0.4);
    double width = fmax(2.0, road_width * share);
    double height = width * (truck ? uniform(s, 0.8, 1.1) : uniform(s, 0.55, 0.75));
    colour body;
    if (chance(s, 0.2)) { /* any colour at all */
        body.r = uniform(s, 0, 1);
        body.g = uniform(s, 0, 1);
        body.b = uniform(s, 0, 1);
    } else {
        body = jitter(s, pick(s, paints, 8), 0.06, 0.03);
    }
    double x0 = p->x - width / 2, x1 = p->x + width / 2, y = p->base;

    /* A shadow on the road under the car: still road. */
    colour shadow = jitter(s, (colour){ 0.15, 0.15, 0.16 }, 0.04, 0.01);
    fill_rect(s, x0 - width * 0.05, y - height * 0.1, x1 + width * 0.05,
              y + fmax(1.0, height * 0.1), shadow, 0.01, NN_CITY_ROAD);
    colour tyre = { 0.07, 0.07, 0.08 };
    fill_rect(s, x0 + width * 0.06, y - height * 0.25, x0 + width * 0.28, y, tyre, 0.01,
              NN_CITY_VEHICLE);
    fill_rect(s, x1 - width * 0.28, y - height * 0.25, x1 - width * 0.06, y, tyre, 0.01,
              NN_CITY_VEHICLE);
    double cabin_inset = truck ? 0.0 : width * uniform(s, 0.12, 0.22);
    fill_rect(s, x0, y - height * 0.6, x1, y - height * 0.15, body, 0.01, NN_CITY_VEHICLE);
    fill_rect(s, x0 + cabin_inset, y - height, x1 - cabin_inset, y - height * 0.6, body, 0.01,
              NN_CITY_VEHICLE);
    colour window = jitter(s, (colour){ 0.20, 0.25, 0.32 }, 0.06, 0.02);
    double pillar = fmax(0.5, width * 0.06);
    fill_rect(s, x0 + cabin_inset + pillar, y - height * 0.92, x1 - cabin_inset - pillar,
              y - height * (truck ? 0.75 : 0.62), window, 0.01, NN_CITY_VEHICLE);
    if (chance(s, 0.6)) { /* rear lights */
        colour light = { 0.95, 0.15, 0.1 };
        double lw = fmax(0.6, width * 0.1);
        fill_rect(s, x0, y - height * 0.5, x0 + lw, y - height * 0.38, light, 0.0, NN_CITY_VEHICLE);
        fill_rect(s, x1 - lw, y - height * 0.5, x1, y - height * 0.38, light, 0.0, NN_CITY_VEHICLE);
    }
}

/* Trees, bushes and poles stand beside the road, vehicles on it. */
static int place_props(scene *s, prop *props)
{
    int n = 0;
    int green = (int)nn_rng_below(s->rng, 7);
    for (int k = 0; k < green; k++) {
        prop *p = &props[n++];
        p->kind = chance(s, 0.6) ? PROP_TREE : PROP_BUSH;
        p->base = s->horizon + (s->size - s->horizon) * uniform(s, 0.05, 0.95);
        double margin = s->size * uniform(s, 0.03, 0.35);
        p->x = chance(s, 0.5) ? road_left(s, p->base) - margin : road_right(s, p->base) + margin;
    }
    int poles = (int)nn_rng_below(s->rng, 3);
    for (int k = 0; k < poles; k++) {
        prop *p = &props[n++];
        p->kind = PROP_POLE;
        p->base = s->horizon + (s->size - s->horizon) * uniform(s, 0.1, 0.9);
        double margin = s->size * uniform(s, 0.01, 0.06);
        p->x = chance(s, 0.5) ? road_left(s, p->base) - margin : road_right(s, p->base) + margin;
    }
    int vehicles = chance(s, 0.1) ? 0 : 1 + (int)nn_rng_below(s->rng, 4);
    for (int k = 0; k < vehicles; k++) {
        prop *p = &props[n++];
        p->kind = PROP_VEHICLE;
        p->base = s->horizon + (s->size - s->horizon) * uniform(s, 0.15, 1.05);
        double left = road_left(s, p->base), right = road_right(s, p->base);
        p->x = uniform(s, left + 0.25 * (right - left), right - 0.25 * (right - left));
    }
    /* Far to near (insertion sort: stable, so ties keep their draw order). */
    for (int i = 1; i < n; i++) {
        prop key = props[i];
        int j = i - 1;
        while (j >= 0 && props[j].base > key.base) {
            props[j + 1] = props[j];
            j--;
        }
        props[j + 1] = key;
    }
    return n;
}

/* Lighting and sensor noise over the finished painting, then the stored
 * image: brightness b, tint t_c and noise e ~ N(0, sigma^2) give
 * clamp(b * v + t_c + e, 0, 1) per channel c. */
static void develop(scene *s, nn_real *image)
{
    double brightness = uniform(s, 0.75, 1.15);
    double tint[3];
    for (int c = 0; c < 3; c++)
        tint[c] = uniform(s, -0.04, 0.04);
    double sigma = uniform(s, 0.015, 0.05);
    size_t plane = (size_t)s->size * (size_t)s->size;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            double v = brightness * s->rgb[c * plane + i] + tint[c] + sigma * nn_rng_normal(s->rng);
            image[c * plane + i] = (nn_real)fmin(1.0, fmax(0.0, v));
        }
}

static void paint_scene(scene *s, nn_real *image, int *labels)
{
    s->labels = labels;
    s->horizon = s->size * uniform(s, 0.28, 0.55);
    s->vanish_x = s->size * uniform(s, 0.3, 0.7);
    s->top_half_width = s->size * uniform(s, 0.01, 0.05);
    s->bottom_left = s->size * uniform(s, -0.35, 0.2);
    s->bottom_right = s->size * uniform(s, 0.8, 1.35);

    paint_sky(s);
    paint_ground(s);
    paint_skyline(s);
    for (int side = 0; side < 2; side++)
        if (chance(s, 0.35))
            paint_facade(s, side);
    paint_road(s);

    prop props[MAX_PROPS];
    int n = place_props(s, props);
    for (int i = 0; i < n; i++) {
        switch (props[i].kind) {
        case PROP_TREE: paint_tree(s, &props[i]); break;
        case PROP_BUSH: paint_bush(s, &props[i]); break;
        case PROP_POLE: paint_pole(s, &props[i]); break;
        case PROP_VEHICLE: paint_vehicle(s, &props[i]); break;
        }
    }
    develop(s, image);
}

nn_status nn_synthetic_city_streets(nn_dataset **out, nn_rng *rng, size_t count, size_t size,
                                    nn_error *err)
{
    *out = NULL;
    if (rng == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "city streets: the generator is NULL");
    if (size < NN_CITY_MIN_SIZE || size > NN_CITY_MAX_SIZE)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "city streets: image size %zu, need between %d and %d pixels",
                            size, NN_CITY_MIN_SIZE, NN_CITY_MAX_SIZE);
    size_t pixels = size * size;
    if (count == 0 || count > SIZE_MAX / (3 * pixels * sizeof(double)))
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "city streets: %zu images, need between 1 and what fits in memory",
                            count);
    nn_shape shape = nn_shape_3d(3, size, size);
    nn_status status = nn_dataset_new(out, "city_streets", count, &shape, NN_TARGET_MAP, pixels,
                                      NN_CITY_CLASS_COUNT, err);
    if (status != NN_OK)
        return status;
    scene s = { .size = (int)size, .rng = rng };
    s.rgb = malloc(3 * pixels * sizeof *s.rgb);
    if (s.rgb == NULL) {
        nn_dataset_free(*out);
        *out = NULL;
        return nn_error_set(err, NN_ERR_MEMORY, "city streets: out of memory for a %zux%zu canvas",
                            size, size);
    }
    for (size_t i = 0; i < count; i++)
        paint_scene(&s, (*out)->inputs + i * 3 * pixels, (*out)->labels + i * pixels);
    free(s.rgb);
    return NN_OK;
}

/* ---- PPM output --------------------------------------------------------- */

static nn_status write_ppm(const char *path, const unsigned char *rgb, size_t width,
                           size_t height, nn_error *err)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL)
        return nn_error_set(err, NN_ERR_IO, "%s: cannot open for writing: %s", path,
                            strerror(errno));
    fprintf(file, "P6\n%zu %zu\n255\n", width, height);
    size_t written = fwrite(rgb, 1, 3 * width * height, file);
    bool failed = written != 3 * width * height || ferror(file);
    if (fclose(file) != 0)
        failed = true;
    if (failed)
        return nn_error_set(err, NN_ERR_IO, "%s: write failed", path);
    return NN_OK;
}

nn_status nn_synthetic_city_write_ppm(const nn_dataset *dataset, size_t index,
                                      const char *image_path, const char *label_path,
                                      nn_error *err)
{
    if (dataset == NULL)
        return nn_error_set(err, NN_ERR_ARGUMENT, "writing PPM: the dataset is NULL");
    const nn_shape *shape = &dataset->sample_shape;
    if (shape->rank != 3 || shape->dims[0] != 3 || dataset->target_kind != NN_TARGET_MAP ||
        dataset->target_size != shape->dims[1] * shape->dims[2])
        return nn_error_set(err, NN_ERR_SHAPE,
                            "writing PPM: dataset %s is not RGB images (3, H, W) with a label "
                            "per pixel",
                            dataset->name);
    if (index >= dataset->count)
        return nn_error_set(err, NN_ERR_ARGUMENT,
                            "writing PPM: sample %zu of dataset %s, which has %zu", index,
                            dataset->name, dataset->count);
    size_t height = shape->dims[1], width = shape->dims[2], pixels = height * width;
    unsigned char *bytes = malloc(3 * pixels);
    if (bytes == NULL)
        return nn_error_set(err, NN_ERR_MEMORY, "writing PPM: out of memory");
    nn_status status = NN_OK;
    if (image_path != NULL) {
        const nn_real *image = dataset->inputs + index * dataset->sample_size;
        for (size_t p = 0; p < pixels; p++)
            for (size_t c = 0; c < 3; c++) {
                double v = fmin(1.0, fmax(0.0, (double)image[c * pixels + p]));
                bytes[3 * p + c] = (unsigned char)lround(v * 255.0);
            }
        status = write_ppm(image_path, bytes, width, height, err);
    }
    if (status == NN_OK && label_path != NULL) {
        const int *labels = dataset->labels + index * pixels;
        for (size_t p = 0; p < pixels && status == NN_OK; p++)
            if (!nn_synthetic_city_class_colour(bytes + 3 * p, labels[p]))
                status = nn_error_set(err, NN_ERR_FORMAT,
                                      "writing PPM: label %d at pixel %zu of sample %zu has no "
                                      "colour (classes are 0 to %d)",
                                      labels[p], p, index, NN_CITY_CLASS_COUNT - 1);
        if (status == NN_OK)
            status = write_ppm(label_path, bytes, width, height, err);
    }
    free(bytes);
    return status;
}
