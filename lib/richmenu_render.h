/*
 * richmenu_render — draw a rich menu tab's image from its layout (lib/richmenu)
 * with Cairo and Pango: the tab bar across the top, then each area as a
 * coloured tile with an optional icon (simple vector shapes drawn here) and
 * its label.  Labels use Noto Sans CJK JP (Debian fonts-noto-cjk) and are
 * shrunk and wrapped until they fit their tile; a label that cannot fit at
 * the smallest readable size is an error, never drawn overflowing.
 *
 * Output: PNG for LINE (exactly the layout's size, at most
 * RICHMENU_IMAGE_MAX bytes, as LINE requires) or SVG for designers.
 *
 * Ownership: *out is malloc'd and the caller frees it.  Errors: -1 with
 * "FILE: where: what is wrong" in err.  Pango's font map is process-wide
 * (fontconfig), so the first call costs the font scan.
 */
#ifndef HL_RICHMENU_RENDER_H
#define HL_RICHMENU_RENDER_H

#include <stddef.h>

#include "richmenu.h"

/* LINE's limit on a rich menu image. */
#define RICHMENU_IMAGE_MAX (1024 * 1024)
/* The font asked of fontconfig. */
#define RICHMENU_FONT "Noto Sans CJK JP"

/* Tab i (0-based) as PNG bytes. */
int richmenu_render_png(const struct richmenu_layout *l, size_t tab, unsigned char **out,
			size_t *len, char *err, size_t errlen);
/* Tab i as an SVG document. */
int richmenu_render_svg(const struct richmenu_layout *l, size_t tab, unsigned char **out,
			size_t *len, char *err, size_t errlen);
/* Lay out every label of every tab as rendering would, without drawing:
 * 0 when all fit (and the font has every character), else -1 and why. */
int richmenu_render_check(const struct richmenu_layout *l, char *err, size_t errlen);

#endif
