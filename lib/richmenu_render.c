/*
 * richmenu_render — Cairo + Pango drawing of rich menu tabs; see
 * richmenu_render.h.
 *
 * Sizes scale with the image width (2500 px is LINE's large template), so
 * the same layout drawn at 1200 px looks the same, smaller.  Text fitting is
 * one function used by both the check and the drawing, so what validates is
 * what is drawn.
 */
#include "richmenu_render.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

/* Text sizes in pixels at 2500 px width. */
#define LABEL_START   96.0 /* a short label's size */
#define LABEL_MIN     40.0 /* smaller is not readable on a phone */
#define TAB_START     76.0
#define TAB_MIN	      36.0
#define LINES_MAX     3
#define SHRINK	      0.92
#define NOWRAP_SHRINK 0.7
#define PI	      3.14159265358979323846

static double dmin(double a, double b)
{
	return a < b ? a : b;
}

struct buf {
	unsigned char *p;
	size_t len, cap;
	bool over;
};

static cairo_status_t buf_write(void *closure, const unsigned char *data, unsigned int n)
{
	struct buf *b = closure;

	if (b->over || n > RICHMENU_IMAGE_MAX * 4 - b->len) {
		b->over = true;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap == 0 ? 65536 : b->cap;
		unsigned char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL)
			return CAIRO_STATUS_NO_MEMORY;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return CAIRO_STATUS_SUCCESS;
}

static void set_color(cairo_t *cr, struct richmenu_color c)
{
	cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
}

/* --- text --------------------------------------------------------------------- */

/* One size: does the layout fit w×h in at most LINES_MAX lines? */
static bool fits_at(PangoLayout *pl, PangoFontDescription *fd, double size, double w, double h)
{
	PangoRectangle ink, logical;

	pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
	pango_layout_set_font_description(pl, fd);
	pango_layout_get_pixel_extents(pl, &ink, &logical);
	return logical.height <= h && logical.width <= w &&
	       pango_layout_get_line_count(pl) <= LINES_MAX;
}

/* Lay text out in a box w×h (pixels): true with the layout set up (font,
 * width, wrapping) when it fits.  First the text's own lines (explicit
 * newlines only) shrunk to NOWRAP_SHRINK of start, so that a word is not
 * broken while a slightly smaller size keeps it whole; then wrapped
 * (between words, or characters in Japanese), from start down to min. */
static bool fit_text(PangoLayout *pl, const char *text, double w, double h, double start,
		     double min, const char **why)
{
	PangoFontDescription *fd = pango_font_description_from_string(RICHMENU_FONT " Bold");
	double size, floor_nowrap = start * NOWRAP_SHRINK;
	bool fits = false;

	*why = "does not fit its area even at the smallest size; shorten it or make the area "
	       "larger";
	if (fd == NULL) {
		*why = "out of memory";
		return false;
	}
	pango_layout_set_text(pl, text, -1);
	pango_layout_set_alignment(pl, PANGO_ALIGN_CENTER);
	pango_layout_set_width(pl, -1);
	for (size = start; size >= floor_nowrap && !fits; size *= SHRINK)
		fits = fits_at(pl, fd, size, w, h);
	if (!fits) {
		pango_layout_set_wrap(pl, PANGO_WRAP_WORD_CHAR);
		pango_layout_set_width(pl, (int)(w * PANGO_SCALE));
		for (size = start; size >= min && !fits; size *= SHRINK)
			fits = fits_at(pl, fd, size, w, h);
		/* The smallest size itself, when the steps jumped past it. */
		if (!fits)
			fits = fits_at(pl, fd, min, w, h);
	}
	if (fits && pango_layout_get_unknown_glyphs_count(pl) > 0) {
		*why = "has characters the font (" RICHMENU_FONT ") does not have; is "
		       "fonts-noto-cjk installed?";
		fits = false;
	}
	pango_font_description_free(fd);
	return fits;
}

/* The boxes of one area: the tile (inset by half the gap), the icon's
 * square and the label's box. */
struct boxes {
	double x, y, w, h;     /* tile */
	double ix, iy, is;     /* icon square, is = 0 without icon */
	double lx, ly, lw, lh; /* label */
	double radius;
};

static void area_boxes(const struct richmenu_area *a, int gap, double scale, struct boxes *b)
{
	double pad;

	b->x = a->x + gap / 2.0;
	b->y = a->y + gap / 2.0;
	b->w = a->width - gap;
	b->h = a->height - gap;
	b->radius = dmin(24.0 * scale, dmin(b->w, b->h) / 6);
	pad = dmin(b->w, b->h) * 0.08;
	b->lx = b->x + pad;
	b->lw = b->w - 2 * pad;
	if (a->icon != RICHMENU_ICON_NONE) {
		b->is = dmin(b->h * 0.42, b->w * 0.5);
		b->ix = b->x + (b->w - b->is) / 2;
		b->iy = b->y + pad;
		b->ly = b->iy + b->is + pad * 0.5;
		b->lh = b->y + b->h - pad - b->ly;
	} else {
		b->is = 0;
		b->ly = b->y + pad;
		b->lh = b->h - 2 * pad;
	}
}

/* --- icons: simple shapes in a unit square, filled with the text colour -------- */

static void icon_shelter(cairo_t *cr, struct richmenu_color bg)
{
	cairo_move_to(cr, 0.5, 0.05);
	cairo_line_to(cr, 0.97, 0.45);
	cairo_line_to(cr, 0.85, 0.45);
	cairo_line_to(cr, 0.85, 0.95);
	cairo_line_to(cr, 0.15, 0.95);
	cairo_line_to(cr, 0.15, 0.45);
	cairo_line_to(cr, 0.03, 0.45);
	cairo_close_path(cr);
	cairo_fill(cr);
	set_color(cr, bg);
	cairo_rectangle(cr, 0.4, 0.6, 0.2, 0.35);
	cairo_fill(cr);
}

static void icon_warning(cairo_t *cr, struct richmenu_color bg)
{
	cairo_move_to(cr, 0.5, 0.05);
	cairo_line_to(cr, 0.97, 0.92);
	cairo_line_to(cr, 0.03, 0.92);
	cairo_close_path(cr);
	cairo_fill(cr);
	set_color(cr, bg);
	cairo_rectangle(cr, 0.45, 0.33, 0.1, 0.32);
	cairo_fill(cr);
	cairo_arc(cr, 0.5, 0.77, 0.06, 0, 2 * PI);
	cairo_fill(cr);
}

static void icon_info(cairo_t *cr, struct richmenu_color bg)
{
	cairo_arc(cr, 0.5, 0.5, 0.46, 0, 2 * PI);
	cairo_fill(cr);
	set_color(cr, bg);
	cairo_arc(cr, 0.5, 0.27, 0.07, 0, 2 * PI);
	cairo_fill(cr);
	cairo_rectangle(cr, 0.44, 0.41, 0.12, 0.36);
	cairo_fill(cr);
}

static void icon_phone(cairo_t *cr, struct richmenu_color bg)
{
	cairo_rectangle(cr, 0.27, 0.03, 0.46, 0.94);
	cairo_fill(cr);
	set_color(cr, bg);
	cairo_rectangle(cr, 0.33, 0.13, 0.34, 0.62);
	cairo_fill(cr);
	cairo_arc(cr, 0.5, 0.85, 0.06, 0, 2 * PI);
	cairo_fill(cr);
}

static void icon_map(cairo_t *cr, struct richmenu_color bg)
{
	cairo_arc(cr, 0.5, 0.38, 0.33, PI * 0.85, PI * 2.15);
	cairo_line_to(cr, 0.5, 0.97);
	cairo_close_path(cr);
	cairo_fill(cr);
	set_color(cr, bg);
	cairo_arc(cr, 0.5, 0.38, 0.13, 0, 2 * PI);
	cairo_fill(cr);
}

static void icon_calendar(cairo_t *cr, struct richmenu_color fg, struct richmenu_color bg)
{
	int r, c;

	cairo_rectangle(cr, 0.05, 0.12, 0.9, 0.83);
	cairo_fill(cr);
	set_color(cr, bg);
	cairo_rectangle(cr, 0.12, 0.35, 0.76, 0.53);
	cairo_fill(cr);
	set_color(cr, fg);
	cairo_rectangle(cr, 0.25, 0.02, 0.09, 0.2);
	cairo_rectangle(cr, 0.66, 0.02, 0.09, 0.2);
	for (r = 0; r < 3; r++)
		for (c = 0; c < 4; c++)
			cairo_rectangle(cr, 0.17 + c * 0.18, 0.41 + r * 0.16, 0.1, 0.09);
	cairo_fill(cr);
}

static void icon_mail(cairo_t *cr, struct richmenu_color bg)
{
	cairo_rectangle(cr, 0.03, 0.18, 0.94, 0.64);
	cairo_fill(cr);
	set_color(cr, bg);
	cairo_set_line_width(cr, 0.07);
	cairo_move_to(cr, 0.08, 0.24);
	cairo_line_to(cr, 0.5, 0.56);
	cairo_line_to(cr, 0.92, 0.24);
	cairo_stroke(cr);
}

static void icon_bell(cairo_t *cr, struct richmenu_color bg)
{
	(void)bg;
	cairo_arc(cr, 0.5, 0.4, 0.3, PI, 2 * PI);
	cairo_line_to(cr, 0.8, 0.66);
	cairo_line_to(cr, 0.93, 0.8);
	cairo_line_to(cr, 0.07, 0.8);
	cairo_line_to(cr, 0.2, 0.66);
	cairo_close_path(cr);
	cairo_fill(cr);
	cairo_arc(cr, 0.5, 0.88, 0.09, 0, 2 * PI);
	cairo_fill(cr);
	cairo_arc(cr, 0.5, 0.08, 0.06, 0, 2 * PI);
	cairo_fill(cr);
}

static void icon_star(cairo_t *cr, struct richmenu_color bg)
{
	/* A five-pointed star: outer radius 0.48, inner 0.2 (no libm needed). */
	static const double pts[10][2] = {
		{0.5000, 0.0400}, {0.6176, 0.3582}, {0.9565, 0.3717}, {0.6902, 0.5818},
		{0.7821, 0.9083}, {0.5000, 0.7200}, {0.2179, 0.9083}, {0.3098, 0.5818},
		{0.0435, 0.3717}, {0.3824, 0.3582},
	};
	int k;

	(void)bg;
	cairo_move_to(cr, pts[0][0], pts[0][1]);
	for (k = 1; k < 10; k++)
		cairo_line_to(cr, pts[k][0], pts[k][1]);
	cairo_close_path(cr);
	cairo_fill(cr);
}

static void icon_settings(cairo_t *cr, struct richmenu_color bg)
{
	int k;

	for (k = 0; k < 8; k++) {
		cairo_save(cr);
		cairo_translate(cr, 0.5, 0.5);
		cairo_rotate(cr, k * PI / 4);
		cairo_rectangle(cr, -0.09, -0.48, 0.18, 0.2);
		cairo_fill(cr);
		cairo_restore(cr);
	}
	cairo_arc(cr, 0.5, 0.5, 0.33, 0, 2 * PI);
	cairo_fill(cr);
	set_color(cr, bg);
	cairo_arc(cr, 0.5, 0.5, 0.13, 0, 2 * PI);
	cairo_fill(cr);
}

static void draw_icon(cairo_t *cr, enum richmenu_icon icon, double x, double y, double s,
		      struct richmenu_color fg, struct richmenu_color bg)
{
	cairo_save(cr);
	cairo_translate(cr, x, y);
	cairo_scale(cr, s, s);
	set_color(cr, fg);
	cairo_save(cr);
	switch (icon) {
	case RICHMENU_ICON_NONE:
		break;
	case RICHMENU_ICON_SHELTER:
		icon_shelter(cr, bg);
		break;
	case RICHMENU_ICON_WARNING:
		icon_warning(cr, bg);
		break;
	case RICHMENU_ICON_INFO:
		icon_info(cr, bg);
		break;
	case RICHMENU_ICON_PHONE:
		icon_phone(cr, bg);
		break;
	case RICHMENU_ICON_MAP:
		icon_map(cr, bg);
		break;
	case RICHMENU_ICON_CALENDAR:
		icon_calendar(cr, fg, bg);
		break;
	case RICHMENU_ICON_MAIL:
		icon_mail(cr, bg);
		break;
	case RICHMENU_ICON_BELL:
		icon_bell(cr, bg);
		break;
	case RICHMENU_ICON_STAR:
		icon_star(cr, bg);
		break;
	case RICHMENU_ICON_SETTINGS:
		icon_settings(cr, bg);
		break;
	}
	cairo_restore(cr);
	cairo_restore(cr);
}

/* --- tabs ---------------------------------------------------------------------- */

static void rounded(cairo_t *cr, double x, double y, double w, double h, double r)
{
	cairo_new_sub_path(cr);
	cairo_arc(cr, x + w - r, y + r, r, -PI / 2, 0);
	cairo_arc(cr, x + w - r, y + h - r, r, 0, PI / 2);
	cairo_arc(cr, x + r, y + h - r, r, PI / 2, PI);
	cairo_arc(cr, x + r, y + r, r, PI, 3 * PI / 2);
	cairo_close_path(cr);
}

/* Draw text laid out in pl centred in the box (x, y, w, h). */
static void show_text(cairo_t *cr, PangoLayout *pl, double x, double y, double w, double h,
		      struct richmenu_color c)
{
	PangoRectangle ink, logical;

	pango_layout_get_pixel_extents(pl, &ink, &logical);
	set_color(cr, c);
	cairo_move_to(cr, x + (w - logical.width) / 2.0 - logical.x,
		      y + (h - logical.height) / 2.0 - logical.y);
	pango_cairo_show_layout(cr, pl);
}

/* Draw (cr non-NULL) or only check (cr NULL, pl from a scratch context) tab t. */
static int do_tab(const struct richmenu_layout *l, size_t t, cairo_t *cr, PangoLayout *pl,
		  char *err, size_t errlen)
{
	const struct richmenu_tab *tab = richmenu_layout_tab(l, t);
	struct richmenu_color bar_bg, bar_fg, act_bg, act_fg;
	int w, h, bar = richmenu_layout_tab_bar(l, &bar_bg, &bar_fg, &act_bg, &act_fg);
	double scale;
	const char *why;
	size_t k;

	richmenu_layout_size(l, &w, &h);
	scale = w / 2500.0;
	if (cr != NULL) {
		set_color(cr, tab->background);
		cairo_paint(cr);
	}
	if (bar > 0) {
		for (k = 0; k < richmenu_layout_tabs(l); k++) {
			const struct richmenu_tab *o = richmenu_layout_tab(l, k);
			int x, sw;
			double pad = 16 * scale;

			richmenu_layout_tab_segment(l, k, &x, &sw);
			if (!fit_text(pl, o->title, sw - 2 * pad, bar - 2 * pad, TAB_START * scale,
				      TAB_MIN * scale, &why)) {
				str_msg(err, errlen, "%s: tabs[%zu].title: %s",
					richmenu_layout_name(l), k, why);
				return -1;
			}
			if (cr == NULL)
				continue;
			set_color(cr, k == t ? act_bg : bar_bg);
			cairo_rectangle(cr, x, 0, sw, bar);
			cairo_fill(cr);
			if (k > 0) {
				set_color(cr, act_bg);
				cairo_rectangle(cr, x - scale, 0, 2 * scale, bar);
				cairo_fill(cr);
			}
			show_text(cr, pl, x + pad, pad, sw - 2 * pad, bar - 2 * pad,
				  k == t ? act_fg : bar_fg);
		}
		if (cr != NULL) {
			/* The active tab's colour as a rule under the bar. */
			set_color(cr, act_bg);
			cairo_rectangle(cr, 0, bar - 8 * scale, w, 8 * scale);
			cairo_fill(cr);
		}
	}
	for (k = 0; k < tab->n_areas; k++) {
		const struct richmenu_area *a = &tab->areas[k];
		struct boxes b;

		area_boxes(a, tab->gap, scale, &b);
		if (!fit_text(pl, a->label, b.lw, b.lh, LABEL_START * scale, LABEL_MIN * scale,
			      &why)) {
			str_msg(err, errlen, "%s: tabs[%zu].areas[%zu].label: %s",
				richmenu_layout_name(l), t, k, why);
			return -1;
		}
		if (cr == NULL)
			continue;
		set_color(cr, a->background);
		rounded(cr, b.x, b.y, b.w, b.h, b.radius);
		cairo_fill(cr);
		if (b.is > 0)
			draw_icon(cr, a->icon, b.ix, b.iy, b.is, a->color, a->background);
		show_text(cr, pl, b.lx, b.ly, b.lw, b.lh, a->color);
	}
	return 0;
}

enum kind { PNG, SVG };

static int render(const struct richmenu_layout *l, size_t t, enum kind kind, unsigned char **out,
		  size_t *len, char *err, size_t errlen)
{
	struct buf b = {NULL, 0, 0, false};
	cairo_surface_t *s = NULL;
	cairo_t *cr = NULL;
	PangoLayout *pl = NULL;
	cairo_status_t st;
	int w, h, rc = -1;

	*out = NULL;
	*len = 0;
	if (richmenu_layout_tab(l, t) == NULL) {
		str_msg(err, errlen, "%s: no tab %zu", richmenu_layout_name(l), t + 1);
		return -1;
	}
	richmenu_layout_size(l, &w, &h);
	if (kind == PNG)
		s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	else
		s = cairo_svg_surface_create_for_stream(buf_write, &b, w, h);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
		goto cairo_failed;
	if (kind == SVG)
		cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_PX);
	cr = cairo_create(s);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
		goto cairo_failed;
	pl = pango_cairo_create_layout(cr);
	if (pl == NULL)
		goto cairo_failed;
	if (do_tab(l, t, cr, pl, err, errlen) != 0)
		goto fail;
	cairo_surface_flush(s);
	if (kind == PNG) {
		st = cairo_surface_write_to_png_stream(s, buf_write, &b);
		if (st != CAIRO_STATUS_SUCCESS)
			goto cairo_failed;
	} else {
		cairo_surface_finish(s); /* writes the document */
		if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
			goto cairo_failed;
	}
	if (b.over || (kind == PNG && b.len > RICHMENU_IMAGE_MAX)) {
		str_msg(err, errlen,
			"%s: tabs[%zu]: the image is larger than LINE's limit of %d bytes; use "
			"fewer colours or simpler icons",
			richmenu_layout_name(l), t, RICHMENU_IMAGE_MAX);
		goto fail;
	}
	*out = b.p;
	*len = b.len;
	b.p = NULL;
	rc = 0;
	goto fail;

cairo_failed:
	str_msg(err, errlen, "%s: tabs[%zu]: drawing failed: %s", richmenu_layout_name(l), t,
		cairo_status_to_string(cr != NULL ? cairo_status(cr) : cairo_surface_status(s)));
fail:
	if (pl != NULL)
		g_object_unref(pl);
	if (cr != NULL)
		cairo_destroy(cr);
	if (s != NULL)
		cairo_surface_destroy(s);
	free(b.p);
	return rc;
}

int richmenu_render_png(const struct richmenu_layout *l, size_t tab, unsigned char **out,
			size_t *len, char *err, size_t errlen)
{
	return render(l, tab, PNG, out, len, err, errlen);
}

int richmenu_render_svg(const struct richmenu_layout *l, size_t tab, unsigned char **out,
			size_t *len, char *err, size_t errlen)
{
	return render(l, tab, SVG, out, len, err, errlen);
}

int richmenu_render_check(const struct richmenu_layout *l, char *err, size_t errlen)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
	cairo_t *cr = cairo_create(s);
	PangoLayout *pl = pango_cairo_create_layout(cr);
	size_t t;
	int rc = 0;

	if (pl == NULL) {
		str_msg(err, errlen, "%s: out of memory", richmenu_layout_name(l));
		rc = -1;
	}
	for (t = 0; rc == 0 && t < richmenu_layout_tabs(l); t++)
		rc = do_tab(l, t, NULL, pl, err, errlen);
	if (pl != NULL)
		g_object_unref(pl);
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	return rc;
}
