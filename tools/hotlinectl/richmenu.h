/*
 * richmenu — `hotlinectl richmenu`: render, validate, publish and switch the
 * rich menu sets (docs/richmenu.md).  Plain text for a person at a terminal:
 * errors to stderr; exit 0, 1 on failure, 2 on bad usage.
 */
#ifndef HL_CTL_RICHMENU_H
#define HL_CTL_RICHMENU_H

/* argv[0] is "richmenu"; conf_arg is -c's value (NULL for the default).
 * render and validate need no configuration file. */
int richmenu_main(const char *conf_arg, int argc, char **argv);

#endif
